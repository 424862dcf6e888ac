// Tensor+Transformer — the fused kernels of a Llama layer (ctorch_transformer.cpp): attention heads with
// rotary embeddings from a fused q|k|v projection, SwiGLU from a fused gate|up projection, causal
// attention computed block-wise, and cross-entropy that keeps its gradient. Each computes what its
// composite of tensor ops computes; they run on CPU tensors (an error elsewhere).
import CTorch

extension Tensor {
    /// This fused q|k|v projection (batch·T, (heads + 2·kvHeads)·D) as head-major q (batch, heads, T, D),
    /// k and v (batch, kvHeads, T, D), q and k rotated by the rotary tables `cos`, `sin` (T, D)
    /// (rotate-half layout). Differentiable with respect to self.
    public func attentionHeads(cos: Tensor, sin: Tensor, batch: Int, heads: Int, kvHeads: Int) throws -> (q: Tensor, k: Tensor, v: Tensor) {
        var q: OpaquePointer? = nil, k: OpaquePointer? = nil, v: OpaquePointer? = nil
        try check {
            ctorch_attention_heads(handle, cos.handle, sin.handle, Int64(batch), Int64(heads), Int64(kvHeads), &q, &k, &v, $0)
        }
        return (Tensor(owning: q!), Tensor(owning: k!), Tensor(owning: v!))
    }

    /// silu(gate)·up for self = [gate | up] (rows, 2·I) → (rows, I).
    public func swiGLU() throws -> Tensor {
        try makeTensor { ctorch_swiglu(handle, $0, $1) }
    }

    /// Mean cross-entropy of these logits (N, C) against int64 `targets` (N), ignoring `ignoreIndex`: the
    /// value of `crossEntropy(targets:)`, with the gradient computed in the forward pass (one pass over
    /// the logits in backward instead of three).
    public func fusedCrossEntropy(targets: Tensor, ignoreIndex: Int = -100) throws -> Tensor {
        try makeTensor { ctorch_cross_entropy_fused(handle, targets.handle, Int64(ignoreIndex), $0, $1) }
    }

    /// Mean cross-entropy of these hidden states (N, C) through a head `weight` (V, C) — the logits
    /// self·weightᵀ — against int64 `targets` (N), ignoring `ignoreIndex`: the value of
    /// `linear(weight:).crossEntropy(targets:)`, computed `chunkRows` rows at a time with both gradients
    /// (to self, and to `weight` when it requires one) made in the forward pass, so no (N, V) logits tensor
    /// exists. f32 CPU tensors. `chunkRows` nil: rows whose logits take about 8 MiB, at least 64.
    public func linearCrossEntropy(weight: Tensor, targets: Tensor, ignoreIndex: Int = -100, chunkRows: Int? = nil) throws -> Tensor {
        let classes = weight.shape.first ?? 1
        let rows = chunkRows ?? Swift.max(64, (8 << 20) / Swift.max(classes * 4, 1))
        return try makeTensor { ctorch_linear_cross_entropy(handle, weight.handle, targets.handle, Int64(ignoreIndex), Int64(rows), $0, $1) }
    }
}

/// Causal attention softmax(q·kᵀ/√D + mask)·v for q (B, H, T, D) and k, v (B, KV, S, D), KV dividing H
/// (grouped-query attention: query head h uses key/value head h / (H/KV)); the T queries are the last T
/// of the S positions; a `slidingWindow` limits each query to the keys within that many positions.
/// Returns (B·T, H·D), token-major. f32 on the CPU; the scores are computed block-wise, only where the
/// mask lets a query see a key.
/// PyTorch's `scaled_dot_product_attention`: q (B, H, T, D), k and v (B, KV, S, D) (grouped-query when
/// KV < H), an additive `mask` broadcastable to (B, H, T, S) or `isCausal` (T == S); `scale` multiplies
/// the scores (nil: 1/√D). Returns (B, H, T, D). Flash / memory-efficient kernels on CUDA; any device;
/// differentiable.
public func scaledDotProductAttention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor? = nil, isCausal: Bool = false, scale: Double? = nil
) throws -> Tensor {
    let gqa = q.shape[1] != k.shape[1]
    return try makeTensor {
        ctorch_scaled_dot_product_attention(q.handle, k.handle, v.handle, mask?.handle, isCausal ? 1 : 0, scale ?? 0, gqa ? 1 : 0, $0, $1)
    }
}

public func causalAttention(q: Tensor, k: Tensor, v: Tensor, slidingWindow: Int? = nil) throws -> Tensor {
    try makeTensor { ctorch_causal_attention(q.handle, k.handle, v.handle, Int64(slidingWindow ?? 0), $0, $1) }
}

extension Tensor {
    /// LoRA updates of a projection (fused or single), written into this output (N, W) in place: for each part i,
    /// columns [offsets[i], offsets[i] + out_i) += scales[i] · lowRank[:, rank columns of i] · B_iᵀ, where
    /// `lowRank` (N, Σ r_i) holds the parts' dropout(x)·A_iᵀ side by side and B_i is (out_i, r_i). Each
    /// part's GEMM covers only its own columns. Self must be a contiguous f32 CPU tensor that autograd
    /// does not keep (a projection's fresh output); the result shares its storage and carries the
    /// gradients to `lowRank` and the B's.
    public func loraUpdateInPlace(lowRank: Tensor, b: [Tensor], offsets: [Int], scales: [Double]) throws -> Tensor {
        let handles: [OpaquePointer?] = b.map { $0.handle }
        let columns = offsets.map { Int64($0) }
        return try withExtendedLifetime(b) {
            try makeTensor { ctorch_lora_update_inplace(handle, lowRank.handle, handles, columns, scales, Int32(b.count), $0, $1) }
        }
    }
}
