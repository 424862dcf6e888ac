// LlamaConfig — the architecture of a Llama-family model (llama, mistral, qwen2, qwen3) as Hugging Face's
// config.json describes it, with the defaults transformers applies when a key is absent. Reading
// validates as it goes: a missing or wrong-typed key is an error naming config.json and the key.
import Foundation
import LoomCore

public struct LlamaConfig: Codable, Sendable, Equatable {
    /// The `model_type` values this implementation runs (their decoder layers are the same Llama block;
    /// they differ in which projections carry a bias, Qwen3's q/k norms, and defaults).
    public static let supportedModelTypes = ["llama", "mistral", "qwen2", "qwen3"]

    public var modelType: String
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Grouped-query attention: each key/value head serves numAttentionHeads / numKeyValueHeads query heads.
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var ropeTheta: Double
    /// `rope_scaling` (or transformers 5's `rope_parameters`) when it is not the default rotation.
    public var ropeScaling: RopeScaling?
    public var rmsNormEps: Double
    public var tieWordEmbeddings: Bool
    /// Bias on q_proj, k_proj and v_proj (always on for qwen2).
    public var attentionBias: Bool
    /// Bias on o_proj: llama ties it to `attention_bias`; qwen2 and mistral never have one.
    public var outputProjectionBias: Bool
    /// Bias on gate_proj, up_proj and down_proj (llama's `mlp_bias`).
    public var mlpBias: Bool
    /// Qwen3's RMSNorm of each query and key head (weights `self_attn.q_norm` / `k_norm`, head_dim each)
    /// before the rotation.
    public var queryKeyNorm: Bool { modelType == "qwen3" }
    public var maxPositionEmbeddings: Int
    /// Mistral's (and qwen2's, when `use_sliding_window`) attention window; nil when attention is global.
    public var slidingWindow: Int?
    public var bosTokenId: Int?
    /// `eos_token_id` (one id or a list in config.json).
    public var eosTokenIds: [Int]

    public init(
        modelType: String = "llama", hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
        numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil, vocabSize: Int,
        ropeTheta: Double = 10_000, ropeScaling: RopeScaling? = nil, rmsNormEps: Double = 1e-6, tieWordEmbeddings: Bool = false,
        attentionBias: Bool? = nil, mlpBias: Bool = false, maxPositionEmbeddings: Int = 2048,
        slidingWindow: Int? = nil, bosTokenId: Int? = 1, eosTokenIds: [Int] = [2]
    ) {
        self.modelType = modelType
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? hiddenSize / max(numAttentionHeads, 1)
        self.vocabSize = vocabSize
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.rmsNormEps = rmsNormEps
        self.tieWordEmbeddings = tieWordEmbeddings
        let qkvBias = attentionBias ?? (modelType == "qwen2")
        self.attentionBias = qkvBias
        self.outputProjectionBias = modelType == "llama" || modelType == "qwen3" ? qkvBias : false
        self.mlpBias = mlpBias
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.slidingWindow = slidingWindow
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
    }

