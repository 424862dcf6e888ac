// PEFTAdapter — LoRA adapters on disk in PEFT's format, so that `peft.PeftModel.from_pretrained` loads
// what Loom trains and Loom loads what PEFT trains: adapter_config.json (LoraConfig's fields) and
// adapter_model.safetensors with keys
//   base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight   A (r, in)
//   base_model.model.model.layers.N.self_attn.q_proj.lora_B.weight   B (out, r)
//   base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta   (ids, hidden)
//   base_model.model.lm_head.token_adapter.trainable_tokens_delta             (ids, hidden), untied head
// (PEFT 0.21: the trainable-token tensors hold the rows' values, not differences; the adapter name
// "default" is not part of the saved keys.) Adapters PEFT saved with a resized vocabulary carry the
// whole embedding and head (`…embed_tokens.weight`, `…lm_head.weight`); loading one resizes the model.
import Foundation
import LoomCore
import Torch

public enum PEFTAdapter {
    public static let configFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"
    /// The PEFT release whose adapter format Loom writes (and reads).
    public static let formatVersion = "0.21.2"

    /// The keys of the trainable token rows and of a whole saved embedding / head, under the model's names.
    static func embeddingRowsKey(_ names: WeightNames) -> String { "base_model.model.\(names.prefix)embed_tokens.token_adapter.trainable_tokens_delta" }
    static func headRowsKey(_ names: WeightNames) -> String { "base_model.model.\(headModule(names)).token_adapter.trainable_tokens_delta" }
    static func fullEmbeddingKey(_ names: WeightNames) -> String { "base_model.model.\(names.embedding)" }
    static func fullHeadKey(_ names: WeightNames) -> String { "base_model.model.\(names.head)" }
    private static func headModule(_ names: WeightNames) -> String { String(names.head.dropLast(".weight".count)) }

    /// `base_model.model.model.layers.3.mlp.up_proj.lora_B.weight` (the model's own prefix after
    /// `base_model.model.`).
    static func loraKey(layer: Int, target: LoRATarget, matrix: String, names: WeightNames) -> String {
        "base_model.model.\(names.projection(target, layer: layer)).\(matrix).weight"
    }

    // MARK: adapter_config.json

    /// adapter_config.json for `configuration`, with every field PEFT 0.21's LoraConfig writes (Loom's
    /// values where it has them, PEFT's defaults elsewhere), keys sorted like PEFT's.
    static func configJSON(_ configuration: LoRAConfiguration, tiedHead: Bool) -> Data {
        let null = NSNull()
        var tokenIndices: Any = null
        if !configuration.trainableTokenIndices.isEmpty {
            // A list targets the input embedding (and a tied head with it); an untied head needs its own entry.
            tokenIndices = tiedHead
                ? configuration.trainableTokenIndices
                : ["embed_tokens": configuration.trainableTokenIndices, "lm_head": configuration.trainableTokenIndices]
        }
        let alpha: Any = configuration.alpha.rounded() == configuration.alpha ? Int(configuration.alpha) : configuration.alpha
        let object: [String: Any] = [
            "alora_invocation_tokens": null, "alpha_pattern": [String: Any](), "arrow_config": null, "auto_mapping": null,
            "base_model_name_or_path": configuration.baseModelNameOrPath ?? null, "bias": "none", "corda_config": null,
            "ensure_weight_tying": false, "eva_config": null, "exclude_modules": null, "fan_in_fan_out": false,
            "inference_mode": true, "init_lora_weights": true, "kasa_config": null, "layer_replication": null,
            "layers_pattern": null, "layers_to_transform": null, "loftq_config": [String: Any](), "lora_alpha": alpha,
            "lora_bias": false, "lora_dropout": configuration.dropout, "lora_ga_config": null, "megatron_config": null,
            "megatron_core": "megatron.core", "modules_to_save": null, "monteclora_config": null, "peft_type": "LORA",
            "peft_version": formatVersion, "qalora_group_size": 16, "r": configuration.rank, "rank_pattern": [String: Any](),
            "revision": null, "target_modules": configuration.targets.map(\.rawValue).sorted(), "target_parameters": null,
            "task_type": "CAUSAL_LM", "trainable_token_indices": tokenIndices, "use_bdlora": null, "use_dora": false,
            "use_qalora": false, "use_rslora": configuration.useRSLoRA, "velora_config": null,
        ]
        return PythonStyleJSON.data(object)
    }

    /// What an adapter_config.json describes, and which rows its trainable tokens cover.
    public struct StoredConfiguration {
        /// adapter_config.json, for messages.
        var path: String
        public var configuration: LoRAConfiguration
        /// The trainable-token ids cover the embedding; `headTokens` says whether an untied head has
        /// rows of its own.
        var headTokens: Bool
    }

