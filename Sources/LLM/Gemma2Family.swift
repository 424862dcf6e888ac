// Gemma2Family — Gemma 2: RMSNorms that multiply by (1 + w), one before and one after both attention and
// the MLP; GeGLU (tanh GELU); embeddings scaled by √hidden; attention scaled by
// query_pre_attn_scalar^−½ and soft-capped, cap·tanh(s/cap), before the mask (so it keeps the explicit
// path: SDPA cannot soft-cap); a sliding window on alternate layers (`layer_types`); final logits
// soft-capped.
import Foundation
import Torch

enum Gemma2Family: ModelFamily {
    static let modelTypes = ["gemma2"]

    static func decodeConfig(_ c: KeyedDecodingContainer<ModelConfig.Keys>, modelType: String) throws -> ModelConfig {
        var config = try GemmaBlock.decodeCommon(c, modelType: modelType)
        (config.ropeTheta, config.ropeScaling) = try ModelConfig.readRope(c, maxPositions: config.maxPositionEmbeddings)
        config.attentionSoftcap = try c.decodeSoftcap(.attnLogitSoftcapping, fallback: 50)
        config.finalLogitSoftcap = try c.decodeSoftcap(.finalLogitSoftcapping, fallback: 30)
        // transformers' default pattern: layers 0, 2, 4, … windowed.
        config.slidingLayers = try c.decodeLayerTypes(layers: config.numHiddenLayers) { ($0 + 1) % 2 != 0 }
        return config
    }

    static func encodeConfig(_ config: ModelConfig, to c: inout KeyedEncodingContainer<ModelConfig.Keys>) throws {
        try c.encode(["Gemma2ForCausalLM"], forKey: .architectures)
        try config.encodeRope(to: &c)
        try GemmaBlock.encode(config, to: &c)
        try c.encode(config.attentionSoftcap, forKey: .attnLogitSoftcapping)
        try c.encode(config.finalLogitSoftcap, forKey: .finalLogitSoftcapping)
    }

    static func layerNormNames(_ config: ModelConfig) -> [String] { GemmaBlock.normNames }

    static func block(_ layer: DecoderLayer, _ hidden: Tensor, _ context: ForwardContext, layer index: Int) throws -> Tensor {
        try GemmaBlock.forward(layer, hidden, context, layer: index)
    }
}

/// What Gemma 2 and Gemma 3 share: the norms around each sub-block, and the keys of their configs.
enum GemmaBlock {
    static let normNames = ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"]

    /// h + norm₁(attention(norm₀(h))), then h + norm₃(mlp(norm₂(h))).
    static func forward(_ layer: DecoderLayer, _ hidden: Tensor, _ context: ForwardContext, layer index: Int) throws -> Tensor {
        let attended = try hidden + layer.norm(layer.attention(layer.norm(hidden, 0), context, layer: index), 1)
        return try attended + layer.norm(layer.mlp(layer.norm(attended, 2), context), 3)
    }

    /// The keys Gemma 2 and 3 read alike, with transformers' defaults (head_dim 256, tied head, window 4096,
    /// query_pre_attn_scalar 256).
    static func decodeCommon(_ c: KeyedDecodingContainer<ModelConfig.Keys>, modelType: String) throws -> ModelConfig {
        var config = try ModelConfig.decodeCommon(c, modelType: modelType, tieDefault: true, rope: false)
        if !c.contains(.headDim) { config.headDim = 256 }
        config.attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        config.outputProjectionBias = config.attentionBias
        // Gemma's modeling reads `hidden_activation`; older files name it `hidden_act`.
        let activationKey: ModelConfig.Keys = c.contains(.hiddenActivation) ? .hiddenActivation : .hiddenAct
        config.activation = try ModelConfig.readActivation(c, activationKey, fallback: .geluTanh)
        config.normWeightOffset = 1
        config.embeddingScale = Double(config.hiddenSize).squareRoot()
        let scalar = try c.decodeIfPresent(Double.self, forKey: .queryPreAttnScalar) ?? 256
        try c.refuse(.queryPreAttnScalar, when: scalar <= 0, "must be positive, got \(scalar)")
        config.attentionScale = 1 / scalar.squareRoot()
        config.slidingWindow = c.contains(.slidingWindow) ? try c.decodeIfPresent(Int.self, forKey: .slidingWindow) : 4096
        try c.refuse(.useBidirectionalAttention, when: try c.decodeIfPresent(Bool.self, forKey: .useBidirectionalAttention) == true,
                     "bidirectional attention (an encoder) is not supported; Loom trains causal LMs")
        return config
    }

    static func encode(_ config: ModelConfig, to c: inout KeyedEncodingContainer<ModelConfig.Keys>) throws {
        try c.encode(config.activation.rawValue, forKey: .hiddenActivation)
        try c.encode(config.attentionBias, forKey: .attentionBias)
        let scale = config.attentionScale ?? 1 / Double(config.headDim).squareRoot()
        try c.encode((1 / (scale * scale)).rounded(), forKey: .queryPreAttnScalar)
        try c.encode(config.slidingWindow, forKey: .slidingWindow)
        if let sliding = config.slidingLayers {
            try c.encode(sliding.map { $0 ? "sliding_attention" : "full_attention" }, forKey: .layerTypes)
        }
    }
}

extension KeyedDecodingContainer where Key == ModelConfig.Keys {
    /// A soft-capping value: `fallback` when absent, nil when null (no capping); positive otherwise.
    func decodeSoftcap(_ key: Key, fallback: Double?) throws -> Double? {
        guard contains(key) else { return fallback }
        guard let cap = try decodeIfPresent(Double.self, forKey: key) else { return nil }
        try refuse(key, when: cap <= 0, "must be positive or null, got \(cap)")
        return cap
    }
}
