// EvalKind — the `eval` kind's descriptor and decoded parameters (torch-free; the implementation lives
// in ModelStages and runs in `loom-torch exec-stage`).
//
// Inputs: the corpus (`corpus`), the base model (`pretrain-base`), the extended model (`extend-vocab`)
// and the adapter (`train`). On the same held-out text (whole scenes of `split` of `tier`), for the base
// model with its own tokenizer and for the tuned one (extended model + adapter) with the extended
// tokenizer: mean loss, bits per byte (comparable across vocabularies), perplexity; the extended model's
// bits per byte without the adapter (before training: how good the new rows' initialisation is); tokens per word and
// bytes per token of both tokenizers; KL(base‖tuned) and top-1 agreement on a probe set; and seeded
// generations for `prompts`, written to generations.json ([{prompt, base, tuned, seed}]).
// All metrics at step 0, named as in the README's "Stage kinds" section (eval/…).
import Corpus
import Foundation
import Pipeline

public enum EvalKind {
    public static let descriptor = StageKindDescriptor(
        // 2: text starts with the tokenizer's own prefix (its template's BOS, if any), not always BOS.
        // 3: eval/extended_bits_per_byte, the extended model without the adapter (step 0 of training).
        name: "eval", version: 3,
        summary: "Compare base and tuned model on held-out text: loss, bits per byte, perplexity, tokenizer measures, KL and top-1 agreement, generations.",
        executable: .loomTorch,
        schema: ParamSchema([
            .string("tier", default: "core", doc: "corpus tier whose text is evaluated"),
            .choice("split", ["validation", "train"], default: "validation", doc: "which split of the tier (validation: held out from every training stage)"),
            .int("max_scenes", default: 0, minimum: 0, doc: "evaluate at most this many scenes, in corpus order (0: all)"),
            .int("max_bytes", default: 0, minimum: 0,
                 doc: "stop adding scenes once this many UTF-8 bytes are taken (0: no limit); both models always read the same text"),
            .int("seq_len", default: 512, range: 8...131_072, doc: "window in tokens: each scene is scored in windows of this many tokens"),
            .int("batch_size", default: 8, range: 1...65536, doc: "windows per forward pass"),
            .int("probe_size", default: 32, minimum: 0,
                 doc: "held-out windows (base tokenization) on which KL(base‖tuned) and top-1 agreement of next-token distributions are measured, the tuned model's restricted to the base vocabulary (0: skip)"),
            .list("prompts", of: .string, doc: "prompts both models continue; written to generations.json"),
            .int("max_new_tokens", default: 64, range: 1...8192, doc: "tokens generated per prompt"),
            .float("temperature", default: 0.8, range: ParamRange(minimum: 0, maximum: 10), doc: "sampling temperature (0: greedy)"),
            .float("top_p", default: 0.95, range: ParamRange(minimum: 0, maximum: 1, exclusiveMinimum: true), doc: "nucleus sampling: keep the smallest set of tokens whose probability reaches top_p"),
            .int("seed", default: 0, minimum: 0, doc: "seeds sampling (each prompt uses seed + its index) and the probe windows"),
            .choice("dtype", ["float32", "bfloat16", "float16"], default: "float32",
                    doc: "how both models compute: their dense matrices stored and multiplied in it (QLoRA: the NF4 weights dequantised to it); the loss and measures in float32"),
            DeviceParameter.spec,
        ]),
        metricGoals: [
            "eval/kl_base_tuned": .none, "eval/top1_agreement": .none,
            "eval/extended_bits_per_byte": .minimize,
            "eval/base_loss": .none, "eval/base_bits_per_byte": .none, "eval/base_perplexity": .none,
            "eval/base_tokens_per_word": .none, "eval/base_bytes_per_token": .none,
            "eval/tokens_per_scene": .minimize, "eval/train_gflops_per_mb": .minimize, "eval/activation_mb_per_batch": .minimize,
            "eval/base_tokens_per_scene": .none, "eval/base_train_gflops_per_mb": .none, "eval/base_activation_mb_per_batch": .none,
        ],
        checkParameters: Parameters.check,
        tierKeys: ["tier"])

    public struct Parameters: KindParameters, Sendable, Equatable {
        public var tier: String
        public var split: String
        /// `split` as the corpus names it.
        public var corpusSplit: CorpusSplit { split == "train" ? .train : .validation }
        public var maxScenes: Int
        public var maxBytes: Int
        public var seqLen: Int
        public var batchSize: Int
        public var probeSize: Int
        public var prompts: [String]
        public var maxNewTokens: Int
        public var temperature: Double
        public var topP: Double
        public var seed: Int
        public var dtype: String
        /// auto, cpu, cuda or cuda:N (DeviceParameter; not in the fingerprint).
        public var device: String

        public func validate() throws { try DeviceParameter.check(device) }
    }
}
