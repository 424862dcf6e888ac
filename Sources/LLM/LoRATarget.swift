// LoRATarget — the seven projections of a Llama decoder layer, by their Hugging Face names (which are
// also PEFT's `target_modules` names).
public enum LoRATarget: String, CaseIterable, Codable, Sendable, Comparable {
    case query = "q_proj"
    case key = "k_proj"
    case value = "v_proj"
    case output = "o_proj"
    case gate = "gate_proj"
    case up = "up_proj"
    case down = "down_proj"

    /// The submodule holding it in a layer: `self_attn` or `mlp`.
    public var module: String {
        switch self {
        case .query, .key, .value, .output: "self_attn"
        case .gate, .up, .down: "mlp"
        }
    }

    /// Its path inside layer N: `model.layers.N.<path>.weight`.
    public var path: String { "\(module).\(rawValue)" }

    /// Its key prefix in a checkpoint: `model.layers.3.self_attn.q_proj`.
    public func name(layer: Int) -> String { "model.layers.\(layer).\(path)" }

    /// Parses a PEFT target name; nil for names other than the seven projections.
    public init?(name: String) { self.init(rawValue: name) }

    public static func < (a: LoRATarget, b: LoRATarget) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
