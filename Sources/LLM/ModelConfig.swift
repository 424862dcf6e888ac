// ModelConfig — the architecture of a decoder-only model as config.json describes it, in the terms of
// Loom's one decoder (DecoderModel): sizes, which projections carry biases, norms, attention scale and
// soft-capping, windowed layers, RoPE. What a `model_type`'s keys mean, and its defaults, is its family's
// business (ModelFamily: one file per family, registered in ModelFamilies); this file holds the fields,
// the sizes derived from them and the reading and writing of config.json. Reading validates as it goes:
// a missing or wrong-typed key is an error naming config.json and the key.
import Foundation
import LoomCore

public struct ModelConfig: Codable, Sendable, Equatable {
    /// The `model_type` values some registered family runs.
    public static var supportedModelTypes: [String] { ModelFamilies.modelTypes }

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
    /// Bias on the q, k and v projections.
    public var attentionBias: Bool
    /// Bias on o_proj.
    public var outputProjectionBias: Bool
    /// Bias on the MLP's projections.
    public var mlpBias: Bool
    public var maxPositionEmbeddings: Int
    /// The attention window of the windowed layers; nil when attention is global everywhere.
    public var slidingWindow: Int?
    public var bosTokenId: Int?
    /// `eos_token_id` (one id or a list in config.json).
    public var eosTokenIds: [Int]

    // What families differ in beyond the Llama block (the defaults are Llama's).

    /// An RMSNorm of each query and key head (weights `self_attn.q_norm` / `k_norm`, head_dim each) before
    /// the rotation: Qwen3, Gemma 3.
    public var queryKeyNorm = false
    /// The MLP's gate activation: SiLU (SwiGLU) or tanh-approximated GELU (GeGLU, Gemma).
    public var activation = Activation.silu
    /// Added to every RMSNorm gain before it multiplies: 0, or 1 for Gemma's x̂·(1 + w).
    public var normWeightOffset = 0.0
    /// The embedding rows multiplied by this (Gemma: √hidden, in the embedding's dtype); nil for none.
    public var embeddingScale: Double?
    /// The attention scores' scale; nil for 1/√head_dim (Gemma: query_pre_attn_scalar^−½).
    public var attentionScale: Double?
    /// Attention scores soft-capped, cap·tanh(s/cap), before the mask (Gemma 2); nil for none.
    public var attentionSoftcap: Double?
    /// Logits soft-capped the same way (Gemma 2); nil for none.
    public var finalLogitSoftcap: Double?
    /// Per layer, whether its attention is windowed by `slidingWindow` (Gemma's `layer_types`); nil: every
    /// layer is when `slidingWindow` is set.
    public var slidingLayers: [Bool]?
    /// The RoPE base of the windowed layers when it differs from `ropeTheta` (Gemma 3's local base; those
    /// layers rotate without `ropeScaling`).
    public var localRopeTheta: Double?
    /// The fraction of each head's dimensions that rotate (Phi-3's `partial_rotary_factor`).
    public var partialRotaryFactor = 1.0
    /// q/k/v as one `qkv_proj` and gate/up as one `gate_up_proj` (Phi-3): also what LoRA targets there.
    public var fusedProjections = false
    /// Where the text model's tensors sit in the checkpoint: `model.…`, or under a multimodal wrapper's prefix.
    public var weightNames = WeightNames.standard
    /// config.json is a multimodal wrapper whose `text_config` this is (Gemma 3): exports write the text
    /// model alone, as its text-only `model_type`.
    public var textModelType: String?

