// DecoderLayer — one decoder block's parts: its RMSNorm gains (under their Hugging Face names), the
// attention and the MLP. How they are wired — pre-norm (Llama) or norms before and after each sub-block
// (Gemma) — is the family's `block`.
import Torch

final class DecoderLayer {
    /// Norm gains in the order the family's block uses them, by name after the layer prefix
    /// (`input_layernorm.weight`, …).
    let norms: [(name: String, tensor: Tensor)]
    let normEpsilon: Double
    /// Added to each gain before it multiplies (Gemma's 1 + w).
    let normOffset: Double
    let attention: SelfAttention
    let mlp: FeedForward
    let family: any ModelFamily.Type

    init(norms: [(name: String, tensor: Tensor)], config: ModelConfig, attention: SelfAttention, mlp: FeedForward) {
        self.norms = norms
        normEpsilon = config.rmsNormEps
        normOffset = config.normWeightOffset
        self.attention = attention
        self.mlp = mlp
        family = config.family
    }

    /// h (B·T, C) → (B·T, C).
    func callAsFunction(_ hidden: Tensor, _ context: ForwardContext, layer: Int) throws -> Tensor {
        try family.block(self, hidden, context, layer: layer)
    }

    /// RMSNorm of x by the layer's `index`-th gain.
    func norm(_ x: Tensor, _ index: Int) throws -> Tensor {
        let gain = norms[index].tensor
        return try x.rmsNorm(weight: normOffset == 0 ? gain : gain + normOffset, eps: normEpsilon)
    }

    /// The groups of the layer's projections, in the order the decoder computes them.
    var groups: [ProjectionGroup] {
        [attention.inputProjections, attention.outputProjection, mlp.inputProjections, mlp.outputProjection]
    }

    /// The group holding `target` and its index there; nil when the layer has no such projection.
    func group(of target: LoRATarget) -> (group: ProjectionGroup, index: Int)? {
        for group in groups {
            if let index = group.index(of: target) { return (group, index) }
        }
        return nil
    }

    /// The layer's norm gains under their Hugging Face names after the layer prefix, the q/k norms
    /// included: what export and full-parameter training list (DecoderModel.init loads them under the
    /// same names).
    var namedNorms: [(name: String, tensor: Tensor)] {
        var all = norms
        if let queryNorm = attention.queryNorm { all.append(("self_attn.q_norm.weight", queryNorm)) }
        if let keyNorm = attention.keyNorm { all.append(("self_attn.k_norm.weight", keyNorm)) }
        return all
    }

    func base(_ target: LoRATarget) -> any BaseLinear {
        let (group, index) = group(of: target)!
        return group.bases[index]
    }

    func adapter(_ target: LoRATarget) -> LoRALinear? {
        guard let (group, index) = group(of: target) else { return nil }
        return group.adapters[index]
    }
}
