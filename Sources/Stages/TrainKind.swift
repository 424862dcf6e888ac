// TrainKind — the `train` kind's descriptor and decoded parameters (torch-free; the implementation
// lives in ModelStages and runs in `loom-torch exec-stage`).
//
// Inputs: the corpus (`corpus`) and the extended model (`extend-vocab` output: a Hugging Face model
// directory with the extended tokenizer). It trains a LoRA adapter (QLoRA: on NF4 base weights, block
// 64, double-quantised absmax) on the train split of `tiers`, checkpoints into the resume directory and
// continues from the last checkpoint when the stage is resumed, and writes the PEFT adapter
// (adapter_config.json + adapter_model.safetensors, with the trained new-token rows when
// `train_new_rows`). Metrics (the README's "Stage kinds"): train/loss, train/lr, train/grad_norm,
// train/tokens_per_second per step; train/val_loss every eval interval; train/tokens_seen,
// train/corpus_tokens, train/trainable_params at the last step.
import Foundation
import Pipeline

public enum TrainKind {
    /// LoRA target names and the Llama module each one wraps.
    public static let targetModules: [(target: String, module: String)] = [
        ("q", "q_proj"), ("k", "k_proj"), ("v", "v_proj"), ("o", "o_proj"), ("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj"),
        ("qkv", "qkv_proj"), ("gate_up", "gate_up_proj"),
    ]
    /// The default targets: every projection of a Llama layer (on Phi-3's fused layout, all four of its).
    static let defaultTargets = ["q", "k", "v", "o", "gate", "up", "down"]

    public static let descriptor = StageKindDescriptor(
        // 2: text starts with the tokenizer's own prefix (its template's BOS, if any), not always BOS.
        name: "train", version: 2,
        summary: "Train a LoRA or QLoRA adapter (and the new-token rows) on corpus tiers; resumable; writes a PEFT adapter.",
        executable: .loomTorch,
        schema: ParamSchema([
            .choice("method", ["lora", "qlora"], default: "lora",
                    doc: "lora: adapters on the frozen base in dtype; qlora: the base's linear weights stored as NF4 (block 64, double-quantised absmax) and dequantised on the fly"),
            .section("lora", doc: "the adapter", [
                .int("rank", default: 16, range: 1...4096, doc: "rank r of the update B·A"),
                .float("alpha", default: 32, range: ParamRange(minimum: 0, exclusiveMinimum: true), doc: "scale numerator: the update is scaled by alpha/r (alpha/√r with rslora)"),
                .float("dropout", default: 0.05, range: ParamRange(minimum: 0, maximum: 0.95), doc: "dropout on the adapter's input"),
                .list("targets", of: .choice(targetModules.map(\.target)), default: defaultTargets.map { .string($0) },
                      doc: "which linear layers get adapters: q, k, v, o (attention) and gate, up, down (MLP); on Phi-3, whose q/k/v and gate/up are one projection each, q/k/v adapt qkv_proj and gate/up adapt gate_up_proj (qkv and gate_up name them directly)"),
                .bool("rslora", default: false, doc: "rank-stabilised LoRA: scale by alpha/√r"),
            ]),
            .bool("train_new_rows", default: true,
                  doc: "the new-token rows of the embedding and output head train with the adapter (as PEFT's trainable_token_indices); every base row stays frozen"),
            .list("tiers", of: .string, doc: "corpus tiers whose train split the adapter trains on (empty: every tier); the variants of a saturation recipe differ here"),
            .int("grad_accum", default: 1, range: 1...4096, doc: "micro-batches accumulated per optimizer step (effective batch: batch_size × grad_accum)"),
            .list("val_tiers", of: .string, doc: "tiers whose validation split gives train/val_loss (empty: the training tiers)"),
            .int("val_max_tokens", default: 32768, minimum: 1, doc: "most held-out tokens per train/val_loss measurement"),
            .bool("gradient_checkpointing", default: false,
                  doc: "recompute each decoder layer's activations in backward instead of keeping them: less memory (QLoRA's peak 894 → 705 MB in bench/lora-train), about one more forward pass per step"),
            .int("books", default: 0, minimum: 0,
                 doc: "train on this many books (source files) of the tiers, taken in a seeded order so that a smaller count is always a subset of a larger one (0: every book): the saturation curve by number of books"),
            .int("books_seed", default: 0, minimum: 0, doc: "seeds the order `books` takes books in"),
            .choice("packing", ["plain", "masked"], default: "plain",
                    doc: "how scenes packed into one seq_len window see each other: plain (causal attention across the whole window, as Hugging Face's group_texts trains) or masked (attention stays inside each scene, positions restart at its first token, and a scene's first token is not predicted from the one before — Axolotl's sample packing)"),
            .choice("dtype", ["float32", "bfloat16", "float16"], default: "float32",
                    doc: "how the frozen base computes: LoRA's dense matrices stored and multiplied in it (bfloat16: half the memory of float32), QLoRA's NF4 weights dequantised to it; adapters, new-token rows, optimizer state, norms and the loss stay float32. In the fingerprint (set bfloat16 for a GPU run: the default does not depend on the machine)"),
        ] + TrainingLoopParameters.specs(.init(
            metricPrefix: "train", batchSizeDoc: "sequences per micro-batch", batchSize: 8, seqLen: 512, lr: 2e-4,
            warmupSteps: 20, weightDecay: 0, evalEvery: 50, checkpointEvery: 50))),
        metricGoals: [
            "train/lr": .none, "train/grad_norm": .none, "train/tokens_seen": .none, "train/corpus_tokens": .none,
            "train/trainable_params": .none, "train/nf4_bytes_per_parameter": .none, "train/books": .none,
        ],
        checkParameters: Parameters.check,
        tierKeys: ["tiers", "val_tiers"])