    /// Reads `config.json` (or `directory/config.json`).
    public static func load(from url: URL) throws -> LlamaConfig {
        let file = isDirectory(url) ? url.appendingPathComponent("config.json") : url
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ModelFileError(file: file.path, problem: "cannot read the model configuration (\(error.localizedDescription))")
        }
        return try decode(data, file: file.path)
    }

    /// Parses config.json bytes; errors name `file`.
    public static func decode(_ data: Data, file: String) throws -> LlamaConfig {
        do {
            return try JSONDecoder().decode(LlamaConfig.self, from: data)
        } catch let error as DecodingError {
            throw ModelFileError(decoding: error, file: file)
        }
    }

    // MARK: derived sizes

    /// Query heads per key/value head.
    public var queryGroupSize: Int { numAttentionHeads / numKeyValueHeads }
    /// Output width of q_proj.
    public var queryWidth: Int { numAttentionHeads * headDim }
    /// Output width of k_proj and v_proj.
    public var keyValueWidth: Int { numKeyValueHeads * headDim }

    /// Input and output widths of each projection in a decoder layer.
    public func shape(of target: LoRATarget) -> (inFeatures: Int, outFeatures: Int) {
        switch target {
        case .query: (hiddenSize, queryWidth)
        case .key, .value: (hiddenSize, keyValueWidth)
        case .output: (queryWidth, hiddenSize)
        case .gate, .up: (hiddenSize, intermediateSize)
        case .down: (intermediateSize, hiddenSize)
        }
    }

    /// Weights of the `targets` projections over all layers (biases not counted).
    public func projectionWeights(_ targets: [LoRATarget] = LoRATarget.allCases) -> Int {
        targets.reduce(0) { total, target in
            let shape = shape(of: target)
            return total + shape.inFeatures * shape.outFeatures
        } * numHiddenLayers
    }

    /// Whether a projection carries a bias.
    public func hasBias(_ target: LoRATarget) -> Bool {
        switch target {
        case .query, .key, .value: attentionBias
        case .output: outputProjectionBias
        case .gate, .up, .down: mlpBias
        }
    }

    // MARK: Codable (Hugging Face key names)

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case vocabSize = "vocab_size"
        case ropeTheta = "rope_theta"
        case ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling"
        case rmsNormEps = "rms_norm_eps"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings"
        case slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case architectures
        case torchDtype = "torch_dtype"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decode(String.self, forKey: .modelType)
        guard Self.supportedModelTypes.contains(modelType) else {
            throw DecodingError.dataCorruptedError(
                forKey: .modelType, in: c,
                debugDescription: "model_type \"\(modelType)\" is not supported (supported: \(Self.supportedModelTypes.joined(separator: ", ")))")
        }
        hiddenSize = try c.decodePositive(.hiddenSize)
        intermediateSize = try c.decodePositive(.intermediateSize)
        numHiddenLayers = try c.decodePositive(.numHiddenLayers)
        numAttentionHeads = try c.decodePositive(.numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        guard numKeyValueHeads > 0, numAttentionHeads % numKeyValueHeads == 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .numKeyValueHeads, in: c,
                debugDescription: "\(numKeyValueHeads) must be positive and divide num_attention_heads (\(numAttentionHeads))")
        }
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hiddenSize / numAttentionHeads
        guard headDim > 0, headDim % 2 == 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .headDim, in: c, debugDescription: "must be a positive even number (rotary embeddings rotate pairs), got \(headDim)")
        }
        vocabSize = try c.decodePositive(.vocabSize)

        // transformers 5 writes rope_parameters (and still rope_theta at the top level); older files
        // have rope_theta and an optional rope_scaling. The first of the two present says the scaling.
        let maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        var theta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        var scaling: RopeScaling?
        var scalingRead = false
        for key in [CodingKeys.ropeParameters, .ropeScaling] where try c.decodeNil(orAbsent: key) == false {
            let rope = try c.nestedContainer(keyedBy: RopeScaling.Keys.self, forKey: key)
            if !scalingRead {
                scaling = try RopeScaling.decode(from: rope, maxPositions: maxPositions)
                scalingRead = true
            }
            if let nested = try rope.decodeIfPresent(Double.self, forKey: .ropeTheta) { theta = theta ?? nested }
        }
        ropeScaling = scaling
        ropeTheta = theta ?? 10_000
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        // Qwen2's attention always has q/k/v biases (its config has no key for it); Mistral never has any.
        switch modelType {
        case "qwen2":
            attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? true
            outputProjectionBias = false
            mlpBias = false
        case "mistral":
            attentionBias = false
            outputProjectionBias = false
            mlpBias = false
        case "qwen3":
            // One `attention_bias` for q, k, v and o; no MLP bias.
            attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
            outputProjectionBias = attentionBias
            mlpBias = false
        default:
            attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
            outputProjectionBias = attentionBias
            mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false
        }
        let activation = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        guard activation == "silu" else {
            throw DecodingError.dataCorruptedError(
                forKey: .hiddenAct, in: c, debugDescription: "hidden_act \"\(activation)\" is not supported (only \"silu\")")
        }
        maxPositionEmbeddings = maxPositions
        let useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) ?? false
        if modelType == "qwen3", useSlidingWindow {
            // Qwen3 windows only the layers from max_window_layers on; one window for every layer would be wrong.
            throw DecodingError.dataCorruptedError(
                forKey: .useSlidingWindow, in: c,
                debugDescription: "qwen3 with use_sliding_window true (a window on some layers only) is not supported")
        }
        let windowed = modelType == "mistral" || useSlidingWindow
        slidingWindow = windowed ? try c.decodeIfPresent(Int.self, forKey: .slidingWindow) : nil
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        if try c.decodeNil(orAbsent: .eosTokenId) {
            eosTokenIds = []
        } else if let single = try? c.decode(Int.self, forKey: .eosTokenId) {
            eosTokenIds = [single]
        } else {
            eosTokenIds = try c.decode([Int].self, forKey: .eosTokenId)
        }
    }

    /// Writes the keys transformers needs to rebuild the model (`architectures`, `hidden_act`, …).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let architecture = switch modelType {
        case "mistral": "MistralForCausalLM"
        case "qwen2": "Qwen2ForCausalLM"
        case "qwen3": "Qwen3ForCausalLM"
        default: "LlamaForCausalLM"
        }
        try c.encode([architecture], forKey: .architectures)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        if let ropeScaling {
            var rope = c.nestedContainer(keyedBy: RopeScaling.Keys.self, forKey: .ropeScaling)
            try ropeScaling.encode(to: &rope, theta: ropeTheta)
        }
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        if modelType != "mistral" { try c.encode(attentionBias, forKey: .attentionBias) }
        if modelType == "llama" { try c.encode(mlpBias, forKey: .mlpBias) }
        try c.encode("silu", forKey: .hiddenAct)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        if let slidingWindow {
            try c.encode(slidingWindow, forKey: .slidingWindow)
            if modelType == "qwen2" { try c.encode(true, forKey: .useSlidingWindow) }
        }
        try c.encode(bosTokenId, forKey: .bosTokenId)
        if eosTokenIds.count == 1 { try c.encode(eosTokenIds[0], forKey: .eosTokenId) } else { try c.encode(eosTokenIds, forKey: .eosTokenId) }
        try c.encode("float32", forKey: .torchDtype)
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }
}

