// LlamaFamily — llama, mistral, qwen2 and qwen3: the Llama block (pre-norm RMSNorm, SwiGLU, RoPE with
// llama3 / linear / yarn scaling), differing in which projections carry a bias, Qwen3's q/k norms,
// Mistral's (and Qwen2's optional) sliding window, and defaults.
import Foundation

enum LlamaFamily: ModelFamily {
    static let modelTypes = ["llama", "mistral", "qwen2", "qwen3"]

    static func decodeConfig(_ c: KeyedDecodingContainer<ModelConfig.Keys>, modelType: String) throws -> ModelConfig {
        var config = try ModelConfig.decodeCommon(c, modelType: modelType)
        switch modelType {
        case "qwen2":
            // Qwen2's attention always has q/k/v biases (its config has no key for it); no o/MLP bias.
            config.attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? true
        case "mistral":
            config.attentionBias = false
        case "qwen3":
            // One `attention_bias` for q, k, v and o; no MLP bias; an RMSNorm of each q and k head.
            config.attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
            config.outputProjectionBias = config.attentionBias
            config.queryKeyNorm = true
        default:
            config.attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
            config.outputProjectionBias = config.attentionBias
            config.mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false
        }
        config.activation = try ModelConfig.readActivation(c, .hiddenAct, fallback: .silu, supported: [.silu])
        let useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) ?? false
        // Qwen3 windows only the layers from max_window_layers on; one window for every layer would be wrong.
        try c.refuse(.useSlidingWindow, when: modelType == "qwen3" && useSlidingWindow,
                     "qwen3 with use_sliding_window true (a window on some layers only) is not supported")
        let windowed = modelType == "mistral" || useSlidingWindow
        config.slidingWindow = windowed ? try c.decodeIfPresent(Int.self, forKey: .slidingWindow) : nil
        return config
    }

    static func encodeConfig(_ config: ModelConfig, to c: inout KeyedEncodingContainer<ModelConfig.Keys>) throws {
        let architecture = switch config.modelType {
        case "mistral": "MistralForCausalLM"
        case "qwen2": "Qwen2ForCausalLM"
        case "qwen3": "Qwen3ForCausalLM"
        default: "LlamaForCausalLM"
        }
        try c.encode([architecture], forKey: .architectures)
        try config.encodeRope(to: &c)
        if config.modelType != "mistral" { try c.encode(config.attentionBias, forKey: .attentionBias) }
        if config.modelType == "llama" { try c.encode(config.mlpBias, forKey: .mlpBias) }
        try c.encode("silu", forKey: .hiddenAct)
        if let window = config.slidingWindow {
            try c.encode(window, forKey: .slidingWindow)
            if config.modelType == "qwen2" { try c.encode(true, forKey: .useSlidingWindow) }
        }
    }
}
