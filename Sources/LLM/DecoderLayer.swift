// DecoderLayer — one pre-norm Llama block: h + attention(norm(h)), then h + mlp(norm(h)).
import Torch

final class DecoderLayer {
    let inputNorm: Tensor
    let postAttentionNorm: Tensor
    let normEpsilon: Double
    let attention: SelfAttention
    let mlp: FeedForward

    init(inputNorm: Tensor, postAttentionNorm: Tensor, normEpsilon: Double, attention: SelfAttention, mlp: FeedForward) {
        self.inputNorm = inputNorm
        self.postAttentionNorm = postAttentionNorm
        self.normEpsilon = normEpsilon
        self.attention = attention
        self.mlp = mlp
    }

    /// h (B·T, C) → (B·T, C).
    func callAsFunction(_ hidden: Tensor, _ context: ForwardContext, layer: Int) throws -> Tensor {
        let normed = try hidden.rmsNorm(weight: inputNorm, eps: normEpsilon)
        let attended = try hidden + attention(normed, context, layer: layer)
        return try attended + mlp(attended.rmsNorm(weight: postAttentionNorm, eps: normEpsilon), context)
    }

    /// The group holding `target` and its index there.
    func group(of target: LoRATarget) -> (group: ProjectionGroup, index: Int) {
        for group in [attention.inputProjections, attention.outputProjection, mlp.inputProjections, mlp.outputProjection] {
            if let index = group.index(of: target) { return (group, index) }
        }
        preconditionFailure("every target belongs to one group")
    }

    /// The layer's norm gains under their Hugging Face names after `model.layers.N.`: what export and
    /// full-parameter training list (LlamaModel.init loads them under the same names).
    var namedNorms: [(name: String, tensor: Tensor)] {
        var norms = [("input_layernorm.weight", inputNorm), ("post_attention_layernorm.weight", postAttentionNorm)]
        if let queryNorm = attention.queryNorm { norms.append(("self_attn.q_norm.weight", queryNorm)) }
        if let keyNorm = attention.keyNorm { norms.append(("self_attn.k_norm.weight", keyNorm)) }
        return norms
    }

    func base(_ target: LoRATarget) -> any BaseLinear {
        let (group, index) = group(of: target)
        return group.bases[index]
    }

    func adapter(_ target: LoRATarget) -> LoRALinear? {
        let (group, index) = group(of: target)
        return group.adapters[index]
    }
}
