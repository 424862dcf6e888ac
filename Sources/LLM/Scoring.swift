// Scoring — how well a model predicts given token sequences: mean next-token loss (nats), the number of
// predicted tokens, bits per token and perplexity. Sequences of different lengths are padded on the
// right in batches; padded positions are not counted.
import Foundation
import Torch

public struct ScoreResult: Sendable, Equatable, Codable {
    /// Mean cross-entropy per predicted token, in nats.
    public var meanLoss: Double
    /// Predicted tokens: Σ (length − 1) over the sequences.
    public var tokens: Int
    public var sequences: Int

    public var bitsPerToken: Double { meanLoss / log(2) }
    public var perplexity: Double { exp(meanLoss) }
}

extension DecoderModel {
    /// Scores `sequences` (each at least 2 ids), `batchSize` sequences per forward pass, without gradients
    /// and with dropout off.
    public func score(sequences: [[Int]], batchSize: Int = 8) throws -> ScoreResult {
        guard batchSize > 0 else { throw ModelError("batch size must be positive, got \(batchSize)") }
        if let index = sequences.firstIndex(where: { $0.count < 2 }) {
            throw ModelError("sequence \(index) has \(sequences[index].count) token(s); scoring needs at least 2")
        }
        guard !sequences.isEmpty else { throw ModelError("nothing to score: no sequences") }
        let wasTraining = isTraining
        isTraining = false
        defer { isTraining = wasTraining }
        var total = 0.0
        var counted = 0
        try withNoGrad {
            for start in stride(from: 0, to: sequences.count, by: batchSize) {
                let batch = sequences[start..<min(start + batchSize, sequences.count)]
                let length = batch.map(\.count).max()!
                var ids: [Int64] = []
                var labels: [Int64] = []
                for sequence in batch {
                    let padding = length - sequence.count
                    ids += sequence.map { Int64($0) } + Array(repeating: 0, count: padding)
                    labels += sequence.map { Int64($0) } + Array(repeating: -100, count: padding)
                }
                let shape = [batch.count, length]
                let sum = try loss(tokens: Tensor(ids, shape: shape), labels: Tensor(labels, shape: shape), reduction: .sum)
                total += try sum.scalar(Double.self)
                counted += batch.reduce(0) { $0 + $1.count - 1 }
            }
        }
        return ScoreResult(meanLoss: total / Double(counted), tokens: counted, sequences: sequences.count)
    }
}
