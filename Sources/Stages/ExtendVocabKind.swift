// ExtendVocabKind — the `extend-vocab` kind's descriptor and decoded parameters (torch-free; the
// implementation lives in ModelStages and runs in `loom-torch exec-stage`).
//
// Inputs: the base model (`pretrain-base`, through UpstreamOutputs.baseModelDirectory()) and the
// extended tokenizer (`hyperwords`: tokenizer.json + hyperwords.json, whose `base_vocabulary_size`
// must equal the base model's vocab_size). It appends one embedding row and one head row per new
// token and initialises them from each token's decomposition into base ids, then writes a Hugging
// Face model directory with vocab_size grown, the extended tokenizer files beside it, and
// init statistics (metrics `extend/*`).
import Foundation
import Pipeline

public enum ExtendVocabKind {
    public static let descriptor = StageKindDescriptor(
        name: "extend-vocab", version: 1,
        summary: "Append the hyperwords to the base model's vocabulary: resize embedding and head, initialise the new rows from their base decompositions.",
        executable: .loomTorch,
        schema: ParamSchema([
            .choice("init", ["mean", "first-last", "random"], default: "mean",
                    doc: "new rows: mean of the base rows each token replaces (mean); embedding row from the last subword and head row from the first, as mergekit does (first-last); normal noise with the base rows' standard deviation, the ablation (random)"),
            .int("seed", default: 0, minimum: 0, doc: "seeds the random initialisation"),
        ]),
        metricGoals: [
            "extend/new_tokens": .none, "extend/embedding_base_norm": .none, "extend/embedding_new_norm": .none,
            "extend/head_base_norm": .none, "extend/head_new_norm": .none,
        ])

    public enum Initialisation: String, Decodable, Sendable, CaseIterable {
        case mean
        case firstLast = "first-last"
        case random
    }

    public struct Parameters: KindParameters, Sendable, Equatable {
        public var initialisation: Initialisation
        public var seed: Int

        enum CodingKeys: String, CodingKey {
            case initialisation = "init"
            case seed
        }
    }
}