    public enum Activation: String, Codable, Sendable {
        case silu
        case geluTanh = "gelu_pytorch_tanh"
    }

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
        queryKeyNorm = modelType == "qwen3"
    }

    /// The family that runs this `model_type`.
    var family: any ModelFamily.Type { ModelFamilies.family(for: modelType)! }

    /// Reads `config.json` (or `directory/config.json`).
    public static func load(from url: URL) throws -> ModelConfig {
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
    public static func decode(_ data: Data, file: String) throws -> ModelConfig {
        do {
            return try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let error as DecodingError {
            throw ModelFileError(decoding: error, file: file)
        }
    }

    // MARK: derived sizes and names

    /// Query heads per key/value head.
    public var queryGroupSize: Int { numAttentionHeads / numKeyValueHeads }
    /// Output width of q_proj.
    public var queryWidth: Int { numAttentionHeads * headDim }
    /// Output width of k_proj and v_proj.
    public var keyValueWidth: Int { numKeyValueHeads * headDim }
    /// Dimensions of each head that rotate (all but Phi's partial rotary).
    public var rotaryDim: Int { Int(Double(headDim) * partialRotaryFactor) }

    /// The projections of a layer in the order the decoder computes them: q, k, v, o, gate, up, down, or
    /// Phi-3's qkv, o, gate_up, down.
    public var projectionTargets: [LoRATarget] {
        fusedProjections ? [.queryKeyValue, .output, .gateUp, .down] : [.query, .key, .value, .output, .gate, .up, .down]
    }
    /// The projections attention's input goes through together (one group), and the MLP's.
    var attentionInputTargets: [LoRATarget] { fusedProjections ? [.queryKeyValue] : [.query, .key, .value] }
    var mlpInputTargets: [LoRATarget] { fusedProjections ? [.gateUp] : [.gate, .up] }

    /// Whether `layer`'s attention is windowed.
    public func isSliding(layer: Int) -> Bool {
        guard slidingWindow != nil else { return false }
        return slidingLayers.map { $0[layer] } ?? true
    }

    /// Input and output widths of each projection in a decoder layer.
    public func shape(of target: LoRATarget) -> (inFeatures: Int, outFeatures: Int) {
        switch target {
        case .query: (hiddenSize, queryWidth)
        case .key, .value: (hiddenSize, keyValueWidth)
        case .queryKeyValue: (hiddenSize, queryWidth + 2 * keyValueWidth)
        case .output: (queryWidth, hiddenSize)
        case .gate, .up: (hiddenSize, intermediateSize)
        case .gateUp: (hiddenSize, 2 * intermediateSize)
        case .down: (intermediateSize, hiddenSize)
        }
    }

    /// Weights of the `targets` projections over all layers (biases not counted); all of them by default.
    public func projectionWeights(_ targets: [LoRATarget]? = nil) -> Int {
        (targets ?? projectionTargets).reduce(0) { total, target in
            let shape = shape(of: target)
            return total + shape.inFeatures * shape.outFeatures
        } * numHiddenLayers
    }

    /// Whether a projection carries a bias.
    public func hasBias(_ target: LoRATarget) -> Bool {
        switch target {
        case .query, .key, .value, .queryKeyValue: attentionBias
        case .output: outputProjectionBias
        case .gate, .up, .gateUp, .down: mlpBias
        }
    }

    /// `requested` projections as this model has them: on Phi-3's fused layout any of q/k/v asks for
    /// qkv_proj and gate/up for gate_up_proj; on the separate layout qkv_proj asks for q, k and v and
    /// gate_up_proj for gate and up. In the model's order, without repeats.
    public func loraTargets(for requested: [LoRATarget]) -> [LoRATarget] {
        var wanted = Set<LoRATarget>()
        for target in requested {
            switch (target, fusedProjections) {
            case (.query, true), (.key, true), (.value, true): wanted.insert(.queryKeyValue)
            case (.gate, true), (.up, true): wanted.insert(.gateUp)
            case (.queryKeyValue, false): wanted.formUnion([.query, .key, .value])
            case (.gateUp, false): wanted.formUnion([.gate, .up])
            default: wanted.insert(target)
            }
        }
        return projectionTargets.filter(wanted.contains)
    }

    /// Checks that `targets` are projections of this model; the error names the ones it has.
    public func checkTargets(_ targets: [LoRATarget]) throws {
        let own = projectionTargets
        if let foreign = targets.first(where: { !own.contains($0) }) {
            throw ModelError("\(modelType) has no \(foreign.rawValue) projection; its projections are \(own.map(\.rawValue).joined(separator: ", "))")
        }
    }

    // MARK: Codable (Hugging Face key names)

    /// config.json's keys that some family reads.
    public enum Keys: String, CodingKey {
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
        case ropeLocalBaseFreq = "rope_local_base_freq"
        case partialRotaryFactor = "partial_rotary_factor"
        case rmsNormEps = "rms_norm_eps"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case hiddenAct = "hidden_act"
        case hiddenActivation = "hidden_activation"
        case maxPositionEmbeddings = "max_position_embeddings"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window"
        case slidingWindowPattern = "sliding_window_pattern"
        case layerTypes = "layer_types"
        case queryPreAttnScalar = "query_pre_attn_scalar"
        case attnLogitSoftcapping = "attn_logit_softcapping"
        case finalLogitSoftcapping = "final_logit_softcapping"
        case useBidirectionalAttention = "use_bidirectional_attention"
        case textConfig = "text_config"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case architectures
        case torchDtype = "torch_dtype"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let modelType = try c.decode(String.self, forKey: .modelType)
        guard let family = ModelFamilies.family(for: modelType) else {
            throw DecodingError.dataCorruptedError(
                forKey: .modelType, in: c,
                debugDescription: "model_type \"\(modelType)\" is not supported (supported: \(Self.supportedModelTypes.joined(separator: ", ")))")
        }
        self = try family.decodeConfig(c, modelType: modelType)
    }

    /// Reads the keys every family shares, with the defaults transformers applies (`tieDefault`: the
    /// family's `tie_word_embeddings` default). RoPE is read by `readRope` when `rope` is true.
    static func decodeCommon(
        _ c: KeyedDecodingContainer<Keys>, modelType: String, tieDefault: Bool = false, rope: Bool = true
    ) throws -> ModelConfig {
        let hiddenSize = try c.decodePositive(.hiddenSize)
        let intermediateSize = try c.decodePositive(.intermediateSize)
        let numHiddenLayers = try c.decodePositive(.numHiddenLayers)
        let numAttentionHeads = try c.decodePositive(.numAttentionHeads)
        let numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        guard numKeyValueHeads > 0, numAttentionHeads % numKeyValueHeads == 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .numKeyValueHeads, in: c,
                debugDescription: "\(numKeyValueHeads) must be positive and divide num_attention_heads (\(numAttentionHeads))")
        }
        let headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hiddenSize / numAttentionHeads
        guard headDim > 0, headDim % 2 == 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .headDim, in: c, debugDescription: "must be a positive even number (rotary embeddings rotate pairs), got \(headDim)")
        }
        var config = ModelConfig(
            modelType: modelType, hiddenSize: hiddenSize, intermediateSize: intermediateSize,
            numHiddenLayers: numHiddenLayers, numAttentionHeads: numAttentionHeads,
            numKeyValueHeads: numKeyValueHeads, headDim: headDim, vocabSize: try c.decodePositive(.vocabSize),
            rmsNormEps: try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6,
            tieWordEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? tieDefault,
            attentionBias: false, maxPositionEmbeddings: try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048,
            bosTokenId: nil, eosTokenIds: [])
        config.outputProjectionBias = false
        config.queryKeyNorm = false
        if rope { (config.ropeTheta, config.ropeScaling) = try readRope(c, maxPositions: config.maxPositionEmbeddings) }
        config.bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        if try c.decodeNil(orAbsent: .eosTokenId) {
            config.eosTokenIds = []
        } else if let single = try? c.decode(Int.self, forKey: .eosTokenId) {
            config.eosTokenIds = [single]
        } else {
            config.eosTokenIds = try c.decode([Int].self, forKey: .eosTokenId)
        }
        return config
    }

    /// θ and the scaling: transformers 5 writes `rope_parameters` (and still `rope_theta` at the top level);
    /// older files have `rope_theta` and an optional `rope_scaling`. The first of the two present says the
    /// scaling; θ defaults to `defaultTheta`.
    static func readRope(_ c: KeyedDecodingContainer<Keys>, maxPositions: Int, defaultTheta: Double = 10_000) throws -> (Double, RopeScaling?) {
        var theta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        let original = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
        var scaling: RopeScaling?
        var scalingRead = false
        for key in [Keys.ropeParameters, .ropeScaling] where try c.decodeNil(orAbsent: key) == false {
            let rope = try c.nestedContainer(keyedBy: RopeScaling.Keys.self, forKey: key)
            if !scalingRead {
                scaling = try RopeScaling.decode(from: rope, maxPositions: maxPositions, originalMaxPositions: original)
                scalingRead = true
            }
            if let nested = try rope.decodeIfPresent(Double.self, forKey: .ropeTheta) { theta = theta ?? nested }
        }
        return (theta ?? defaultTheta, scaling)
    }

    /// The activation named by `key` (`hidden_act` / `hidden_activation`), `fallback` when absent; one
    /// outside `supported` (the family's) is an error naming the key.
    static func readActivation(
        _ c: KeyedDecodingContainer<Keys>, _ key: Keys, fallback: Activation, supported: [Activation] = [.silu, .geluTanh]
    ) throws -> Activation {
        guard let name = try c.decodeIfPresent(String.self, forKey: key) else { return fallback }
        // transformers' ACT2FN: "gelu_pytorch_tanh" and "gelu_new" are the same tanh approximation.
        let activation: Activation? = switch name {
        case "silu", "swish": .silu
        case "gelu_pytorch_tanh", "gelu_new": .geluTanh
        default: nil
        }
        guard let activation, supported.contains(activation) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c, debugDescription: "\"\(name)\" is not supported (supported: \(supported.map(\.rawValue).joined(separator: ", ")))")
        }
        return activation
    }

    /// Writes the keys transformers needs to rebuild the model (`architectures`, `hidden_act`, …): the
    /// common ones here, the family's own through it. A multimodal wrapper is written as its text model.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(textModelType ?? modelType, forKey: .modelType)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(bosTokenId, forKey: .bosTokenId)
        if eosTokenIds.count == 1 { try c.encode(eosTokenIds[0], forKey: .eosTokenId) } else { try c.encode(eosTokenIds, forKey: .eosTokenId) }
        try c.encode("float32", forKey: .torchDtype)
        try family.encodeConfig(self, to: &c)
    }

    /// `rope_theta` and `rope_scaling` as the Llama-style families write them.
    func encodeRope(to c: inout KeyedEncodingContainer<Keys>) throws {
        try c.encode(ropeTheta, forKey: .ropeTheta)
        if let ropeScaling {
            var rope = c.nestedContainer(keyedBy: RopeScaling.Keys.self, forKey: .ropeScaling)
            try ropeScaling.encode(to: &rope, theta: ropeTheta)
        }
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }
}

extension KeyedDecodingContainer {
    /// A required integer that must be positive.
    func decodePositive(_ key: Key) throws -> Int {
        let value = try decode(Int.self, forKey: key)
        guard value > 0 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must be positive, got \(value)")
        }
        return value
    }

    /// True when the key is absent or null.
    func decodeNil(orAbsent key: Key) throws -> Bool {
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
