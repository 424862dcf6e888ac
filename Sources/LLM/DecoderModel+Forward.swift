// DecoderModel+Forward — the forward pass: token ids (B, T) → hidden states → vocabulary logits, and the
// causal-LM loss (Hugging Face's: logits at 0..<T−1 against the ids at 1..<T).
import Torch

/// What a forward pass returns.
public struct ModelOutput {
    /// (B, T, vocab); nil when logits were not asked for.
    public let logits: Tensor?
    /// Hugging Face's `output_hidden_states`: L + 1 tensors (B, T, hidden) — [0] the embeddings, [i] the
    /// output of layer i (1-based), except the last, which is taken AFTER the final norm. Empty unless
    /// asked for.
    public let hiddenStates: [Tensor]
}

extension DecoderModel {
    /// Runs the model over `tokens` (B, T) int64. With a cache, the tokens continue the cached positions
    /// and their keys and values are appended to it.
    public func forward(tokens: Tensor, cache: KVCache? = nil, outputHiddenStates: Bool = false, computeLogits: Bool = true) throws -> ModelOutput {
        let (batch, length) = try checkTokens(tokens)
        let (hidden, states) = try finalHidden(tokens: tokens, cache: cache, collect: outputHiddenStates)
        let logits = computeLogits ? try vocabularyLogits(hidden).reshape([batch, length, config.vocabSize]) : nil
        return ModelOutput(logits: logits, hiddenStates: try states.map { try $0.reshape([batch, length, config.hiddenSize]) })
    }

    /// (B, T, vocab) logits of `tokens` (B, T).
    public func logits(tokens: Tensor, cache: KVCache? = nil) throws -> Tensor {
        try forward(tokens: tokens, cache: cache).logits!
    }

    /// The L + 1 hidden states of `tokens` (see `ModelOutput.hiddenStates`).
    public func hiddenStates(tokens: Tensor) throws -> [Tensor] {
        try forward(tokens: tokens, outputHiddenStates: true, computeLogits: false).hiddenStates
    }

    /// Mean next-token cross-entropy of `tokens` (B, T): logits at positions 0..<T−1 against the ids at
    /// 1..<T. The head runs on those T−1 positions only.
    public func loss(tokens: Tensor) throws -> Tensor {
        try loss(tokens: tokens, labels: tokens)
    }

    /// Like `loss(tokens:)` with separate labels (B, T): a label of −100 (padding, prompt) is ignored, and
    /// the mean is over the rest.
    public func loss(tokens: Tensor, labels: Tensor) throws -> Tensor {
        try loss(tokens: tokens, labels: labels, reduction: .mean)
    }

    /// The loss of rows that pack several documents (Hugging Face's padding-free packing, as Axolotl's
    /// sample packing trains): `documentStarts[b]` lists the positions of row b where a new document
    /// begins (0 implied). Attention stays inside each document, positions restart at its first token
    /// (RoPE sees each document from 0), and a document's first token is not predicted from the previous
    /// document's last. Mean over the predicted tokens.
    public func loss(tokens: Tensor, documentStarts: [[Int]]) throws -> Tensor {
        let (batch, length) = try checkTokens(tokens)
        guard documentStarts.count == batch else {
            throw ModelError("documentStarts has \(documentStarts.count) rows, the tokens \(batch)")
        }
        let packing = try PackedDocuments(starts: documentStarts, length: length, device: device)
        let labels = try tokens.to(device).maskedFill(packing.firstTokens, value: -100)
        return try loss(tokens: tokens, labels: labels, reduction: .mean, packing: packing)
    }

    /// Logits (B, vocab) of the last position only, continuing the cache: what generation needs.
    func nextTokenLogits(tokens: Tensor, cache: KVCache) throws -> Tensor {
        let (batch, length) = try checkTokens(tokens)
        let (hidden, _) = try finalHidden(tokens: tokens, cache: cache, collect: false)
        let last = try hidden.reshape([batch, length, config.hiddenSize]).select(dim: 1, index: length - 1)  // (B, C)
        return try vocabularyLogits(last)
    }

