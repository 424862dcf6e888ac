// TokenPacking — a token stream cut into training sequences: documents joined with an end-of-sequence
// separator, concatenated and split into consecutive, non-overlapping windows of `sequenceLength`
// tokens (Hugging Face's `group_texts`); the tail shorter than one window is dropped. Each window is one
// row of a batch; the model predicts its tokens 1..<L from 0..<L-1.
import Foundation
import LoomCore
import Torch

public struct PackedTokens: Sendable {
    public enum PackingError: Error, CustomStringConvertible, Equatable {
        case sequenceLengthTooShort(Int)
        case tooFewTokens(name: String, tokens: Int, sequenceLength: Int)
        case tokenOutOfRange(name: String, position: Int, token: Int)

        public var description: String {
            switch self {
            case .sequenceLengthTooShort(let length):
                return "sequence length must be at least 2 (one input and one target token), got \(length)"
            case .tooFewTokens(let name, let tokens, let length):
                return "\(name): \(tokens) tokens do not fill one sequence of \(length) tokens"
            case .tokenOutOfRange(let name, let position, let token):
                return "\(name): token \(token) at position \(position) is not a token id (0…\(Int32.max))"
            }
        }
    }

    /// What the stream is called in errors and checkpoints ("training tokens", a file name, …).
    public let name: String
    public let sequenceLength: Int
    /// The packed tokens: `sequenceCount × sequenceLength` of them.
    public let tokens: [Int32]
    public var sequenceCount: Int { tokens.count / sequenceLength }
    /// How many tokens of the stream the last partial window dropped.
    public let droppedTokens: Int

    /// Packs one continuous stream of token ids.
    public init(tokens stream: [Int], sequenceLength: Int, name: String = "tokens") throws {
        guard sequenceLength >= 2 else { throw PackingError.sequenceLengthTooShort(sequenceLength) }
        let sequences = stream.count / sequenceLength
        guard sequences > 0 else {
            throw PackingError.tooFewTokens(name: name, tokens: stream.count, sequenceLength: sequenceLength)
        }
        var packed = [Int32]()
        packed.reserveCapacity(sequences * sequenceLength)
        for (position, token) in stream.prefix(sequences * sequenceLength).enumerated() {
            guard let id = Int32(exactly: token), id >= 0 else {
                throw PackingError.tokenOutOfRange(name: name, position: position, token: token)
            }
            packed.append(id)
        }
        self.name = name
        self.sequenceLength = sequenceLength
        self.tokens = packed
        self.droppedTokens = stream.count - packed.count
    }

    /// Packs documents joined in order, each followed by `separator` (an end-of-sequence id) when given.
    public init(documents: [[Int]], separator: Int?, sequenceLength: Int, name: String = "tokens") throws {
        var stream: [Int] = []
        stream.reserveCapacity(documents.reduce(0) { $0 + $1.count + 1 })
        for document in documents {
            stream.append(contentsOf: document)
            if let separator { stream.append(separator) }
        }
        try self.init(tokens: stream, sequenceLength: sequenceLength, name: name)
    }

    /// The sequences at `indices` as a (indices.count, sequenceLength) int64 batch.
    public func batch(_ indices: some Collection<Int>) throws -> Tensor {
        var rows = [Int64]()
        rows.reserveCapacity(indices.count * sequenceLength)
        for index in indices {
            precondition(index >= 0 && index < sequenceCount, "sequence \(index) is outside 0..<\(sequenceCount)")
            let start = index * sequenceLength
            for token in tokens[start..<(start + sequenceLength)] { rows.append(Int64(token)) }
        }
        return try Tensor(rows, shape: [indices.count, sequenceLength])
    }

    /// SHA-256 over the sequence length and the packed tokens (little-endian Int32s): what a checkpoint
    /// records so that resuming on other data is refused.
    public var digest: String {
        let tokensDigest = tokens.withUnsafeBytes { Digest.sha256Hex($0) }
        return Digest.sha256Hex("\(sequenceLength):\(tokensDigest)")
    }
}
