// TokenWindows — training sequences read from a token store (LoomCore's TokenStore) instead of a
// materialised token array: the chosen documents' tokens, concatenated in store order, cut into
// consecutive non-overlapping windows of `sequenceLength` (the tail shorter than one window dropped) —
// exactly the windows PackedTokens makes of the same stream, so that training gives the same numbers.
// A window is gathered when a batch asks for it (a binary search for its first document, then a copy
// across the documents it spans); memory holds one offset per document, never the tokens.
import Foundation
import LoomCore
import Torch

/// What the Trainer trains and evaluates on: numbered sequences of one length, gathered into batches.
public protocol TrainingSequences: Sendable {
    /// What the data is called in errors and checkpoints.
    var name: String { get }
    var sequenceLength: Int { get }
    var sequenceCount: Int { get }
    /// The sequences at `indices` as a (indices.count, sequenceLength) int64 batch.
    func batch<Indices: Collection<Int>>(_ indices: Indices) throws -> Tensor
    /// A digest of the sequences (what a checkpoint records so that resuming on other data is refused).
    var digest: String { get }
    /// The positions of window `index` where a new document begins (0 not listed); [] when the data
    /// does not know its documents.
    func documentStarts(window index: Int) -> [Int]
}

extension TrainingSequences {
    /// Tokens in the windows (the dropped tail not counted).
    public var tokenCount: Int { sequenceCount * sequenceLength }

    public func documentStarts(window index: Int) -> [Int] { [] }
}

extension PackedTokens: TrainingSequences {}

public struct TokenWindows: TrainingSequences {
    public let name: String
    public let sequenceLength: Int
    public let sequenceCount: Int
    public let digest: String
    private let store: TokenStore
    /// The chosen documents, in store order.
    private let documents: [Int]
    /// Tokens before each chosen document in the concatenated stream (one more entry: the total).
    private let starts: [Int]
    /// Where each scene of the chosen documents begins in the concatenated stream: the packed documents
    /// masked packing keeps apart.
    private let sceneStarts: [Int]

    /// The windows of `documents` (store indices, in store order) of `store`, at most `maxTokens` of the
    /// stream (0: all). Fewer tokens than one window is an error naming the data.
    public init(store: TokenStore, documents: [Int], sequenceLength: Int, maxTokens: Int = 0, name: String) throws {
        guard sequenceLength >= 2 else { throw PackedTokens.PackingError.sequenceLengthTooShort(sequenceLength) }
        var starts = [0]
        starts.reserveCapacity(documents.count + 1)
        var sceneStarts: [Int] = []
        var digestInput = "loom-token-windows:\(store.header.tokenizer):\(sequenceLength):\(maxTokens)"
        for index in documents {
            let document = store.documents[index]
            for record in store.records(ofDocument: index) { sceneStarts.append(starts.last! + record.offset) }
            starts.append(starts.last! + document.tokens)
            digestInput += ":\(document.key)"
        }
        self.sceneStarts = sceneStarts
        let total = maxTokens > 0 ? min(starts.last!, maxTokens) : starts.last!
        guard total >= sequenceLength else {
            throw PackedTokens.PackingError.tooFewTokens(name: name, tokens: total, sequenceLength: sequenceLength)
        }
        self.name = name
        self.sequenceLength = sequenceLength
        self.sequenceCount = total / sequenceLength
        self.store = store
        self.documents = documents
        self.starts = starts
        self.digest = Digest.sha256Hex(digestInput)
    }

    public func batch<Indices: Collection<Int>>(_ indices: Indices) throws -> Tensor {
        var rows = [Int64]()
        rows.reserveCapacity(indices.count * sequenceLength)
        for index in indices {
            precondition(index >= 0 && index < sequenceCount, "sequence \(index) is outside 0..<\(sequenceCount)")
            try appendWindow(index, to: &rows)
        }
        return try Tensor(rows, shape: [indices.count, sequenceLength])
    }

    public func documentStarts(window index: Int) -> [Int] {
        let (low, high) = (index * sequenceLength, (index + 1) * sequenceLength)
        // The first scene starting after the window's first token.
        var lower = 0, upper = sceneStarts.count
        while lower < upper {
            let middle = (lower + upper) / 2
            if sceneStarts[middle] <= low { lower = middle + 1 } else { upper = middle }
        }
        var result: [Int] = []
        while lower < sceneStarts.count, sceneStarts[lower] < high {
            result.append(sceneStarts[lower] - low)
            lower += 1
        }
        return result
    }

    /// The tokens of window `index` appended to `rows`.
    private func appendWindow(_ index: Int, to rows: inout [Int64]) throws {
        var position = index * sequenceLength
        var remaining = sequenceLength
        // The last chosen document starting at or before `position`.
        var low = 0, high = documents.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= position { low = middle } else { high = middle - 1 }
        }
        var slot = low
        while remaining > 0 {
            let offset = position - starts[slot]
            let available = starts[slot + 1] - position
            if available <= 0 {
                slot += 1
                continue
            }
            let count = min(available, remaining)
            try store.appendTokens(document: documents[slot], range: offset..<(offset + count), to: &rows)
            position += count
            remaining -= count
            slot += 1
        }
    }
}
