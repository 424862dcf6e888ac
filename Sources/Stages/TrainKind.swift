// TrainKind — the `train` kind's descriptor and decoded parameters (torch-free; the implementation
// lives in ModelStages and runs in `loom-torch exec-stage`).
//
// Inputs: the corpus (`corpus`) and the extended model (`extend-vocab` output: a Hugging Face model
// directory with the extended tokenizer). It trains a LoRA adapter (QLoRA: on NF4 base weights, block
// 64, double-quantised absmax) on the train split of `tiers`, checkpoints into the resume directory and
// continues from the last checkpoint when the stage is resumed, and writes the PEFT adapter
// (adapter_config.json + adapter_model.safetensors, with the trained new-token rows when
// `train_new_rows`). Metric names: see METRICS in the README ("Stage kinds") — train/loss, train/lr,
// train/grad_norm, train/tokens_per_second per step; train/val_loss every eval interval;
// train/tokens_seen, train/corpus_tokens, train/trainable_params at the last step.
import Foundation
import Pipeline

public enum TrainKind {
    /// LoRA target names and the Llama module each one wraps.
    public static let targetModules: [(target: String, module: String)] = [
        ("q", "q_proj"), ("k", "k_proj"), ("v", "v_proj"), ("o", "o_proj"), ("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj"),
    ]

    public static let descriptor = StageKindDescriptor(
        name: "train", version: 1,
        summary: "Train a LoRA or QLoRA adapter (and the new-token rows) on corpus tiers; resumable; writes a PEFT adapter.",
        executable: .loomTorch,
        schema: ParamSchema([
            .choice("method", ["lora", "qlora"], default: "lora",
                    doc: "lora: adapters on the frozen base in dtype; qlora: the base's linear weights stored as NF4 (block 64, double-quantised absmax) and dequantised on the fly"),
            .section("lora", doc: "the adapter", [
                .int("rank", default: 16, range: 1...4096, doc: "rank r of the update B·A"),
                .float("alpha", default: 32, range: ParamRange(minimum: 0, exclusiveMinimum: true), doc: "scale numerator: the update is scaled by alpha/r (alpha/√r with rslora)"),
                .float("dropout", default: 0.05, range: ParamRange(minimum: 0, maximum: 0.95), doc: "dropout on the adapter's input"),
                .list("targets", of: .choice(targetModules.map(\.target)), default: targetModules.map { .string($0.target) },
                      doc: "which linear layers get adapters: q, k, v, o (attention) and gate, up, down (MLP)"),
                .bool("rslora", default: false, doc: "rank-stabilised LoRA: scale by alpha/√r"),
            ]),
            .bool("train_new_rows", default: true,
                  doc: "the new-token rows of the embedding and output head train with the adapter (as PEFT's trainable_token_indices); every base row stays frozen"),
            .list("tiers", of: .string, doc: "corpus tiers whose train split the adapter trains on (empty: every tier); the variants of a saturation recipe differ here"),
            .int("steps", default: 1000, minimum: 1, doc: "optimizer steps"),
            .int("batch_size", default: 8, range: 1...65536, doc: "sequences per micro-batch"),
            .int("grad_accum", default: 1, range: 1...4096, doc: "micro-batches accumulated per optimizer step (effective batch: batch_size × grad_accum)"),
            .int("seq_len", default: 512, range: 8...131_072, doc: "tokens per training sequence"),
            .float("lr", default: 2e-4, range: ParamRange(minimum: 0, maximum: 1, exclusiveMinimum: true), doc: "peak learning rate (AdamW)"),
            .choice("schedule", ["constant", "cosine", "linear"], default: "cosine",
                    doc: "learning rate after warmup: constant, or decaying to 10% of lr by the last step (cosine, linear)"),
            .int("warmup_steps", default: 20, minimum: 0, doc: "steps of linear warmup from 0 to lr; at most steps"),
            .float("weight_decay", default: 0.0, range: ParamRange(minimum: 0, maximum: 1), doc: "AdamW weight decay on the trained weights"),
            .float("grad_clip", default: 1.0, range: ParamRange(minimum: 0), doc: "clip the global gradient norm to this (0: no clipping)"),
            .int("eval_every", default: 50, minimum: 0, doc: "steps between held-out losses (train/val_loss) (0: only after the last step)"),
            .list("val_tiers", of: .string, doc: "tiers whose validation split gives train/val_loss (empty: the training tiers)"),
            .int("val_max_tokens", default: 32768, minimum: 1, doc: "most held-out tokens per train/val_loss measurement"),
            .int("checkpoint_every", default: 50, minimum: 0,
                 doc: "steps between checkpoints (adapter, optimizer, RNG, data position) in the resume directory (0: none; a killed stage starts over)"),
            .choice("dtype", ["float32", "bfloat16", "float16"], default: "float32",
                    doc: "compute dtype of the frozen base (and of dequantised NF4 weights); adapters and optimizer state stay float32"),
            .int("seed", default: 0, minimum: 0, doc: "seeds adapter initialisation, dropout and batch order"),
        ]),
        metricGoals: [
            "train/lr": .none, "train/grad_norm": .none, "train/tokens_seen": .none, "train/corpus_tokens": .none,
            "train/trainable_params": .none,
        ])

    public enum Method: String, Decodable, Sendable, CaseIterable {
        case lora, qlora
    }

    public struct Parameters: Decodable, Sendable, Equatable {
        public struct LoRA: Decodable, Sendable, Equatable {
            public var rank: Int
            public var alpha: Double
            public var dropout: Double
            public var targets: [String]
            public var rslora: Bool

            /// The factor the update B·A is multiplied by (PEFT's `scaling`).
            public var scale: Double { rslora ? alpha / Double(rank).squareRoot() : alpha / Double(rank) }
            /// PEFT's `target_modules` for the targets, in Llama order.
            public var moduleNames: [String] { targetModules.filter { targets.contains($0.target) }.map(\.module) }
        }

        public var method: Method
        public var lora: LoRA
        public var trainNewRows: Bool
        public var tiers: [String]
        public var steps: Int
        public var batchSize: Int
        public var gradAccum: Int
        public var seqLen: Int
        public var lr: Double
        public var schedule: LearningRateSchedule
        public var warmupSteps: Int
        public var weightDecay: Double
        public var gradClip: Double
        public var evalEvery: Int
        public var valTiers: [String]
        public var valMaxTokens: Int
        public var checkpointEvery: Int
        public var dtype: String
        public var seed: Int

        public static func load(_ params: StageParameters) throws -> Parameters {
            let decoded = try params.decode(Parameters.self)
            try decoded.validate()
            return decoded
        }

        func validate() throws {
            guard !lora.targets.isEmpty else { throw ParameterConstraintError("lora.targets", "name at least one of q, k, v, o, gate, up, down") }
            if let repeated = lora.targets.first(where: { target in lora.targets.filter { $0 == target }.count > 1 }) {
                throw ParameterConstraintError("lora.targets", "'\(repeated)' is listed twice")
            }
            guard warmupSteps <= steps else {
                throw ParameterConstraintError("warmup_steps", "\(warmupSteps) is more than steps (\(steps))")
            }
        }
    }
}