    /// Reads and checks adapter_config.json; features Loom does not implement (DoRA, bias training,
    /// per-layer patterns, regex targets, modules_to_save…) are errors naming the key. `projections`: the
    /// model's (what "all-linear" means, and what a target list may name).
    public static func readConfig(_ url: URL, projections: [LoRATarget]) throws -> StoredConfiguration {
        let path = url.path
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
                throw ModelFileError(file: path, problem: "expected a JSON object")
            }
            root = object
        } catch let error as ModelFileError {
            throw error
        } catch {
            throw ModelFileError(file: path, problem: "cannot read it as JSON (\(error.localizedDescription))")
        }
        func fail(_ key: String, _ problem: String) -> ModelFileError { ModelFileError(file: path, key: key, problem: problem) }
        func value(_ key: String) -> Any? { root[key].flatMap { $0 is NSNull ? nil : $0 } }
        func number(_ key: String) throws -> Double? {
            guard let raw = value(key) else { return nil }
            guard let number = raw as? NSNumber, !PythonStyleJSON.isBoolean(number) else { throw fail(key, "expected a number") }
            return number.doubleValue
        }
        func flag(_ key: String) throws -> Bool? {
            guard let raw = value(key) else { return nil }
            guard let number = raw as? NSNumber, PythonStyleJSON.isBoolean(number) else { throw fail(key, "expected true or false") }
            return number.boolValue
        }
        func isEmpty(_ key: String) -> Bool {
            guard let raw = value(key) else { return true }
            if let dictionary = raw as? [String: Any] { return dictionary.isEmpty }
            if let array = raw as? [Any] { return array.isEmpty }
            return false
        }

        let peftType = value("peft_type") as? String
        guard peftType == "LORA" else { throw fail("peft_type", "expected \"LORA\", found \(peftType.map { "\"\($0)\"" } ?? "nothing")") }
        guard let rank = try? number("r"), rank > 0, rank.rounded() == rank else { throw fail("r", "expected a positive integer") }
        let alpha = try number("lora_alpha") ?? 8
        let dropout = try number("lora_dropout") ?? 0
        guard (0.0..<1.0).contains(dropout) else { throw fail("lora_dropout", "expected a probability in [0, 1), found \(dropout)") }
        if let bias = value("bias") as? String, bias != "none" { throw fail("bias", "only \"none\" is supported, found \"\(bias)\"") }
        for key in ["use_dora", "fan_in_fan_out", "lora_bias", "use_qalora"] where try flag(key) == true {
            throw fail(key, "is not supported by Loom (expected false)")
        }
        for key in ["rank_pattern", "alpha_pattern", "layers_to_transform", "modules_to_save", "layer_replication", "exclude_modules",
                    "target_parameters"] where !isEmpty(key) {
            throw fail(key, "is not supported by Loom (expected null or empty)")
        }

        var targets: [LoRATarget] = []
        switch value("target_modules") {
        case let name as String where name == "all-linear":
            targets = projections
        case let names as [Any]:
            for name in names {
                guard let text = name as? String, let target = LoRATarget(name: text), projections.contains(target) else {
                    throw fail("target_modules", "\(name) is not one of the model's projections, \(projections.map(\.rawValue).joined(separator: ", "))")
                }
                targets.append(target)
            }
        case .some(let other):
            throw fail("target_modules", "expected a list of projection names or \"all-linear\", found \(other)")
        case .none:
            break
        }

        var tokenIds: [Int] = []
        var headTokens = false
        func ids(_ raw: Any, key: String) throws -> [Int] {
            guard let list = raw as? [Any] else { throw fail(key, "expected a list of token ids") }
            return try list.map { item in
                guard let number = item as? NSNumber, !PythonStyleJSON.isBoolean(number), number.doubleValue.rounded() == number.doubleValue,
                      number.intValue >= 0 else { throw fail(key, "expected non-negative integer token ids, found \(item)") }
                return number.intValue
            }
        }
        switch value("trainable_token_indices") {
        case .none: break
        case let modules as [String: Any]:
            for (module, raw) in modules {
                switch module {
                case "embed_tokens", "model.embed_tokens": tokenIds = try ids(raw, key: "trainable_token_indices.\(module)")
                case "lm_head": headTokens = true
                default: throw fail("trainable_token_indices.\(module)", "only embed_tokens and lm_head rows are supported")
                }
            }
            if headTokens {
                let head = try ids(modules["lm_head"]!, key: "trainable_token_indices.lm_head")
                guard head == tokenIds else {
                    throw fail("trainable_token_indices.lm_head", "Loom trains the same rows of embed_tokens and lm_head; these lists differ")
                }
            }
        case .some(let raw):
            tokenIds = try ids(raw, key: "trainable_token_indices")
        }
        guard !targets.isEmpty || !tokenIds.isEmpty else { throw fail("target_modules", "the adapter targets nothing") }

        let configuration = LoRAConfiguration(
            rank: Int(rank), alpha: alpha, dropout: dropout, targets: targets.sorted(), useRSLoRA: try flag("use_rslora") ?? false,
            trainableTokenIndices: tokenIds, baseModelNameOrPath: value("base_model_name_or_path") as? String)
        return StoredConfiguration(path: path, configuration: configuration, headTokens: headTokens)
    }

    // MARK: adapter_model.safetensors

    /// The adapter's tensor file; a pickle (`adapter_model.bin`) is refused by name.
    static func weightsFile(in directory: URL) throws -> SafeTensorsFile {
        let url = directory.appendingPathComponent(weightsFileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let pickle = directory.appendingPathComponent("adapter_model.bin")
            let hint = FileManager.default.fileExists(atPath: pickle.path)
                ? " (adapter_model.bin is a pickle, which Loom never loads; re-save the adapter with safe_serialization=True)" : ""
            throw ModelFileError(file: url.path, problem: "missing\(hint)")
        }
        return try SafeTensorsFile(url: url)
    }

    /// The adapter's LoRA matrices and trainable token rows by key (f32), each checked against the shape
    /// the configuration and the model imply; a missing, mis-shaped or unexpected tensor is an error
    /// naming the file and the key.
    static func readTensors(_ file: SafeTensorsFile, stored: StoredConfiguration, model: DecoderModel) throws -> [String: Tensor] {
        let configuration = stored.configuration
        let config = model.config
        var expected: [String: [Int]] = [:]
        for layer in 0..<config.numHiddenLayers {
            for target in configuration.targets {
                let (inFeatures, outFeatures) = config.shape(of: target)
                expected[loraKey(layer: layer, target: target, matrix: "lora_A", names: config.weightNames)] = [configuration.rank, inFeatures]
                expected[loraKey(layer: layer, target: target, matrix: "lora_B", names: config.weightNames)] = [outFeatures, configuration.rank]
            }
        }
        let ids = configuration.trainableTokenIndices
        if !ids.isEmpty {
            if let outside = ids.first(where: { $0 >= config.vocabSize }) {
                throw ModelFileError(
                    file: stored.path, key: "trainable_token_indices",
                    problem: "token id \(outside) is outside the model's vocabulary (0..<\(config.vocabSize)): the adapter was trained on a resized vocabulary, so load it onto the resized base directory its training used (or use the merged model)")
            }
            expected[embeddingRowsKey(config.weightNames)] = [ids.count, config.hiddenSize]
            if stored.headTokens {
                guard !config.tieWordEmbeddings else {
                    throw ModelFileError(file: stored.path, key: "trainable_token_indices.lm_head", problem: "the model's head is tied to its embedding")
                }
                expected[headRowsKey(config.weightNames)] = [ids.count, config.hiddenSize]
            }
        }
        var tensors: [String: Tensor] = [:]
        for (key, shape) in expected.sorted(by: { $0.key < $1.key }) {
            guard let entry = file.entries[key] else {
                throw ModelFileError(file: file.url.path, key: key, problem: "missing tensor (expected shape \(shape))")
            }
            guard entry.shape == shape else {
                throw ModelFileError(file: file.url.path, key: key, problem: "has shape \(entry.shape), expected \(shape)")
            }
            tensors[key] = try file.tensor(key, as: .float32)
        }
        let known = Set(expected.keys).union([fullEmbeddingKey(config.weightNames), fullHeadKey(config.weightNames)])
        if let unexpected = file.names.first(where: { !known.contains($0) }) {
            throw ModelFileError(file: file.url.path, key: unexpected, problem: "unexpected tensor: not part of the adapter \(stored.path) describes")
        }
        return tensors
    }

    /// Puts a whole embedding (and head) saved in an adapter in place of the model's — PEFT saves them
    /// when the vocabulary was resized before training — resizing the vocabulary to theirs.
    static func replaceVocabularyMatrices(of model: DecoderModel, from file: SafeTensorsFile) throws {
        let (fullEmbeddingKey, fullHeadKey) = (fullEmbeddingKey(model.config.weightNames), fullHeadKey(model.config.weightNames))
        let embedding = file.entries[fullEmbeddingKey]
        let head = file.entries[fullHeadKey]
        guard embedding != nil || head != nil else { return }
        let hidden = model.config.hiddenSize
        for entry in [embedding, head].compactMap({ $0 }) where entry.shape.count != 2 || entry.shape[1] != hidden {
            throw ModelFileError(file: file.url.path, key: entry.name, problem: "has shape \(entry.shape), expected (vocabulary, \(hidden))")
        }
        let vocabulary = (embedding ?? head)!.shape[0]
        let headNeeded = !model.config.tieWordEmbeddings && vocabulary != model.config.vocabSize
        guard embedding != nil, head == nil || head!.shape[0] == vocabulary, head != nil || !headNeeded else {
            throw ModelFileError(
                file: file.url.path, key: embedding == nil ? fullEmbeddingKey : fullHeadKey,
                problem: "the embedding and head must both be present, with the same number of rows, to resize the vocabulary")
        }
        model.embedTokens = try file.tensor(fullEmbeddingKey, as: .float32).to(model.device)
        if let head, !model.config.tieWordEmbeddings { model.lmHead = try file.tensor(head.name, as: .float32).to(model.device) }
        model.config.vocabSize = vocabulary
    }
}
