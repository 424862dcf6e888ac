// SelfAttention — the attention block of a Llama decoder layer: q/k/v projections (one fused GEMM
// while the bases are dense), Qwen3's RMSNorm of each query and key head where the family has it,
// rotary embeddings, causal grouped-query attention over the KV cache when one is given, and the output
// projection.
import Torch

final class SelfAttention {
    /// q_proj, k_proj, v_proj.
    let inputProjections: ProjectionGroup
    /// o_proj.
    let outputProjection: ProjectionGroup
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let slidingWindow: Int?
    /// Qwen3's per-head RMSNorm gains of queries and keys (head_dim each), applied before the rotation.
    let queryNorm: Tensor?
    let keyNorm: Tensor?
    let normEpsilon: Double

    init(inputProjections: ProjectionGroup, outputProjection: ProjectionGroup, config: LlamaConfig,
         queryNorm: Tensor? = nil, keyNorm: Tensor? = nil) {
        self.inputProjections = inputProjections
        self.outputProjection = outputProjection
        self.queryNorm = queryNorm
        self.keyNorm = keyNorm
        normEpsilon = config.rmsNormEps
        heads = config.numAttentionHeads
        kvHeads = config.numKeyValueHeads
        headDim = config.headDim
        slidingWindow = config.slidingWindow
    }

    /// x (B·T, C) → (B·T, C).
    func callAsFunction(_ x: Tensor, _ context: ForwardContext, layer: Int) throws -> Tensor {
        var (q, k, v) = try heads(x, context)  // (B, H, T, D), (B, KV, T, D), (B, KV, T, D)
        if let cache = context.cache {
            (k, v) = try cache.store(layer: layer, keys: k, values: v)  // (B, KV, S, D)
        }
        let attended: Tensor  // (B·T, H·D)
        if context.kernels.fusedAttention && q.dtype == .float32 {
            attended = try causalAttention(q: q, k: k, v: v, slidingWindow: slidingWindow)
        } else if context.kernels.sdpaAttention {
            attended = try CausalAttention.sdpa(q: q, k: k, v: v, slidingWindow: slidingWindow)
        } else {
            attended = try CausalAttention.compute(q: q, k: k, v: v, slidingWindow: slidingWindow)
        }
        return try outputProjection(attended, kernels: context.kernels)[0]
    }

    /// Rotated head-major q, k and unrotated v of x (B·T, C).
    private func heads(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Tensor, Tensor) {
        let (batch, length, cos, sin) = (context.batch, context.length, context.cos, context.sin)
        if context.kernels.fusedAttentionHeads, queryNorm == nil, keyNorm == nil {
            let qkv = try inputProjections.joined(x, kernels: context.kernels)  // (B·T, (H + 2·KV)·D)
            return try qkv.attentionHeads(cos: cos, sin: sin, batch: batch, heads: heads, kvHeads: kvHeads)
        }
        let projected = try inputProjections(x, kernels: context.kernels)  // (B·T, H·D), (B·T, KV·D), (B·T, KV·D)
        var q = try projected[0].reshape([batch, length, heads, headDim])
        var k = try projected[1].reshape([batch, length, kvHeads, headDim])
        if let queryNorm { q = try q.rmsNorm(weight: queryNorm, eps: normEpsilon) }
        if let keyNorm { k = try k.rmsNorm(weight: keyNorm, eps: normEpsilon) }
        return (try RotaryEmbedding.rotate(q, cos: cos, sin: sin),
                try RotaryEmbedding.rotate(k, cos: cos, sin: sin),
                try projected[2].reshape([batch, length, kvHeads, headDim]).transpose(1, 2).contiguous())
    }
}