    public enum Method: String, Decodable, Sendable, CaseIterable {
        case lora, qlora
    }

    public struct Parameters: KindParameters, Sendable, Equatable {
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
        public var gradAccum: Int
        public var valTiers: [String]
        public var valMaxTokens: Int
        public var dtype: String
        public var gradientCheckpointing: Bool
        /// plain or masked (see the schema).
        public var packing: String
        /// How many books of the tiers to train on (0: all), and the seed of their order.
        public var books: Int
        public var booksSeed: Int
        /// steps, batch_size, seq_len, lr, schedule, warmup_steps, …
        public var loop: TrainingLoopParameters

        enum CodingKeys: String, CodingKey {
            case method, lora, trainNewRows, tiers, gradAccum, valTiers, valMaxTokens, dtype, gradientCheckpointing, packing, books, booksSeed
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            method = try container.decode(Method.self, forKey: .method)
            lora = try container.decode(LoRA.self, forKey: .lora)
            trainNewRows = try container.decode(Bool.self, forKey: .trainNewRows)
            tiers = try container.decode([String].self, forKey: .tiers)
            gradAccum = try container.decode(Int.self, forKey: .gradAccum)
            valTiers = try container.decode([String].self, forKey: .valTiers)
            valMaxTokens = try container.decode(Int.self, forKey: .valMaxTokens)
            dtype = try container.decode(String.self, forKey: .dtype)
            gradientCheckpointing = try container.decode(Bool.self, forKey: .gradientCheckpointing)
            packing = try container.decode(String.self, forKey: .packing)
            books = try container.decode(Int.self, forKey: .books)
            booksSeed = try container.decode(Int.self, forKey: .booksSeed)
            loop = try TrainingLoopParameters(from: decoder)
        }

        public func validate() throws {
            guard !lora.targets.isEmpty else { throw ParameterConstraintError("lora.targets", "name at least one of q, k, v, o, gate, up, down") }
            if let repeated = lora.targets.first(where: { target in lora.targets.filter { $0 == target }.count > 1 }) {
                throw ParameterConstraintError("lora.targets", "'\(repeated)' is listed twice")
            }
            try loop.validate()
        }
    }
}
