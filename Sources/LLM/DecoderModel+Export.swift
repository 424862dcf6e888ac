// DecoderModel+Export — writing the model as a Hugging Face directory (config.json, model.safetensors and
// the tokenizer files), with the adapter merged in (the form any transformers user loads) or the base
// alone (e.g. after a vocabulary resize, as the base an adapter is trained on).
import Foundation
import LoomCore
import Torch

/// Files besides the weights that make a Hugging Face model directory usable (exports copy them when present),
/// and Loom's report of a hyperword-extended tokenizer (hyperwords.json: each new token's base ids), which
/// goes wherever the tokenizer it describes goes.
public let modelCompanionFileNames = [
    "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json", "added_tokens.json",
    "generation_config.json", "chat_template.jinja", "hyperwords.json",
]

extension DecoderModel {
    /// Writes config.json (the source's, with `vocab_size` updated; unknown keys kept) and f32
    /// model.safetensors under Hugging Face names into `directory`, plus the companion files of
    /// `companionsFrom` (default: the directory the model came from). With `mergeAdapter` the attached
    /// adapter is folded into the weights (W + s·B·A, trainable token rows written in); without, the base
    /// alone is written. Quantised bases are written dequantised.
    public func saveModel(to directory: URL, mergeAdapter: Bool = true, companionsFrom: URL? = nil) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tensors = try stateDictionary(mergeAdapter: mergeAdapter)
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent(ModelWeightFiles.singleFileName))
        try AtomicFile.write(configJSON(), to: directory.appendingPathComponent("config.json"))
        if let source = companionsFrom ?? sourceDirectory, source.standardizedFileURL != directory.standardizedFileURL {
            for name in modelCompanionFileNames {
                let file = source.appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: file.path) else { continue }
                try AtomicFile.write(Data(contentsOf: file), to: directory.appendingPathComponent(name))
            }
        }
    }

    /// Every weight under its Hugging Face name, f32 on the CPU, with the adapter folded in (W + s·B·A, the
    /// trained token rows written in) or the base alone; quantised bases dequantised. What the exports write.
    public func stateDictionary(mergeAdapter: Bool = true) throws -> [String: Tensor] {
        try withNoGrad {
            var tensors: [String: Tensor] = [:]
            // Under the names of a text-only checkpoint (a multimodal source is written as its text model).
            let names = WeightNames.standard
            let (embedding, head) = mergeAdapter ? try mergedVocabularyMatrices() : (embedTokens, lmHead)
            tensors[names.embedding] = try embedding.to(.float32).to(.cpu)
            if let head { tensors[names.head] = try head.to(.float32).to(.cpu) }
            tensors[names.finalNorm] = try finalNorm.to(.cpu)
            for (index, layer) in layers.enumerated() {
                for (name, norm) in layer.namedNorms { tensors[names.layer(index) + name] = try norm.to(.cpu) }
                for target in config.projectionTargets {
                    let name = names.projection(target, layer: index)
                    let base = layer.base(target)
                    if mergeAdapter, let adapter = layer.adapter(target) {
                        tensors[name + ".weight"] = try adapter.mergedWeight().to(.cpu)
                    } else {
                        tensors[name + ".weight"] = try base.denseWeight(dtype: .float32).to(.cpu)
                    }
                    if let bias = base.bias { tensors[name + ".bias"] = try bias.to(.float32).to(.cpu) }
                }
            }
            return tensors
        }
    }

    /// config.json for the current configuration: the source file's keys with the ones Loom changes
    /// (vocab_size, dtype) updated, or a fresh file when the model was not loaded from one.
    func configJSON() throws -> Data {
        guard let source = sourceConfigJSON, var object = try JSONSerialization.jsonObject(with: source) as? [String: Any],
              config.textModelType == nil || object["text_config"] is [String: Any] else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(config)
        }
        if let textModelType = config.textModelType, let text = object["text_config"] as? [String: Any] {
            // The text model of a multimodal checkpoint, as a text-only config.json.
            var promoted = text
            promoted["model_type"] = textModelType
            // The text model's class, as its family writes it (ModelFamily.encodeConfig).
            let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any]
            promoted["architectures"] = written?["architectures"]
            promoted["tie_word_embeddings"] = config.tieWordEmbeddings
            promoted["final_logit_softcapping"] = config.finalLogitSoftcap ?? NSNull()
            object = promoted
        }
        object["vocab_size"] = config.vocabSize
        for key in ["torch_dtype", "dtype"] where object[key] != nil { object[key] = "float32" }
        return PythonStyleJSON.data(object)
    }
}
