// ExtendVocabKind — the `extend-vocab` kind's descriptor and decoded parameters (torch-free; the
// implementation lives in ModelStages and runs in `loom-torch exec-stage`).
//
// Inputs: the base model (`pretrain-base`, through UpstreamOutputs.baseModelDirectory()) and the
// extended tokenizer (`hyperwords`: tokenizer.json + hyperwords.json, whose `base_vocabulary_size`
// must equal the base model's vocab_size). It appends one embedding row and one head row per new
// token and initialises them from each token's decomposition into base ids, then writes a Hugging
// Face model directory with vocab_size grown, the extended tokenizer files beside it, and
// init statistics (metrics `extend/*`). `init: hidden` runs the base model over every new token's
// pieces (LLM/HiddenStateInitialization) on `device`; `layer`, `fit_tokens`, `ridge` and `batch_size`
// are its settings.
import Foundation
import Pipeline

public enum ExtendVocabKind {
    public static let descriptor = StageKindDescriptor(
        name: "extend-vocab", version: 1,
        summary: "Append the hyperwords to the base model's vocabulary: resize embedding and head, initialise the new rows from their base decompositions.",
        executable: .loomTorch,
        schema: ParamSchema([
            .choice("init", ["mean", "first-last", "random", "hidden"], default: "mean",
                    doc: "new rows: mean of the base rows each token replaces (mean); embedding row from the last subword and head row from the first, as mergekit does (first-last); normal noise with the base rows' standard deviation, the ablation (random); the base model's hidden state over the subwords mapped back to the embedding space by a ridge regression fitted on base tokens, head row the mean of the subwords' (hidden)"),
            .int("seed", default: 0, minimum: 0, doc: "seeds the random initialisation"),
            .int("layer", default: -1, range: -1025...1024,
                 doc: "init: hidden — which hidden state, counted as Hugging Face's hidden_states: 0 the embeddings, i the output of layer i, the last after the final norm; negative from the end (-1: the last)"),
            .int("fit_tokens", default: 4096, minimum: 0,
                 doc: "init: hidden — base tokens (evenly spaced ids) whose single-token hidden states and embedding rows fit the map (0: every base token)"),
            .float("ridge", default: 0.01, range: ParamRange(minimum: 0, maximum: 1000, exclusiveMinimum: true),
                   doc: "init: hidden — the ridge regression's λ as a fraction of the mean eigenvalue of the hidden states' centred Gram matrix"),
            .int("batch_size", default: 64, range: 1...65536, doc: "init: hidden — sequences per forward pass"),
            DeviceParameter.spec,
        ]),
        metricGoals: [
            "extend/new_tokens": .none, "extend/embedding_base_norm": .none, "extend/embedding_new_norm": .none,
            "extend/head_base_norm": .none, "extend/head_new_norm": .none,
        ],
        checkParameters: Parameters.check)

    public enum Initialisation: String, Decodable, Sendable, CaseIterable {
        case mean
        case firstLast = "first-last"
        case random
        case hidden
    }

    public struct Parameters: KindParameters, Sendable, Equatable {
        public var initialisation: Initialisation
        public var seed: Int
        public var layer: Int
        public var fitTokens: Int
        public var ridge: Double
        public var batchSize: Int
        /// auto, cpu, cuda or cuda:N (DeviceParameter; not in the fingerprint): where `hidden` runs the model.
        public var device: String

        enum CodingKeys: String, CodingKey {
            case initialisation = "init"
            case seed, layer, fitTokens, ridge, batchSize, device
        }

        public func validate() throws { try DeviceParameter.check(device) }
    }
}
