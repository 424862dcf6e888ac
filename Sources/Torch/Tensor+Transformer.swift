// Tensor+Transformer — the fused kernels of a Llama layer (ctorch_transformer.cpp): attention heads with
// rotary embeddings from a fused q|k|v projection, SwiGLU from a fused gate|up projection, and
// cross-entropy that keeps its gradient. Each computes what its composite of tensor ops computes.
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
}
