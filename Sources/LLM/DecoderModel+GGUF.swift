// DecoderModel+GGUF — the model (its adapter folded in) as llama.cpp's GGUF: the hyperparameters under the
// architecture's keys (`llama`, `qwen2`, `qwen3`, `gemma2`, `gemma3`, `phi3`), the weights under llama.cpp's tensor names in f16 or
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

    /// The model types GGUF export writes, each with llama.cpp's architecture for it.
    static let ggufArchitectures: [(modelType: String, architecture: String)] = [
        ("llama", "llama"), ("mistral", "llama"), ("qwen2", "qwen2"), ("qwen3", "qwen3"),
        ("gemma2", "gemma2"), ("gemma3_text", "gemma3"), ("gemma3", "gemma3"), ("phi3", "phi3"),
    ]

    /// The model types GGUF export writes.
    public static var ggufModelTypes: [String] { ggufArchitectures.map(\.modelType) }

    /// llama.cpp's architecture for this model's family (`llama` for a type export refuses).
    public var ggufArchitecture: String { Self.ggufArchitectures.first { $0.modelType == config.modelType }?.architecture ?? "llama" }

    /// `general.*` and `<architecture>.*` keys. What llama.cpp fixes per architecture instead of reading
    /// (Gemma's attention scale from head_dim, its sliding-window layer pattern, Gemma 3's local RoPE base,
    /// Gemma 2's soft-capping being on) must hold for the model, or the export is refused by name.
    public func ggufMetadata(name: String, type: GGUFExportType) throws -> [(String, GGUFValue)] {
        guard Self.ggufModelTypes.contains(config.modelType) else {
            throw ModelError("GGUF export writes \(Self.ggufModelTypes.joined(separator: ", ")) models; \(config.modelType) is not supported yet")
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
            ("\(arch).rope.dimension_count", .uint32(UInt32(config.rotaryDim))),
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
        if let window = config.slidingWindow { metadata.append(("\(arch).attention.sliding_window", .uint32(UInt32(window)))) }
        switch arch {
        case "gemma2", "gemma3":
            try checkGemmaForLlamaCpp(arch: arch)
            if arch == "gemma2" {
                metadata += [("gemma2.attn_logit_softcapping", .float32(Float(config.attentionSoftcap!))),
                             ("gemma2.final_logit_softcapping", .float32(Float(config.finalLogitSoftcap!)))]
            } else {
                metadata.append(("gemma3.rope.freq_base_swa", .float32(Float(config.localRopeTheta ?? 10_000))))
            }
        default: break
        }
        return metadata
    }

    /// What llama.cpp's Gemma 2 / Gemma 3 fix rather than read from the file.
    private func checkGemmaForLlamaCpp(arch: String) throws {
        func refuse(_ what: String) -> ModelError { ModelError("GGUF export: llama.cpp's \(arch) \(what), so this model would compute something else there") }
        // Queries scaled by 1/√head_dim (llama.cpp's 27B rule aside).
        if let scale = config.attentionScale, abs(scale * Double(config.headDim).squareRoot() - 1) > 1e-9 {
            throw refuse("scales queries by 1/√head_dim (\(config.headDim)); query_pre_attn_scalar is \(Int((1 / (scale * scale)).rounded()))")
        }
        let period = arch == "gemma2" ? 2 : 6
        let pattern = (0..<config.numHiddenLayers).map { $0 % period < period - 1 }
        if config.slidingWindow != nil, (config.slidingLayers ?? pattern) != pattern {
            throw refuse("windows every layer but each \(period)th (layer_types must follow that pattern)")
        }
        if arch == "gemma2", config.attentionSoftcap == nil || config.finalLogitSoftcap == nil {
            throw refuse("always soft-caps attention and final logits; attn_logit_softcapping and final_logit_softcapping must be set")
        }
        if arch == "gemma3" {
            if config.finalLogitSoftcap != nil { throw refuse("does not soft-cap the final logits; final_logit_softcapping must be null") }
            if let local = config.localRopeTheta, local != 10_000 {
                throw refuse("uses a local RoPE base of 10000 in windowed layers; rope_local_base_freq is \(local)")
            }
        }
    }

    /// llama.cpp's module names within a block for `architecture`, by Hugging Face module name (one table for
    /// export and import; each llama.cpp name appears once).
    static func ggufBlockModules(architecture: String) -> [String: String] {
        var modules = ["input_layernorm": "attn_norm", "self_attn.o_proj": "attn_output", "mlp.down_proj": "ffn_down"]
        if architecture == "phi3" {
            // Phi-3's fused projections, one matrix each (llama.cpp splits gate/up itself).
            modules["self_attn.qkv_proj"] = "attn_qkv"
            modules["mlp.gate_up_proj"] = "ffn_up"
        } else {
            modules["self_attn.q_proj"] = "attn_q"
            modules["self_attn.k_proj"] = "attn_k"
            modules["self_attn.v_proj"] = "attn_v"
            modules["mlp.gate_proj"] = "ffn_gate"
            modules["mlp.up_proj"] = "ffn_up"
        }
        if architecture.hasPrefix("gemma") {
            // Gemma's norms around each sub-block.
            modules["post_attention_layernorm"] = "post_attention_norm"
            modules["pre_feedforward_layernorm"] = "ffn_norm"
            modules["post_feedforward_layernorm"] = "post_ffw_norm"
        } else {
            modules["post_attention_layernorm"] = "ffn_norm"
        }
        if ["qwen3", "gemma3"].contains(architecture) {
            modules["self_attn.q_norm"] = "attn_q_norm"
            modules["self_attn.k_norm"] = "attn_k_norm"
        }
        return modules
    }

    /// llama.cpp's names of the tensors outside the blocks, by Hugging Face name.
    static let ggufWholeTensors = ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                                   "lm_head.weight": "output.weight"]

    /// llama.cpp's name for a Hugging Face tensor name (standard, text-only names), nil for none.
    func ggufTensorName(_ hfName: String) -> String? {
        if let name = Self.ggufWholeTensors[hfName] { return name }
        let parts = hfName.split(separator: ".", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == "model", parts[1] == "layers", let index = Int(parts[2]) else { return nil }
        let rest = parts[3]
        guard let dot = rest.lastIndex(of: ".") else { return nil }
        let module = String(rest[..<dot]), kind = String(rest[rest.index(after: dot)...])
        return Self.ggufBlockModules(architecture: ggufArchitecture)[module].map { "blk.\(index).\($0).\(kind)" }
    }

    /// Every tensor under llama.cpp's name, encoded when written: in the order llama.cpp's converter
    /// writes them (embedding, each layer, final norm, head). Gemma's norms are stored as their gains
    /// (1 + w), as llama.cpp's converter stores them.
    public func ggufTensors(type: GGUFExportType, mergeAdapter: Bool = true) throws -> [GGUFTensor] {
        let state = try stateDictionary(mergeAdapter: mergeAdapter)
        // The embedding, each layer's tensors, the final norm, the head.
        func position(_ name: String) -> Int {
            switch name {
            case "model.embed_tokens.weight": -1
            case "model.norm.weight": Int.max - 1
            case "lm_head.weight": Int.max
            default: name.hasPrefix("model.layers.") ? Int(name.split(separator: ".")[2]) ?? Int.max : Int.max
            }
        }
        let ordered = state.keys.map { (position($0), $0) }.sorted { $0 < $1 }.map(\.1)
        var tensors: [GGUFTensor] = []
        for hfName in ordered {
            guard let ggufName = ggufTensorName(hfName) else {
                throw ModelError("GGUF export: no llama.cpp name for tensor \(hfName) of a \(config.modelType) model")
            }
            var tensor = state[hfName]!
            if ggufArchitecture == "llama", hfName.hasSuffix("q_proj.weight") || hfName.hasSuffix("q_proj.bias") {
                tensor = try Self.interleaveRotaryHalves(tensor, heads: config.numAttentionHeads)
            } else if ggufArchitecture == "llama", hfName.hasSuffix("k_proj.weight") || hfName.hasSuffix("k_proj.bias") {
                tensor = try Self.interleaveRotaryHalves(tensor, heads: config.numKeyValueHeads)
            }
            if config.normWeightOffset != 0, ggufName.hasSuffix("norm.weight") {
                tensor = try tensor.to(.float32).add(config.normWeightOffset)
            }
            tensors.append(try Self.encode(tensor, name: ggufName, type: tensor.rank == 2 ? type : nil))
        }
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
