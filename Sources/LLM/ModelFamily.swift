// ModelFamily — what makes one family of Hugging Face causal LMs (a set of `model_type`s) different
// from another, and the registry that finds a family by `model_type`. A family is one file: it decodes
// its config.json keys into a ModelConfig (norm style, activation, attention scale and soft-capping,
// windowed layers, RoPE, fused projections, where its tensors sit), writes them back, names its layers'
// norms, and wires its block. Everything else — projections, LoRA, QLoRA, the KV cache, export — is the
// one DecoderModel every family shares. Adding a family is a file and a line in `ModelFamilies.registered`.
import Torch

protocol ModelFamily {
    /// The `model_type` values this family reads.
    static var modelTypes: [String] { get }
    /// config.json's keys → the architecture (defaults as transformers applies them); a key Loom cannot
    /// honour is a DecodingError naming it.
    static func decodeConfig(_ c: KeyedDecodingContainer<ModelConfig.Keys>, modelType: String) throws -> ModelConfig
    /// The family's own keys (beyond the common ones ModelConfig writes), so that transformers rebuilds the
    /// same model from the written config.json.
    static func encodeConfig(_ config: ModelConfig, to c: inout KeyedEncodingContainer<ModelConfig.Keys>) throws
    /// The names of a layer's norm gains (after the layer prefix, without `.weight`), in the order `block`
    /// uses them.
    static func layerNormNames(_ config: ModelConfig) -> [String]
    /// One decoder layer: h (B·T, C) → (B·T, C).
    static func block(_ layer: DecoderLayer, _ hidden: Tensor, _ context: ForwardContext, layer index: Int) throws -> Tensor
}

extension ModelFamily {
    /// Llama's pre-norm block: h + attention(norm₀(h)), then h + mlp(norm₁(h)).
    static func block(_ layer: DecoderLayer, _ hidden: Tensor, _ context: ForwardContext, layer index: Int) throws -> Tensor {
        let attended = try hidden + layer.attention(layer.norm(hidden, 0), context, layer: index)
        return try attended + layer.mlp(layer.norm(attended, 1), context)
    }

    static func layerNormNames(_ config: ModelConfig) -> [String] { ["input_layernorm", "post_attention_layernorm"] }
}

enum ModelFamilies {
    /// Every family Loom runs.
    static let registered: [any ModelFamily.Type] = [LlamaFamily.self, Gemma2Family.self, Gemma3Family.self, Phi3Family.self]

    static func family(for modelType: String) -> (any ModelFamily.Type)? {
        for family in registered where family.modelTypes.contains(modelType) { return family }
        return nil
    }

    static var modelTypes: [String] {
        var types: [String] = []
        for family in registered { types += family.modelTypes }
        return types
    }
}

extension KeyedDecodingContainer where Key == ModelConfig.Keys {
    /// `layer_types` (one "sliding_attention" / "full_attention" per layer) as windowed flags, or the
    /// family's default pattern when absent.
    func decodeLayerTypes(layers: Int, default isSliding: (Int) -> Bool) throws -> [Bool] {
        guard let types = try decodeIfPresent([String].self, forKey: .layerTypes) else { return (0..<layers).map(isSliding) }
        guard types.count == layers else {
            throw DecodingError.dataCorruptedError(forKey: .layerTypes, in: self,
                                                   debugDescription: "has \(types.count) entries, expected one per layer (\(layers))")
        }
        return try types.map { type in
            switch type {
            case "sliding_attention": return true
            case "full_attention": return false
            default:
                throw DecodingError.dataCorruptedError(
                    forKey: .layerTypes, in: self, debugDescription: "\"\(type)\" is not supported (expected sliding_attention or full_attention)")
            }
        }
    }

    /// Refuses a key whose value Loom does not implement.
    func refuse(_ key: ModelConfig.Keys, when condition: Bool, _ reason: String) throws {
        if condition { throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: reason) }
    }
}
