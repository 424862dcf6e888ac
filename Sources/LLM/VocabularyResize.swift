// VocabularyResize — growing the vocabulary for new tokens (e.g. hyperwords): rows appended to the
// embedding and to an untied head, `vocab_size` updated, and initial rows computed from each new
// token's decomposition into existing ids:
//   mean       the mean of the pieces' rows (embedding and head alike) — the default;
//   firstLast  the embedding row of the LAST piece and the head row of the FIRST, as mergekit's
//              tokensurgeon does (subword method "first_last"): after reading a whole word the model is
//              where it was after its last piece, and predicting the word starts like predicting its
//              first piece. With a tied head only the embedding row exists (the last piece's);
//   random     N(0, σ²) with σ the standard deviation of the existing matrix, from a seeded generator;
//   hidden     the embedding row from the model's hidden state over the pieces, mapped back to the input
//              space (HiddenStateInitialization); the head row the mean of the pieces', as mean.
import Torch

public enum NewTokenInitialization: Sendable, Equatable {
    case mean
    case firstLast
    case random(seed: UInt64)
    case hidden(HiddenStateInitialization)
}

extension DecoderModel {
    /// Appends `embeddingRows` (new, hidden) to the embedding and `headRows` to the head — required when
    /// the head is untied, refused when it is tied — making the vocabulary `newSize` = old + new rows.
    public func resizeVocabulary(newSize: Int, embeddingRows: Tensor, headRows: Tensor?) throws {
        guard loraConfiguration == nil else { throw ModelError("resize the vocabulary before attaching an adapter") }
        let added = newSize - config.vocabSize
        guard added > 0 else {
            throw ModelError("the new vocabulary size \(newSize) must exceed the current \(config.vocabSize) (shrinking is not supported)")
        }
        let shape = [added, config.hiddenSize]
        guard embeddingRows.shape == shape else { throw ModelError("new embedding rows must be \(shape), got \(embeddingRows.shape)") }
        if config.tieWordEmbeddings {
            guard headRows == nil else { throw ModelError("the head is tied to the embedding: pass no separate head rows") }
        } else {
            guard let headRows else { throw ModelError("the head is untied: new head rows \(shape) are needed") }
            guard headRows.shape == shape else { throw ModelError("new head rows must be \(shape), got \(headRows.shape)") }
        }
        try withNoGrad {
            embedTokens = try Tensor.cat([embedTokens, embeddingRows.detach().to(embedTokens.dtype).to(device)], dim: 0)
            if let head = lmHead, let headRows {
                lmHead = try Tensor.cat([head, headRows.detach().to(head.dtype).to(device)], dim: 0)
            }
        }
        config.vocabSize = newSize
    }

    /// Initial embedding and head rows (nil head when tied) for new tokens, one per decomposition (the
    /// existing ids the token's text tokenises into). `progress(done, total)`: the forward passes of `hidden`.
    public func newTokenRows(
        decompositions: [[Int]], method: NewTokenInitialization = .mean, progress: ((Int, Int) -> Void)? = nil
    ) throws -> (embedding: Tensor, head: Tensor?) {
        guard !decompositions.isEmpty else { throw ModelError("no new tokens to initialise") }
        for (index, pieces) in decompositions.enumerated() {
            guard !pieces.isEmpty else { throw ModelError("new token \(index) has an empty decomposition") }
            if let outside = pieces.first(where: { !(0..<config.vocabSize).contains($0) }) {
                throw ModelError("new token \(index): piece id \(outside) is outside the vocabulary (0..<\(config.vocabSize))")
            }
        }
        return try withNoGrad {
            func rows(of matrix: Tensor, pick: ([Int]) -> [Int]) throws -> Tensor {
                try Tensor.stack(decompositions.map { pieces in
                    try matrix.indexSelect(dim: 0, index: Tensor(pick(pieces).map { Int64($0) }).to(device)).mean(dims: [0])
                })
            }
            switch method {
            case .mean:
                return (try rows(of: embedTokens) { $0 }, try lmHead.map { try rows(of: $0) { $0 } })
            case .firstLast:
                return (try rows(of: embedTokens) { [$0.last!] }, try lmHead.map { try rows(of: $0) { [$0.first!] } })
            case .random(let seed):
                let generator = try Generator(seed: seed)
                func draw(like matrix: Tensor) throws -> Tensor {
                    let spread = try matrix.standardDeviation().scalar(Double.self)
                    return try Tensor.normal([decompositions.count, config.hiddenSize], mean: 0, std: spread, generator: generator).to(device)
                }
                return (try draw(like: embedTokens), try lmHead.map { try draw(like: $0) })
            case .hidden(let settings):
                let embedding = try hiddenStateRows(decompositions: decompositions, settings: settings, progress: progress)
                return (embedding, try lmHead.map { try rows(of: $0) { $0 } })
            }
        }
    }

    /// Adds one token per decomposition, initialised by `method` — the extend-vocabulary step.
    public func extendVocabulary(
        decompositions: [[Int]], method: NewTokenInitialization = .mean, progress: ((Int, Int) -> Void)? = nil
    ) throws {
        let rows = try newTokenRows(decompositions: decompositions, method: method, progress: progress)
        try resizeVocabulary(newSize: config.vocabSize + decompositions.count, embeddingRows: rows.embedding, headRows: rows.head)
    }
}
