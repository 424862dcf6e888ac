// MetricGoals — which way is better for a metric, so `loom compare` can mark the best run. A goal
// declared by the stage kind wins; otherwise the metric's name decides (its last `/` part, split at
// `_`, `-`, `.`): losses, bits per byte, perplexity, errors and divergences are minimised; accuracy,
// agreement, F1, BLEU, compression (bytes per token) and throughput are maximised; anything else
// (counts, sizes, learning rates) is shown without a mark.
import Pipeline

public struct MetricGoals: Sendable {
    private let declared: [String: MetricGoal]

    static let minimizePhrases = ["loss", "bpb", "bits_per_byte", "bits_per_char", "perplexity", "ppl", "error", "err",
                                  "wer", "cer", "kl", "divergence", "nll", "cross_entropy", "mse", "mae", "rmse",
                                  "tokens_per_word", "tokens_per_byte"]
    static let maximizePhrases = ["accuracy", "acc", "agreement", "f1", "precision", "recall", "bleu", "rouge", "auc",
                                  "bytes_per_token", "words_per_token", "tokens_per_second", "per_second", "throughput",
                                  "compression", "score"]

    public init(declared: [String: MetricGoal] = [:]) {
        self.declared = declared
    }

    /// Every goal the registry's kinds declare.
    public init(registry: StageKindRegistry) {
        var goals: [String: MetricGoal] = [:]
        for descriptor in registry.allDescriptors { goals.merge(descriptor.metricGoals) { a, _ in a } }
        self.init(declared: goals)
    }

    public func goal(for key: String) -> MetricGoal {
        if let goal = declared[key] { return goal }
        let name = (key.split(separator: "/").last.map(String.init) ?? key).lowercased()
        let words = Set(name.split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == "." }).map(String.init))
        func mentions(_ phrase: String) -> Bool { phrase.contains("_") ? name.contains(phrase) : words.contains(phrase) }
        // Compound phrases first: `tokens_per_second` is a rate even though it contains `tokens`.
        if Self.maximizePhrases.contains(where: { $0.contains("_") && mentions($0) }) { return .maximize }
        if Self.minimizePhrases.contains(where: mentions) { return .minimize }
        if Self.maximizePhrases.contains(where: mentions) { return .maximize }
        return .none
    }
}
