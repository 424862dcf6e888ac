// Phi3Family — Phi-3 / Phi-3.5 / Phi-4-mini (`phi3`): the Llama block with q/k/v stored as one
// `qkv_proj` and gate/up as one `gate_up_proj` (rows q, k, v and gate, up), which is also how PEFT names
// their LoRA targets; no biases; an optional sliding window on every layer; a partial rotation
// (`partial_rotary_factor`: the first fraction of each head's dimensions rotate); LongRoPE (`rope_type:
// longrope`, the 128k-context checkpoints: Phi-3-*-128k, Phi-3.5-mini, Phi-4-mini) with one factor per
// rotated pair.
import Foundation

enum Phi3Family: ModelFamily {
    static let modelTypes = ["phi3"]

    static func decodeConfig(_ c: KeyedDecodingContainer<ModelConfig.Keys>, modelType: String) throws -> ModelConfig {
        var config = try ModelConfig.decodeCommon(c, modelType: modelType)
        config.fusedProjections = true
        config.activation = try ModelConfig.readActivation(c, .hiddenAct, fallback: .silu, supported: [.silu])
        config.slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        var factor = try c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor)
        if try !c.decodeNil(orAbsent: .ropeParameters) {
            let rope = try c.nestedContainer(keyedBy: RopeScaling.Keys.self, forKey: .ropeParameters)
            factor = try rope.decodeIfPresent(Double.self, forKey: .partialRotaryFactor) ?? factor
        }
        let fraction = factor ?? 1
        let rotary = Int(Double(config.headDim) * fraction)
        try c.refuse(.partialRotaryFactor, when: !(fraction > 0 && fraction <= 1) || rotary % 2 != 0,
                     "must be in (0, 1] and rotate an even number of each head's \(config.headDim) dimensions, got \(fraction)")
        config.partialRotaryFactor = fraction
        if case .longrope(let short, _, _, _) = config.ropeScaling, short.count != rotary / 2 {
            let key: ModelConfig.Keys = c.contains(.ropeParameters) ? .ropeParameters : .ropeScaling
            try c.refuse(key, when: true, "short_factor and long_factor need one factor per rotated pair (\(rotary / 2)), got \(short.count)")
        }
        return config
    }

    static func encodeConfig(_ config: ModelConfig, to c: inout KeyedEncodingContainer<ModelConfig.Keys>) throws {
        try c.encode(["Phi3ForCausalLM"], forKey: .architectures)
        try config.encodeRope(to: &c)
        try c.encode("silu", forKey: .hiddenAct)
        try c.encode(config.partialRotaryFactor, forKey: .partialRotaryFactor)
        try c.encode(config.slidingWindow, forKey: .slidingWindow)
    }
}
