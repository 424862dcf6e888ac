// Gemma3Family — Gemma 3's text model (`gemma3_text`), and the text part of a multimodal `gemma3`
// checkpoint (its `text_config`, the weights under `model.language_model.` — or the Hub's original
// `language_model.model.` — with the vision tower's tensors left unread). Gemma 2's block (norms around
// each sub-block, (1 + w) gains, GeGLU, √hidden embedding scale, query_pre_attn_scalar) plus an RMSNorm of
// each query and key head, five windowed layers to one global (`layer_types`), and two RoPE bases: the
// global one (with its `rope_scaling`) and the windowed layers' local one. Like transformers 5.23's Gemma
// 3, attention is not soft-capped (attn_logit_softcapping is read and ignored); final logits are when
// final_logit_softcapping is set — by the text model, not by the multimodal wrapper.
import Foundation
import Torch

enum Gemma3Family: ModelFamily {
    static let modelTypes = ["gemma3_text", "gemma3"]

    /// transformers 5 keys `rope_parameters` by layer type.
    private enum LayerTypeKeys: String, CodingKey {
        case full = "full_attention"
        case sliding = "sliding_attention"
    }

    static func decodeConfig(_ top: KeyedDecodingContainer<ModelConfig.Keys>, modelType: String) throws -> ModelConfig {
        let multimodal = modelType == "gemma3"
        let c = multimodal ? try top.nestedContainer(keyedBy: ModelConfig.Keys.self, forKey: .textConfig) : top
        var config = try GemmaBlock.decodeCommon(c, modelType: modelType)
        if multimodal {
            config.textModelType = "gemma3_text"
            config.weightNames = WeightNames(prefix: "model.language_model.", head: "lm_head.weight")
            config.tieWordEmbeddings = try top.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? config.tieWordEmbeddings
        }
        config.queryKeyNorm = true
        // transformers' multimodal Gemma3ForConditionalGeneration does not soft-cap its logits, whatever
        // text_config says (the released checkpoints set none); its text model alone does.
        let cap = try c.decodeSoftcap(.finalLogitSoftcapping, fallback: nil)
        config.finalLogitSoftcap = multimodal ? nil : cap
        let pattern = try c.decodeIfPresent(Int.self, forKey: .slidingWindowPattern) ?? 6
        try c.refuse(.slidingWindowPattern, when: pattern <= 0, "must be positive, got \(pattern)")
        config.slidingLayers = try c.decodeLayerTypes(layers: config.numHiddenLayers) { ($0 + 1) % pattern != 0 }

        // Older files: rope_theta (global), rope_local_base_freq, rope_scaling (global). transformers 5:
        // rope_parameters {full_attention: {...}, sliding_attention: {...}}.
        var theta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        var local = try c.decodeIfPresent(Double.self, forKey: .ropeLocalBaseFreq)
        var scaling: RopeScaling?
        if try !c.decodeNil(orAbsent: .ropeScaling) {
            scaling = try RopeScaling.decode(from: c.nestedContainer(keyedBy: RopeScaling.Keys.self, forKey: .ropeScaling),
                                             maxPositions: config.maxPositionEmbeddings)
        }
        if try !c.decodeNil(orAbsent: .ropeParameters) {
            let byType = try c.nestedContainer(keyedBy: LayerTypeKeys.self, forKey: .ropeParameters)
            if byType.contains(.full) {
                let full = try byType.nestedContainer(keyedBy: RopeScaling.Keys.self, forKey: .full)
                scaling = try RopeScaling.decode(from: full, maxPositions: config.maxPositionEmbeddings)
                theta = try full.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? theta
            }
            if byType.contains(.sliding) {
                let sliding = try byType.nestedContainer(keyedBy: RopeScaling.Keys.self, forKey: .sliding)
                guard try RopeScaling.decode(from: sliding, maxPositions: config.maxPositionEmbeddings) == nil else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .ropeType, in: sliding, debugDescription: "a scaled RoPE on the windowed layers is not supported (expected \"default\")")
                }
                local = try sliding.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? local
            }
        }
        config.ropeTheta = theta ?? 1_000_000
        config.ropeScaling = scaling
        config.localRopeTheta = local ?? 10_000
        return config
    }

    static func encodeConfig(_ config: ModelConfig, to c: inout KeyedEncodingContainer<ModelConfig.Keys>) throws {
        try c.encode(["Gemma3ForCausalLM"], forKey: .architectures)
        try config.encodeRope(to: &c)
        try c.encode(config.localRopeTheta, forKey: .ropeLocalBaseFreq)
        try GemmaBlock.encode(config, to: &c)
        try c.encode(config.finalLogitSoftcap, forKey: .finalLogitSoftcapping)
    }

    static func layerNormNames(_ config: ModelConfig) -> [String] { GemmaBlock.normNames }

    static func block(_ layer: DecoderLayer, _ hidden: Tensor, _ context: ForwardContext, layer index: Int) throws -> Tensor {
        try GemmaBlock.forward(layer, hidden, context, layer: index)
    }
}