    /// The next-token cross-entropy of `tokens` against shifted `labels`, reduced as asked.
    func loss(tokens: Tensor, labels: Tensor, reduction: LossReduction, packing: PackedDocuments? = nil) throws -> Tensor {
        let (batch, length) = try checkTokens(tokens)
        guard labels.shape == [batch, length] else {
            throw ModelError("labels must have the shape of the tokens \([batch, length]), got \(labels.shape)")
        }
        guard length > 1 else { throw ModelError("a loss needs at least 2 tokens per sequence, got \(length)") }
        let (hidden, _) = try finalHidden(tokens: tokens, cache: nil, collect: false, packing: packing)
        let predicting = try hidden.reshape([batch, length, config.hiddenSize]).narrow(dim: 1, start: 0, length: length - 1)
            .reshape([batch * (length - 1), config.hiddenSize])  // (B·(T−1), C)
        let targets = try labels.narrow(dim: 1, start: 1, length: length - 1).reshape([-1]).to(.int64).to(device)
        let rows = batch * (length - 1)
        let head = lmHead ?? embedTokens
        if kernels.onCPU(predicting).fusedLinearCrossEntropy, reduction == .mean, config.finalLogitSoftcap == nil, trainableTokens == nil,
           head.dtype == .float32, predicting.dtype == .float32 {
            // The head GEMM and the loss by chunks of rows, gradients made in forward: never the whole logits.
            return try predicting.linearCrossEntropy(weight: head, targets: targets)
        }
        if let chunkBytes = lossChunkBytes, rows * config.vocabSize * 4 > chunkBytes {
            return try chunkedLoss(predicting, targets: targets, rowsPerChunk: max(1, chunkBytes / (config.vocabSize * 4)), reduction: reduction)
        }
        let logits = try vocabularyLogits(predicting)  // (B·(T−1), V)
        if kernels.onCPU(logits).fusedCrossEntropy && reduction == .mean {
            return try logits.fusedCrossEntropy(targets: targets)
        }
        return try logits.crossEntropy(targets: targets, reduction: reduction)
    }

    /// The cross-entropy of `hidden` (N, C) through the head against `targets` (N), `rowsPerChunk` rows at
    /// a time, as torchtune's chunked loss and Liger's fused linear cross-entropy do: while a graph is
    /// recorded, each chunk's head GEMM and loss run under activation checkpointing, so only the chunk's
    /// hidden rows are kept between forward and backward and one chunk's logits exist at a time (in
    /// backward too, where they are recomputed). The same value as the whole computation up to the order
    /// of the sum; targets of −100 are ignored and `.mean` divides by the others.
    func chunkedLoss(_ hidden: Tensor, targets: Tensor, rowsPerChunk: Int, reduction: LossReduction) throws -> Tensor {
        let rows = hidden.shape[0]
        let recording = GradMode.isEnabled && hidden.requiresGrad
        var sum: Tensor? = nil
        var perToken: [Tensor] = []
        for start in stride(from: 0, to: rows, by: rowsPerChunk) {
            let count = min(rowsPerChunk, rows - start)
            let chunkTargets = try targets.narrow(dim: 0, start: start, length: count)
            let chunkReduction: LossReduction = reduction == .none ? .none : .sum
            let body = { (chunk: Tensor) throws -> Tensor in
                try self.vocabularyLogits(chunk).crossEntropy(targets: chunkTargets, reduction: chunkReduction)
            }
            let chunk = try hidden.narrow(dim: 0, start: start, length: count)
            let loss = try recording ? chunk.checkpointed(body) : body(chunk)
            if reduction == .none {
                perToken.append(loss)
            } else {
                sum = try sum.map { try $0 + loss } ?? loss
            }
        }
        switch reduction {
        case .none: return try Tensor.cat(perToken, dim: 0)
        case .sum: return sum!
        case .mean:
            let counted = try targets.ne(-100).sum().scalar(Int.self)
            return try sum! / Double(counted)
        }
    }

    // MARK: pieces

    /// The normalised last hidden state (B·T, C), and with `collect` every hidden state (B·T, C).
    /// With `packing`, rows hold several documents: positions restart at each, and attention stays inside it.
    func finalHidden(tokens: Tensor, cache: KVCache?, collect: Bool, packing: PackedDocuments? = nil) throws -> (Tensor, [Tensor]) {
        let (batch, length) = (tokens.shape[0], tokens.shape[1])
        if let cache, cache.batchSize != batch {
            throw ModelError("the KV cache was made for batch size \(cache.batchSize), the tokens have \(batch)")
        }
        var (cos, sin) = try rotary.tables(offset: cache?.length ?? 0, count: length)
        var local = try localRotary?.tables(offset: cache?.length ?? 0, count: length)
        var kernels = self.kernels.onCPU(embedTokens)
        if let packing {
            // Per-row positions: (B, T, D) tables; the fused kernels take one (T, D) table, so they step aside.
            (cos, sin) = try rotary.tables(positions: packing.positions, count: length)
            local = try localRotary?.tables(positions: packing.positions, count: length)
            kernels.fusedAttentionHeads = false
            kernels.fusedAttention = false
        }
        let context = ForwardContext(batch: batch, length: length, cos: cos, sin: sin, local: local, cache: cache,
                                     kernels: kernels, documentMask: packing?.mask)
        var hidden = try embed(tokens.reshape([-1]).to(device))  // (B·T, C), the ids moved to the model's device
        var states = collect ? [hidden] : []
        let checkpointing = gradientCheckpointing && cache == nil && GradMode.isEnabled
        // A checkpoint passes gradients on only when its input requires them; frozen embeddings don't.
        if checkpointing && !hidden.requiresGrad { hidden = try hidden.detach().setRequiresGrad() }
        for (index, layer) in layers.enumerated() {
            hidden = try checkpointing
                ? checkpointed(layer, hidden, context, index: index) : layer(hidden, context, layer: index)
            if collect && index < layers.count - 1 { states.append(hidden) }
        }
        cache?.advance(by: length)
        let offset = config.normWeightOffset
        hidden = try hidden.rmsNorm(weight: offset == 0 ? finalNorm : finalNorm + offset, eps: config.rmsNormEps)
        if collect { states.append(hidden) }
        return (hidden, states)
    }

