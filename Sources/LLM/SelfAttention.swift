// SelfAttention — the attention block of a decoder layer: q/k/v projections (one fused GEMM while the
// bases are dense, or Phi-3's single qkv_proj), the RMSNorm of each query and key head where the family
// has it (Qwen3, Gemma 3), rotary embeddings (the local table on Gemma 3's windowed layers; Phi's partial
// rotation), causal grouped-query attention over the KV cache when one is given — windowed on the layers
// the configuration windows, scaled and soft-capped as the family says — and the output projection.
import Torch

final class SelfAttention {
    /// q_proj, k_proj, v_proj (or qkv_proj).
    let inputProjections: ProjectionGroup
    /// o_proj.
    let outputProjection: ProjectionGroup
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    /// Leading dimensions of each head that rotate (headDim but for partial rotary).
    let rotaryDim: Int
    /// This layer's window; nil for global attention.
    let slidingWindow: Int?
    /// The rotary tables of the windowed layers (ForwardContext.local) rotate this layer's heads.
    let usesLocalRope: Bool
    /// The scores' scale; nil for 1/√headDim.
    let scale: Double?
    /// cap·tanh(scores/cap) before the mask; nil for none.
    let softcap: Double?
    /// Per-head RMSNorm gains of queries and keys (head_dim each), applied before the rotation.
    let queryNorm: Tensor?
    let keyNorm: Tensor?
    let normEpsilon: Double
    let normOffset: Double

    init(inputProjections: ProjectionGroup, outputProjection: ProjectionGroup, config: ModelConfig, layer: Int,
         queryNorm: Tensor? = nil, keyNorm: Tensor? = nil) {
        self.inputProjections = inputProjections
        self.outputProjection = outputProjection
        self.queryNorm = queryNorm
        self.keyNorm = keyNorm
        normEpsilon = config.rmsNormEps
        normOffset = config.normWeightOffset
        heads = config.numAttentionHeads
        kvHeads = config.numKeyValueHeads
        headDim = config.headDim
        rotaryDim = config.rotaryDim
        let sliding = config.isSliding(layer: layer)
        slidingWindow = sliding ? config.slidingWindow : nil
        usesLocalRope = sliding && config.localRopeTheta != nil
        scale = config.attentionScale
        softcap = config.attentionSoftcap
    }

    /// x (B·T, C) → (B·T, C).
    func callAsFunction(_ x: Tensor, _ context: ForwardContext, layer: Int) throws -> Tensor {
        var (q, k, v) = try heads(x, context)  // (B, H, T, D), (B, KV, T, D), (B, KV, T, D)
        if let cache = context.cache {
            (k, v) = try cache.store(layer: layer, keys: k, values: v)  // (B, KV, S, D)
        }
        let attended: Tensor  // (B·T, H·D)
        let documents = context.documentMask
        if context.kernels.fusedAttention && q.dtype == .float32 && scale == nil && softcap == nil && documents == nil {
            attended = try causalAttention(q: q, k: k, v: v, slidingWindow: slidingWindow)
        } else if context.kernels.sdpaAttention && softcap == nil {
            // SDPA cannot soft-cap: Gemma 2's attention keeps the explicit path.
            attended = try CausalAttention.sdpa(q: q, k: k, v: v, slidingWindow: slidingWindow, scale: scale, documentMask: documents)
        } else {
            attended = try CausalAttention.compute(
                q: q, k: k, v: v, slidingWindow: slidingWindow, scale: scale, softcap: softcap, documentMask: documents)
        }
        return try outputProjection(attended, kernels: context.kernels)[0]
    }

    /// Rotated head-major q, k and unrotated v of x (B·T, C).
    private func heads(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Tensor, Tensor) {
        let (batch, length) = (context.batch, context.length)
        let (cos, sin) = usesLocalRope ? context.local! : (context.cos, context.sin)
        if context.kernels.fusedAttentionHeads, queryNorm == nil, keyNorm == nil, rotaryDim == headDim {
            let qkv = try inputProjections.joined(x, kernels: context.kernels)  // (B·T, (H + 2·KV)·D)
            return try qkv.attentionHeads(cos: cos, sin: sin, batch: batch, heads: heads, kvHeads: kvHeads)
        }
        var projected = try inputProjections(x, kernels: context.kernels)  // (B·T, H·D), (B·T, KV·D), (B·T, KV·D)
        if projected.count == 1 {
            projected = try projected[0].split(sizes: [heads * headDim, kvHeads * headDim, kvHeads * headDim], dim: 1)
        }
        var q = try projected[0].reshape([batch, length, heads, headDim])
        var k = try projected[1].reshape([batch, length, kvHeads, headDim])
        if let queryNorm { q = try q.rmsNorm(weight: normOffset == 0 ? queryNorm : queryNorm + normOffset, eps: normEpsilon) }
        if let keyNorm { k = try k.rmsNorm(weight: normOffset == 0 ? keyNorm : keyNorm + normOffset, eps: normEpsilon) }
        return (try rotate(q, cos: cos, sin: sin), try rotate(k, cos: cos, sin: sin),
                try projected[2].reshape([batch, length, kvHeads, headDim]).transpose(1, 2).contiguous())
    }

    /// x (B, T, heads, D) rotated over its first `rotaryDim` dimensions, head-major (B, heads, T, D).
    private func rotate(_ x: Tensor, cos: Tensor, sin: Tensor) throws -> Tensor {
        guard rotaryDim < headDim else { return try RotaryEmbedding.rotate(x, cos: cos, sin: sin) }
        let rotated = try RotaryEmbedding.rotate(x.narrow(dim: 3, start: 0, length: rotaryDim), cos: cos, sin: sin)
        let passed = try x.narrow(dim: 3, start: rotaryDim, length: headDim - rotaryDim).transpose(1, 2)
        return try Tensor.cat([rotated, passed], dim: 3).contiguous()
    }
}
