// DecoderModel+GGUF — the model (its adapter folded in) as llama.cpp's GGUF: the hyperparameters under the
// architecture's keys (`llama`, `qwen2`, `qwen3`), the weights under llama.cpp's tensor names in f16 or
// q8_0 (norms and biases in f32, as llama.cpp's converter writes them), and llama.cpp's layout of q_proj
// and k_proj for the `llama` architecture (each head's rotary halves interleaved, as convert_hf_to_gguf.py
// permutes them). The tokenizer's metadata comes from Tokenizers (`HFTokenizer.ggufMetadata`).
import Foundation
import LoomCore
import Torch

/// The tensor type a GGUF export writes its matrices in.
public enum GGUFExportType: String, CaseIterable, Sendable {
    case f16, q8_0

    /// general.file_type: llama.cpp's LLAMA_FTYPE_MOSTLY_F16 / _Q8_0.
    var fileType: UInt32 { self == .f16 ? 1 : 7 }
}

extension DecoderModel {

    /// llama.cpp's architecture for this model's family.
    public var ggufArchitecture: String {
        switch config.modelType {
        case "qwen2": "qwen2"
        case "qwen3": "qwen3"
        default: "llama"  // llama and mistral
        }
    }

    /// `general.*` and `<architecture>.*` keys.
    public func ggufMetadata(name: String, type: GGUFExportType) throws -> [(String, GGUFValue)] {
        guard LlamaFamily.modelTypes.contains(config.modelType) else {
            throw ModelError("GGUF export writes \(LlamaFamily.modelTypes.joined(separator: ", ")) models; \(config.modelType) is not supported yet")
        }
        let arch = ggufArchitecture
        var metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string(arch)),
            ("general.name", .string(name)),
            ("general.file_type", .uint32(type.fileType)),
            ("general.quantization_version", .uint32(2)),
            ("\(arch).vocab_size", .uint32(UInt32(config.vocabSize))),
            ("\(arch).context_length", .uint32(UInt32(config.maxPositionEmbeddings))),
            ("\(arch).embedding_length", .uint32(UInt32(config.hiddenSize))),
            ("\(arch).block_count", .uint32(UInt32(config.numHiddenLayers))),
            ("\(arch).feed_forward_length", .uint32(UInt32(config.intermediateSize))),
            ("\(arch).attention.head_count", .uint32(UInt32(config.numAttentionHeads))),
            ("\(arch).attention.head_count_kv", .uint32(UInt32(config.numKeyValueHeads))),
            ("\(arch).attention.layer_norm_rms_epsilon", .float32(Float(config.rmsNormEps))),
            ("\(arch).rope.freq_base", .float32(Float(config.ropeTheta))),
            ("\(arch).rope.dimension_count", .uint32(UInt32(config.headDim))),
            ("\(arch).attention.key_length", .uint32(UInt32(config.headDim))),
            ("\(arch).attention.value_length", .uint32(UInt32(config.headDim))),
        ]
        switch config.ropeScaling {
        case nil, .llama3: break  // llama3's scaling travels as the rope_freqs tensor
        case .linear(let factor):
            metadata += [("\(arch).rope.scaling.type", .string("linear")), ("\(arch).rope.scaling.factor", .float32(Float(factor)))]
        case .yarn(let factor, let original, _, _, _, _, _, _):
            metadata += [("\(arch).rope.scaling.type", .string("yarn")), ("\(arch).rope.scaling.factor", .float32(Float(factor))),
                         ("\(arch).rope.scaling.original_context_length", .uint32(UInt32(original)))]
        case .longrope:
            throw ModelError("GGUF export of a LongRoPE model is not supported yet (llama.cpp keeps its factors as tensors)")
        }
        return metadata
    }

    /// Every tensor under llama.cpp's name, encoded when written.
    public func ggufTensors(type: GGUFExportType, mergeAdapter: Bool = true) throws -> [GGUFTensor] {
        let state = try stateDictionary(mergeAdapter: mergeAdapter)
        var tensors: [GGUFTensor] = []
        func add(_ ggufName: String, _ hfName: String, permuteHeads: Int? = nil) throws {
            guard var tensor = state[hfName] else { return }
            if let heads = permuteHeads, ggufArchitecture == "llama" { tensor = try Self.interleaveRotaryHalves(tensor, heads: heads) }
            tensors.append(try Self.encode(tensor, name: ggufName, type: tensor.rank == 2 ? type : nil))
        }
        try add("token_embd.weight", "model.embed_tokens.weight")
        for index in 0..<config.numHiddenLayers {
            let hf = "model.layers.\(index)."
            let gguf = "blk.\(index)."
            try add(gguf + "attn_norm.weight", hf + "input_layernorm.weight")
            for (part, heads) in [("q", config.numAttentionHeads), ("k", config.numKeyValueHeads), ("v", nil)] as [(String, Int?)] {
                try add(gguf + "attn_\(part).weight", hf + "self_attn.\(part)_proj.weight", permuteHeads: heads)
                try add(gguf + "attn_\(part).bias", hf + "self_attn.\(part)_proj.bias", permuteHeads: heads)
            }
            try add(gguf + "attn_q_norm.weight", hf + "self_attn.q_norm.weight")
            try add(gguf + "attn_k_norm.weight", hf + "self_attn.k_norm.weight")
            try add(gguf + "attn_output.weight", hf + "self_attn.o_proj.weight")
            try add(gguf + "attn_output.bias", hf + "self_attn.o_proj.bias")
            try add(gguf + "ffn_norm.weight", hf + "post_attention_layernorm.weight")
            for (part, module) in [("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj")] {
                try add(gguf + "ffn_\(part).weight", hf + "mlp.\(module).weight")
                try add(gguf + "ffn_\(part).bias", hf + "mlp.\(module).bias")
            }
        }
        try add("output_norm.weight", "model.norm.weight")
        try add("output.weight", "lm_head.weight")
        if case .llama3 = config.ropeScaling, let scaling = config.ropeScaling {
            // llama.cpp multiplies each rotation's wavelength by these factors: unscaled / scaled frequency.
            let powers = (0..<(config.headDim / 2)).map { Float(Foundation.pow(config.ropeTheta, Double(2 * $0) / Double(config.headDim))) }
            let scaled = scaling.inverseFrequencies(powers: powers, headDim: config.headDim, theta: config.ropeTheta)
            let factors = zip(powers, scaled).map { (1 / $0) / $1 }
            tensors.append(try Self.encode(Tensor(factors), name: "rope_freqs.weight", type: nil))
        }
        return tensors
    }

    /// convert_hf_to_gguf.py's `permute`: within each head, the rows of the two rotary halves interleaved
    /// (llama.cpp rotates adjacent pairs, Hugging Face the two halves).
    static func interleaveRotaryHalves(_ weight: Tensor, heads: Int) throws -> Tensor {
        let shape = weight.shape
        let rest = Array(shape.dropFirst())
        return try weight.reshape([heads, 2, shape[0] / heads / 2] + rest).transpose(1, 2).contiguous().reshape(shape)
    }

    /// One tensor in GGUF: `type` nil → f32; f16; or q8_0 (blocks of 32 along each row: an f16 scale
    /// absmax/127 and 32 int8 codes, llama.cpp's `quantize_row_q8_0`), f16 where a row is not a multiple of 32.
    static func encode(_ tensor: Tensor, name: String, type: GGUFExportType?) throws -> GGUFTensor {
        let dimensions = Array(tensor.shape.reversed())
        let count = tensor.count
        switch type {
        case nil:
            return GGUFTensor(name: name, dimensions: dimensions, type: 0, byteCount: count * 4) { Data(try tensor.to(.float32).contiguous().bytes()) }
        case .f16?:
            return GGUFTensor(name: name, dimensions: dimensions, type: 1, byteCount: count * 2) { Data(try tensor.to(.float16).contiguous().bytes()) }
        case .q8_0?:
            guard let row = tensor.shape.last, row % 32 == 0 else { return try encode(tensor, name: name, type: .f16) }
            return GGUFTensor(name: name, dimensions: dimensions, type: 8, byteCount: count / 32 * 34) {
                let values = try tensor.to(.float32).contiguous().toArray(Float.self)
                var out = Data(count: count / 32 * 34)
                out.withUnsafeMutableBytes { raw in
                    let bytes = raw.bindMemory(to: UInt8.self)
                    for block in 0..<(count / 32) {
                        let start = block * 32
                        var amax: Float = 0
                        for i in start..<(start + 32) { amax = max(amax, abs(values[i])) }
                        let scale = amax / 127
                        let inverse: Float = scale != 0 ? 1 / scale : 0
                        let bits = Float16(scale).bitPattern
                        let at = block * 34
                        bytes[at] = UInt8(bits & 0xFF)
                        bytes[at + 1] = UInt8(bits >> 8)
                        for i in 0..<32 {
                            bytes[at + 2 + i] = UInt8(bitPattern: Int8((values[start + i] * inverse).rounded(.toNearestOrAwayFromZero)))
                        }
                    }
                }
                return out
            }
        }
    }
}