extension KeyedDecodingContainer {
    /// A required integer that must be positive.
    fileprivate func decodePositive(_ key: Key) throws -> Int {
        let value = try decode(Int.self, forKey: key)
        guard value > 0 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must be positive, got \(value)")
        }
        return value
    }

    /// True when the key is absent or null.
    fileprivate func decodeNil(orAbsent key: Key) throws -> Bool {
        try !contains(key) || decodeNil(forKey: key)
    }
}

extension ModelFileError {
    /// A JSONDecoder failure as "file: key.path: what was expected".
    init(decoding error: DecodingError, file: String) {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(file: file, key: path(context.codingPath + [key]), problem: "required key is missing")
        case .typeMismatch(let type, let context):
            self.init(file: file, key: path(context.codingPath), problem: "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            self.init(file: file, key: path(context.codingPath), problem: "expected \(Self.describe(type)), found null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let underlying = (context.underlyingError as NSError?)?.localizedDescription
                self.init(file: file, problem: "not valid JSON" + (underlying.map { " (\($0))" } ?? ""))
            } else {
                self.init(file: file, key: path(context.codingPath), problem: context.debugDescription)
            }
        @unknown default:
            self.init(file: file, problem: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [Int].Type: "a list of integers"
        case is [String].Type: "a list of strings"
        default: "a value of type \(type)"
        }
    }
}