    /// `layer(input)` whose activations are recomputed in backward. The recomputation draws the same
    /// dropout masks: the dropout generator is set back to its state at forward for it, then restored.
    private func checkpointed(_ layer: DecoderLayer, _ input: Tensor, _ context: ForwardContext, index: Int) throws -> Tensor {
        let generator = trainingMode ? dropoutGenerator : nil
        let stateAtForward = try generator?.state()
        var recomputing = false
        return try input.checkpointed { x in
            guard recomputing, let generator, let stateAtForward else {
                recomputing = true
                return try layer(x, context, layer: index)
            }
            let current = try generator.state()
            try generator.setState(stateAtForward)
            let output = try layer(x, context, layer: index)
            try generator.setState(current)
            return output
        }
    }

    /// Embedding rows of `ids` (N) → (N, C), the trainable token rows taking the place of theirs, times
    /// the family's embedding scale (in the table's dtype, as transformers multiplies).
    func embed(_ ids: Tensor) throws -> Tensor {
        // A half-precision table gives half-precision rows; the residual stream is f32.
        let table = try trainableTokens.map { rows in
            try embedTokens.indexUpdate(.copy, dim: 0, index: rows.indexTensor, source: rows.embeddingRows.to(embedTokens.dtype))
        } ?? embedTokens
        var rows = try table.embedding(ids)
        if let scale = config.embeddingScale {
            // transformers multiplies by the scale rounded to the table's dtype.
            let rounded = try Tensor([Float(scale)]).to(table.dtype).to(.float32).toArray(Float.self)[0]
            rows = try rows * Double(rounded)
        }
        return try rows.to(.float32)
    }

    /// Hidden states (M, C) → logits (M, vocab), soft-capped where the family caps them.
    func vocabularyLogits(_ hidden: Tensor) throws -> Tensor {
        let logits = try uncappedLogits(hidden)
        guard let cap = config.finalLogitSoftcap else { return logits }
        return try (logits / cap).tanh() * cap
    }

    /// Trainable token rows replace their columns: the head GEMM stays frozen (no weight gradient for the
    /// whole head), and only those columns are recomputed from the trainable rows.
    private func uncappedLogits(_ hidden: Tensor) throws -> Tensor {
        let head = lmHead ?? embedTokens
        // The head GEMM in the head's dtype, the logits (and the loss) in f32.
        let logits = head.dtype == hidden.dtype
            ? try hidden.linear(weight: head) : try hidden.to(head.dtype).linear(weight: head).to(hidden.dtype)
        guard let rows = trainableTokens, let headRows = lmHead == nil ? rows.embeddingRows : rows.headRows else { return logits }
        let replaced = try hidden.linear(weight: headRows)
        return try logits.indexUpdate(.copy, dim: 1, index: rows.indexTensor, source: replaced)
    }

    /// (B, T) of a rank-2 int64 tensor whose ids are inside the vocabulary.
    func checkTokens(_ tokens: Tensor) throws -> (Int, Int) {
        guard tokens.rank == 2, tokens.dtype == .int64 else {
            throw ModelError("token ids must be an int64 tensor (batch, length), got \(tokens)")
        }
        let (batch, length) = (tokens.shape[0], tokens.shape[1])
        guard batch > 0, length > 0 else { throw ModelError("token ids must not be empty, got \(tokens.shape)") }
        let low = try tokens.amin().scalar(Int.self), high = try tokens.amax().scalar(Int.self)
        guard low >= 0, high < config.vocabSize else {
            throw ModelError("token id \(low < 0 ? low : high) is outside the vocabulary (0..<\(config.vocabSize))")
        }
        return (batch, length)
    }
}
