// HyperwordSurprisalScoring — the base model's side of the `hyperwords` kind's `surprisal` ranking
// (Stages' TokenSurprisalScoring): the surprisal of every token of the training text in context,
// −ln p(id_t | the ids before it) in nats, which Tokenizers' HyperwordSurprisal turns into the weights
// candidate merges are ranked by.
//
// Each sequence is cut into windows of at most `score_seq_len` ids that overlap by one id, so every id
// after a sequence's first is predicted exactly once (as eval scores held-out text); windows are
// batched longest first and padded on the right, where causal attention leaves the real positions as
// they are.
import Foundation
import LLM
import Pipeline
import Stages
import Torch

struct HyperwordSurprisalScoring: TokenSurprisalScoring {
    func surprisal(
        of sequences: [[Int]], modelDirectory: URL, vocabularySize: Int, parameters: HyperwordsStage.Parameters, context: StageContext
    ) throws -> [[Float]] {
        let device = try ModelLoading.device(parameters.device, log: context.log)
        let model = try loadCausalLM(from: modelDirectory, device: device)
        guard model.config.vocabSize == vocabularySize else {
            throw UpstreamError(
                "\(modelDirectory.path): the base model has vocab_size \(model.config.vocabSize) but the base tokenizer \(vocabularySize) tokens: ranking by surprisal needs the model the tokenizer belongs to")
        }
        return try TokenSurprisal.compute(
            model: model, sequences: sequences, windowLength: parameters.scoreSeqLen, batchSize: parameters.scoreBatchSize
        ) { done, total in
            try context.checkCancellation()
            context.progress.report(step: done, total: total, message: "scoring the training text with the base model (windows)")
        }
    }
}

/// Per-token surprisal of token sequences under a causal LM.
enum TokenSurprisal {
    /// Ids `start..<start + count` of sequence `sequence`.
    struct Window: Equatable {
        let sequence: Int
        let start: Int
        let count: Int
    }

    /// Windows of at most `length` ids over sequences of `lengths`, overlapping by one id, in sequence
    /// order; a sequence of fewer than 2 ids has none.
    static func windows(lengths: [Int], length: Int) -> [Window] {
        var windows: [Window] = []
        for (sequence, count) in lengths.enumerated() where count >= 2 {
            var start = 0
            while start < count - 1 {
                let end = min(start + length, count)
                windows.append(Window(sequence: sequence, start: start, count: end - start))
                start = end - 1
            }
        }
        return windows
    }

    /// −ln p (nats) of every id of each sequence given the ids before it in its window of at most
    /// `windowLength` ids (NaN for each sequence's first id); `progress` gets (windows done, windows).
    static func compute(
        model: any CausalLanguageModel, sequences: [[Int]], windowLength: Int, batchSize: Int,
        progress: (Int, Int) throws -> Void = { _, _ in }
    ) throws -> [[Float]] {
        guard windowLength >= 2, batchSize >= 1 else {
            throw ModelError("surprisal needs windows of at least 2 ids and batches of at least 1, got \(windowLength) and \(batchSize)")
        }
        var result = sequences.map { [Float](repeating: .nan, count: $0.count) }
        // Longest first, so that a batch holds windows of one length and pads little.
        let windows = windows(lengths: sequences.map(\.count), length: windowLength).enumerated()
            .sorted { ($0.element.count, -$0.offset) > ($1.element.count, -$1.offset) }.map(\.element)
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        try withNoGrad {
            for batchStart in stride(from: 0, to: windows.count, by: batchSize) {
                let batch = windows[batchStart..<min(batchStart + batchSize, windows.count)]
                let width = batch.map(\.count).max()!
                var ids: [Int64] = []
                var targets: [Int64] = []
                for window in batch {
                    let sequence = sequences[window.sequence]
                    let padding = width - window.count
                    ids += sequence[window.start..<window.start + window.count].map(Int64.init) + Array(repeating: 0, count: padding)
                    targets += sequence[window.start + 1..<window.start + window.count].map(Int64.init) + Array(repeating: -100, count: padding)
                }
                let logits = try model.logits(tokens: Tensor(ids, shape: [batch.count, width]))  // (B, T, V)
                let predicting = try logits.narrow(dim: 1, start: 0, length: width - 1).reshape([batch.count * (width - 1), model.config.vocabSize])
                let losses = try predicting.crossEntropy(targets: Tensor(targets).to(model.device), reduction: .none)
                    .to(.cpu).toArray(Float.self)  // (B·(T−1)): 0 at padding
                for (row, window) in batch.enumerated() {
                    for offset in 1..<window.count {
                        result[window.sequence][window.start + offset] = losses[row * (width - 1) + offset - 1]
                    }
                }
                try progress(batchStart + batch.count, windows.count)
            }
        }
        return result
    }
}
