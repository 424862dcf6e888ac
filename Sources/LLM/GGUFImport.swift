// GGUFImport — a llama.cpp GGUF file as a Hugging Face model directory's weights and config: every tensor
// dequantised to f32 (GGUFDequantize: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K), renamed from
// llama.cpp's names to transformers', q_proj/k_proj of the `llama` architecture put back from llama.cpp's
// interleaved rotary layout (transformers' reverse_permute), and config.json from the `<arch>.*` keys.
// The tokenizer is rebuilt by Tokenizers (`GGUFTokenizerImport`). Other encodings are refused, naming the tensor.
import Foundation
import LoomCore
import Torch

public enum GGUFImport {
    /// llama.cpp's architectures Loom reads, and the Hugging Face model_type each becomes.
    static let modelTypes = ["llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "gemma2": "gemma2", "gemma3": "gemma3_text", "phi3": "phi3"]

    /// The model's config.json (as ModelConfig) and its weights under Hugging Face names (f32, CPU).
    public static func model(_ reader: GGUFReader) throws -> (config: ModelConfig, tensors: [String: Tensor]) {
        let path = reader.file.path
        let arch = reader["general.architecture"]?.stringValue ?? ""
        guard let modelType = modelTypes[arch] else {
            throw GGUFFileError(file: path, problem: "general.architecture \"\(arch)\" is not supported (\(modelTypes.keys.sorted().joined(separator: ", ")))")
        }
        func integer(_ key: String) throws -> Int {
            guard let value = reader["\(arch).\(key)"]?.intValue else { throw GGUFFileError(file: path, problem: "\(arch).\(key): missing or not an integer") }
            return value
        }
        // GGUF keeps hyperparameters as float32: a widened one is read back as the shortest decimal of that
        // float (1e-06, not 9.99999997e-07), so config.json says what the source model said.
        func number(_ key: String) -> Double? {
            reader["\(arch).\(key)"]?.doubleValue.map { Double(Float($0)) == $0 ? Double(Float($0).description) ?? $0 : $0 }
        }
        let heads = try integer("attention.head_count")
        let kvHeads = (try? integer("attention.head_count_kv")) ?? heads
        let hidden = try integer("embedding_length")
        let layers = try integer("block_count")
        let tokens = reader["tokenizer.ggml.tokens"]?.arrayValue?.count
        let byName = Dictionary(reader.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        guard let embedding = byName["token_embd.weight"] else { throw GGUFFileError(file: path, problem: "no token_embd.weight tensor") }
        let vocabulary = (try? integer("vocab_size")) ?? tokens ?? embedding.shape[0]
        let headDim = (try? integer("attention.key_length")) ?? (try? integer("rope.dimension_count")) ?? hidden / heads
        let context = (try? integer("context_length")) ?? 2048

        // config.json as transformers writes it for the family, decoded by the family (one path for all).
        var config: [String: Any] = [
            "model_type": modelType, "hidden_size": hidden, "intermediate_size": try integer("feed_forward_length"),
            "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kvHeads, "head_dim": headDim,
            "vocab_size": vocabulary, "rope_theta": number("rope.freq_base") ?? 10_000,
            "rms_norm_eps": number("attention.layer_norm_rms_epsilon") ?? 1e-5, "tie_word_embeddings": byName["output.weight"] == nil,
            "max_position_embeddings": context,
            "bos_token_id": reader["tokenizer.ggml.bos_token_id"]?.intValue ?? NSNull(),
            "eos_token_id": reader["tokenizer.ggml.eos_token_id"]?.intValue ?? NSNull(),
        ]
        if reader["\(arch).rope.scaling.type"]?.stringValue == "linear", let factor = number("rope.scaling.factor") {
            config["rope_scaling"] = ["rope_type": "linear", "factor": factor]
        }
        let window = try? integer("attention.sliding_window")
        switch arch {
        case "gemma2", "gemma3":
            // What llama.cpp fixes for Gemma: queries scaled by head_dim^−½ (hidden/heads for the 27B models,
            // which it knows by their layer count), the window on every 2nd / all but every 6th layer (the
            // families' default pattern), Gemma 2's caps (50 / 30 unless given), Gemma 3's local base 10 000.
            let is27B = (arch == "gemma2" && layers == 46) || (arch == "gemma3" && layers == 62)
            config["query_pre_attn_scalar"] = is27B ? hidden / heads : headDim
            config["hidden_activation"] = "gelu_pytorch_tanh"
            config["sliding_window"] = window ?? 4096
            if arch == "gemma2" {
                config["attn_logit_softcapping"] = number("attn_logit_softcapping") ?? 50
                config["final_logit_softcapping"] = number("final_logit_softcapping") ?? 30
            } else {
                config["rope_local_base_freq"] = number("rope.freq_base_swa") ?? 10_000
                config["final_logit_softcapping"] = NSNull()
                config["attn_logit_softcapping"] = NSNull()
            }
        case "phi3":
            let rotary = (try? integer("rope.dimension_count")) ?? headDim
            config["partial_rotary_factor"] = Double(rotary) / Double(headDim)
            config["original_max_position_embeddings"] = context
            if let window { config["sliding_window"] = window }
        default: break
        }
        let decoded = try ModelConfig.decode(try JSONSerialization.data(withJSONObject: config), file: "\(path) (its \(arch).* keys as config.json)")

        // llama.cpp's names back to transformers': the table export writes with, inverted.
        let modules = Dictionary(uniqueKeysWithValues: DecoderModel.ggufBlockModules(architecture: arch).map { ($1, $0) })
        let whole = Dictionary(uniqueKeysWithValues: DecoderModel.ggufWholeTensors.map { ($1, $0) })
        var tensors: [String: Tensor] = [:]
        for info in reader.tensors {
            if info.name == "rope_freqs.weight" { continue }  // llama3's scaling, given again by rope_scaling in config.json (not read yet)
            let name: String
            if let hf = whole[info.name] {
                name = hf
            } else {
                let pieces = info.name.split(separator: ".")
                guard pieces.count == 4, pieces[0] == "blk", let layer = Int(pieces[1]), let part = modules[String(pieces[2])] else {
                    throw GGUFFileError(file: path, problem: "tensor \(info.name): not a tensor of a \(arch) model Loom knows")
                }
                name = "model.layers.\(layer).\(part).\(pieces[3])"
            }
            var tensor = try GGUFDequantize.tensor(info, from: reader)
            if arch == "llama", name.contains("self_attn.q_proj") { tensor = try reverseInterleave(tensor, heads: heads) }
            if arch == "llama", name.contains("self_attn.k_proj") { tensor = try reverseInterleave(tensor, heads: kvHeads) }
            // llama.cpp stores Gemma's norms as their gains 1 + w.
            if arch.hasPrefix("gemma"), info.name.hasSuffix("norm.weight") { tensor = try tensor.sub(1) }
            tensors[name] = tensor
        }
        return (decoded, tensors)
    }

    /// transformers' reverse_permute_weights: llama.cpp's interleaved rotary rows back to two halves per head.
    static func reverseInterleave(_ weight: Tensor, heads: Int) throws -> Tensor {
        let shape = weight.shape
        return try weight.reshape([heads, shape[0] / heads / 2, 2] + Array(shape.dropFirst())).transpose(1, 2).contiguous().reshape(shape)
    }
}
