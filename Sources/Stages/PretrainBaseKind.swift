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
            .section("model", doc: "architecture, written to config.json (vocab_size is the base tokenizer's)", [
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
            .int("seq_len", default: 256, range: 8...131_072, doc: "tokens per training sequence (config.json's max_position_embeddings)"),
            .int("steps", default: 1000, minimum: 1, doc: "optimizer steps"),
            .int("batch_size", default: 16, range: 1...65536, doc: "sequences per optimizer step"),
            .float("lr", default: 3e-3, range: ParamRange(minimum: 0, maximum: 1, exclusiveMinimum: true), doc: "peak learning rate (AdamW)"),
            .choice("schedule", ["constant", "cosine", "linear"], default: "cosine",
                    doc: "learning rate after warmup: constant, or decaying to 10% of lr by the last step (cosine, linear)"),
            .int("warmup_steps", default: 50, minimum: 0, doc: "steps of linear warmup from 0 to lr; at most steps"),
            .float("weight_decay", default: 0.1, range: ParamRange(minimum: 0, maximum: 1), doc: "AdamW weight decay (not applied to norms)"),
            .float("grad_clip", default: 1.0, range: ParamRange(minimum: 0), doc: "clip the global gradient norm to this (0: no clipping)"),
            .int("eval_every", default: 100, minimum: 0,
                 doc: "steps between held-out losses (pretrain/val_loss) on the validation split of the tiers (0: only after the last step)"),
            .int("checkpoint_every", default: 100, minimum: 0,
                 doc: "steps between checkpoints in the resume directory (0: none; a killed stage starts over)"),
            .int("seed", default: 0, minimum: 0, doc: "seeds initialisation and batch order"),
        ]),
        metricGoals: ["pretrain/lr": .none, "pretrain/grad_norm": .none, "pretrain/parameters": .none])

    /// The parameters as a kind reads them, with the defaults that depend on other keys filled in.
    public struct Parameters: Decodable, Sendable, Equatable {
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
        public var seqLen: Int
        public var steps: Int
        public var batchSize: Int
        public var lr: Double
        public var schedule: LearningRateSchedule
        public var warmupSteps: Int
        public var weightDecay: Double
        public var gradClip: Double
        public var evalEvery: Int
        public var checkpointEvery: Int
        public var seed: Int

        /// Decodes and checks the rules between keys.
        public static func load(_ params: StageParameters) throws -> Parameters {
            let decoded = try params.decode(Parameters.self)
            try decoded.validate()
            return decoded
        }

        func validate() throws {
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
            guard warmupSteps <= steps else {
                throw ParameterConstraintError("warmup_steps", "\(warmupSteps) is more than steps (\(steps))")
            }
        }
    }
}

/// How the learning rate moves after warmup (`pretrain-base` and `train`).
public enum LearningRateSchedule: String, Decodable, Sendable, CaseIterable {
    case constant, cosine, linear
}
