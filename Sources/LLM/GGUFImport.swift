// GGUFImport — a llama.cpp GGUF file as a Hugging Face model directory's weights and config: every tensor
// dequantised to f32 (GGUFDequantize: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K), renamed from
// llama.cpp's names to transformers', q_proj/k_proj of the `llama` architecture put back from llama.cpp's
// interleaved rotary layout (transformers' reverse_permute), and config.json from the `<arch>.*` keys.
// The tokenizer is rebuilt by Tokenizers (`GGUFTokenizerImport`). Other encodings are refused, naming the tensor.
import Foundation
import LoomCore
import Torch

public enum GGUFImport {
    /// The model's config.json (as ModelConfig) and its weights under Hugging Face names (f32, CPU).
    public static func model(_ reader: GGUFReader) throws -> (config: ModelConfig, tensors: [String: Tensor]) {
        let path = reader.file.path
        let arch = reader["general.architecture"]?.stringValue ?? ""
        let modelType: String
        switch arch {
        case "llama": modelType = "llama"
        case "qwen2": modelType = "qwen2"
        default: throw GGUFFileError(file: path, problem: "general.architecture \"\(arch)\" is not supported (llama, qwen2)")
        }
        func integer(_ key: String) throws -> Int {
            guard let value = reader["\(arch).\(key)"]?.intValue else { throw GGUFFileError(file: path, problem: "\(arch).\(key): missing or not an integer") }
            return value
        }
        func number(_ key: String, default value: Double) -> Double { reader["\(arch).\(key)"]?.doubleValue ?? value }
        let heads = try integer("attention.head_count")
        let kvHeads = (try? integer("attention.head_count_kv")) ?? heads
        let hidden = try integer("embedding_length")
        let tokens = reader["tokenizer.ggml.tokens"]?.arrayValue?.count
        let byName = Dictionary(reader.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        guard let embedding = byName["token_embd.weight"] else { throw GGUFFileError(file: path, problem: "no token_embd.weight tensor") }
        let vocabulary = (try? integer("vocab_size")) ?? tokens ?? embedding.shape[0]
        let headDim = (try? integer("attention.key_length")) ?? (try? integer("rope.dimension_count")) ?? hidden / heads
        let config = ModelConfig(
            modelType: modelType, hiddenSize: hidden, intermediateSize: try integer("feed_forward_length"),
            numHiddenLayers: try integer("block_count"), numAttentionHeads: heads, numKeyValueHeads: kvHeads,
            headDim: headDim, vocabSize: vocabulary, ropeTheta: number("rope.freq_base", default: 10_000),
            rmsNormEps: number("attention.layer_norm_rms_epsilon", default: 1e-5), tieWordEmbeddings: byName["output.weight"] == nil,
            maxPositionEmbeddings: (try? integer("context_length")) ?? 2048,
            bosTokenId: reader["tokenizer.ggml.bos_token_id"]?.intValue,
            eosTokenIds: reader["tokenizer.ggml.eos_token_id"]?.intValue.map { [$0] } ?? [])

        var tensors: [String: Tensor] = [:]
        let parts = [
            "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
            "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
            "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
        ]
        for info in reader.tensors {
            let name: String
            switch info.name {
            case "token_embd.weight": name = "model.embed_tokens.weight"
            case "output_norm.weight": name = "model.norm.weight"
            case "output.weight": name = "lm_head.weight"
            case "rope_freqs.weight": continue  // llama3's scaling, given again by rope_scaling in config.json (not read yet)
            default:
                let pieces = info.name.split(separator: ".")
                guard pieces.count == 4, pieces[0] == "blk", let layer = Int(pieces[1]), let part = parts[String(pieces[2])] else {
                    throw GGUFFileError(file: path, problem: "tensor \(info.name): not a tensor of a \(arch) model Loom knows")
                }
                name = "model.layers.\(layer).\(part).\(pieces[3])"
            }
            var tensor = try GGUFDequantize.tensor(info, from: reader)
            if arch == "llama", name.contains("self_attn.q_proj") { tensor = try reverseInterleave(tensor, heads: heads) }
            if arch == "llama", name.contains("self_attn.k_proj") { tensor = try reverseInterleave(tensor, heads: kvHeads) }
            tensors[name] = tensor
        }
        return (config, tensors)
    }

    /// transformers' reverse_permute_weights: llama.cpp's interleaved rotary rows back to two halves per head.
    static func reverseInterleave(_ weight: Tensor, heads: Int) throws -> Tensor {
        let shape = weight.shape
        return try weight.reshape([heads, shape[0] / heads / 2, 2] + Array(shape.dropFirst())).transpose(1, 2).contiguous().reshape(shape)
    }
}
