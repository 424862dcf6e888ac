// PretrainBaseKind — the `pretrain-base` kind's descriptor and decoded parameters (torch-free; the
// implementation lives in ModelStages and runs in `loom-torch exec-stage`).
//
// It pretrains a tiny Llama from scratch on the train split of chosen corpus tiers, tokenized by the
// upstream `base-tokenizer` (vocab_size is the tokenizer's), and writes a Hugging Face model directory:
// config.json (LlamaForCausalLM), model.safetensors, and the tokenizer files copied from the tokenizer
// stage. With `path` it pretrains nothing: the output is only `base-model.json` naming that directory
// (BaseModelReference), and every later kind resolves it through `UpstreamOutputs.baseModelDirectory()`.
import Foundation
import Pipeline

public enum PretrainBaseKind {
    public static let descriptor = StageKindDescriptor(
        name: "pretrain-base", version: 1,
        summary: "Pretrain a tiny Llama from scratch on corpus tiers with the base tokenizer, or take an existing Hugging Face model (`path`).",
        executable: .loomTorch,
        schema: ParamSchema([
            .path("path", .directory, required: false,
                  doc: "an existing Hugging Face model directory (config.json, *.safetensors, tokenizer) used as the base instead of pretraining: the stage then writes only base-model.json naming it, and the other keys are unused"),
            .list("tiers", of: .string, doc: "corpus tiers whose train split the model is pretrained on (empty: every tier)"),
            .section("model", doc: "architecture, written to config.json (vocab_size is the base tokenizer's, max_position_embeddings is seq_len)", [
                .int("hidden_size", default: 256, range: 8...65536, doc: "width of the residual stream and the embeddings"),
                .int("num_hidden_layers", default: 4, range: 1...512, doc: "transformer blocks"),
                .int("num_attention_heads", default: 4, range: 1...1024, doc: "query heads; must divide hidden_size into an even head size"),
                .int("num_key_value_heads", range: 1...1024,
                     doc: "key/value heads (grouped-query attention); must divide num_attention_heads (default: num_attention_heads)"),
                .int("intermediate_size", range: 8...1_048_576, doc: "SwiGLU MLP width (default: 8/3 × hidden_size rounded up to a multiple of 64)"),
                .float("rope_theta", default: 10000, range: ParamRange(minimum: 0, exclusiveMinimum: true), doc: "RoPE base frequency"),
                .float("rms_norm_eps", default: 1e-5, range: ParamRange(minimum: 0, maximum: 1, exclusiveMinimum: true), doc: "RMSNorm epsilon"),
                .bool("tie_word_embeddings", default: true, doc: "the output head shares the embedding matrix"),
            ]),
        ] + TrainingLoopParameters.specs(.init(
            metricPrefix: "pretrain", batchSizeDoc: "sequences per optimizer step", batchSize: 16, seqLen: 256, lr: 3e-3,
            warmupSteps: 50, weightDecay: 0.1, evalEvery: 100, checkpointEvery: 100))),
        metricGoals: ["pretrain/lr": .none, "pretrain/grad_norm": .none, "pretrain/parameters": .none, "pretrain/books": .none],
        checkParameters: Parameters.check,
        tierKeys: ["tiers"])

    /// The parameters as a kind reads them, with the defaults that depend on other keys filled in.
    public struct Parameters: KindParameters, Sendable, Equatable {
        public struct Model: Decodable, Sendable, Equatable {
            public var hiddenSize: Int
            public var numHiddenLayers: Int
            public var numAttentionHeads: Int
            public var numKeyValueHeads: Int?
            public var intermediateSize: Int?
            public var ropeTheta: Double
            public var rmsNormEps: Double
            public var tieWordEmbeddings: Bool

            public var keyValueHeads: Int { numKeyValueHeads ?? numAttentionHeads }
            /// 8/3 × hidden_size rounded up to a multiple of 64 unless given (LLaMA's SwiGLU sizing).
            public var mlpWidth: Int { intermediateSize ?? ((8 * hiddenSize + 3 * 64 - 1) / (3 * 64)) * 64 }
            public var headSize: Int { hiddenSize / numAttentionHeads }
        }

        /// nil: pretrain; else the existing model directory (absolute).
        public var path: String?
        public var tiers: [String]
        public var model: Model
        /// steps, batch_size, seq_len (config.json's max_position_embeddings), lr, schedule, …
        public var loop: TrainingLoopParameters

        enum CodingKeys: String, CodingKey {
            case path, tiers, model
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            path = try container.decodeIfPresent(String.self, forKey: .path)
            tiers = try container.decode([String].self, forKey: .tiers)
            model = try container.decode(Model.self, forKey: .model)
            loop = try TrainingLoopParameters(from: decoder)
        }

        public func validate() throws {
            let model = model
            guard model.hiddenSize % model.numAttentionHeads == 0 else {
                throw ParameterConstraintError("model.num_attention_heads", "\(model.numAttentionHeads) does not divide hidden_size \(model.hiddenSize)")
            }
            guard model.headSize % 2 == 0 else {
                throw ParameterConstraintError("model.num_attention_heads", "head size hidden_size / num_attention_heads = \(model.headSize) must be even (RoPE rotates pairs)")
            }
            guard model.numAttentionHeads % model.keyValueHeads == 0 else {
                throw ParameterConstraintError("model.num_key_value_heads", "\(model.keyValueHeads) does not divide num_attention_heads \(model.numAttentionHeads)")
            }
            try loop.validate()
        }
    }
}
