// LoRATarget — the projections of a decoder layer, by their Hugging Face names (which are also PEFT's
// `target_modules` names): Llama's seven, and Phi-3's fused qkv_proj and gate_up_proj. Which of them a
// model has is its configuration's `projectionTargets`; where their tensors sit is `WeightNames`.
public enum LoRATarget: String, CaseIterable, Codable, Sendable, Comparable {
    case query = "q_proj"
    case key = "k_proj"
    case value = "v_proj"
    /// Phi-3's q, k and v as one projection (rows q, then k, then v).
    case queryKeyValue = "qkv_proj"
    case output = "o_proj"
    case gate = "gate_proj"
    case up = "up_proj"
    /// Phi-3's gate and up as one projection (rows gate, then up).
    case gateUp = "gate_up_proj"
    case down = "down_proj"

    /// The submodule holding it in a layer: `self_attn` or `mlp`.
    public var module: String {
        switch self {
        case .query, .key, .value, .queryKeyValue, .output: "self_attn"
        case .gate, .up, .gateUp, .down: "mlp"
        }
    }

    /// Its path inside a layer: `<layer prefix><path>.weight`.
    public var path: String { "\(module).\(rawValue)" }

    /// Parses a PEFT target name; nil for names that are no projection.
    public init?(name: String) { self.init(rawValue: name) }

    public static func < (a: LoRATarget, b: LoRATarget) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Where a model's tensors sit in its checkpoint, declared once per layout and used by loading, export,
/// full-parameter training, PEFT adapter keys and GGUF export: `model.embed_tokens.weight`,
/// `model.layers.N.self_attn.q_proj.weight`, …, under a multimodal wrapper's prefix where there is one.
public struct WeightNames: Sendable, Equatable {
    /// Before `embed_tokens`, `layers.` and `norm`: `model.` (or `model.language_model.`).
    public var prefix: String
    /// The untied head.
    public var head: String

    public init(prefix: String = "model.", head: String = "lm_head.weight") {
        self.prefix = prefix
        self.head = head
    }

    /// The names of a text-only checkpoint (what exports write).
    public static let standard = WeightNames()

    public var embedding: String { prefix + "embed_tokens.weight" }
    public var finalNorm: String { prefix + "norm.weight" }
    /// `model.layers.3.`
    public func layer(_ index: Int) -> String { prefix + "layers.\(index)." }
    /// `model.layers.3.self_attn.q_proj` (without `.weight` / `.bias`).
    public func projection(_ target: LoRATarget, layer index: Int) -> String { layer(index) + target.path }
}
