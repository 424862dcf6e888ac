// TrainableTokenRows — PEFT's trainable tokens: the embedding rows (and, when the head is untied, the
// head rows) of a few token ids — typically new hyperwords — held as separate trainable tensors that
// take the place of their rows in the forward pass, while the full matrices stay frozen. Like PEFT's
// `trainable_tokens_delta`, the tensors hold the rows' values themselves, not differences.
import Torch

public final class TrainableTokenRows {
    /// The token ids, in the order of the rows.
    public let indices: [Int]
    let indexTensor: Tensor
    /// (indices, hidden), requires grad.
    public let embeddingRows: Tensor
    /// (indices, hidden), requires grad. nil when the head is tied (it then uses `embeddingRows`), or when
    /// only the embedding rows are trained (a PEFT adapter listing the ids for `embed_tokens` only).
    public let headRows: Tensor?

    init(indices: [Int], embeddingRows: Tensor, headRows: Tensor?) throws {
        self.indices = indices
        indexTensor = try Tensor(indices.map { Int64($0) }).to(embeddingRows.device)
        self.embeddingRows = try embeddingRows.setRequiresGrad()
        self.headRows = try headRows?.setRequiresGrad()
    }

    /// Rows `indices` copied out of the model's embedding (and untied head): training starts from the
    /// current values.
    convenience init(indices: [Int], model: DecoderModel) throws {
        let vocab = model.config.vocabSize
        guard !indices.isEmpty else { throw ModelError("trainable token rows need at least one token id") }
        guard Set(indices).count == indices.count else { throw ModelError("trainable token ids repeat: \(indices)") }
        if let outside = indices.first(where: { !(0..<vocab).contains($0) }) {
            throw ModelError("trainable token id \(outside) is outside the vocabulary (0..<\(vocab)); resize the vocabulary first")
        }
        let index = try Tensor(indices.map { Int64($0) }).to(model.device)
        let (embedding, head) = try withNoGrad {
            // Trained in f32 whatever the storage of the frozen matrices.
            (try model.embedTokens.indexSelect(dim: 0, index: index).to(.float32).clone(),
             try model.lmHead.map { try $0.indexSelect(dim: 0, index: index).to(.float32).clone() })
        }
        try self.init(indices: indices, embeddingRows: embedding, headRows: head)
    }
}
