// MetricGoals — which way is better for a metric, so `loom compare` can mark the best run. A goal
// declared by the stage kind wins; otherwise the name decides: rates, accuracies, agreement and
// compression (bytes per token) are maximised; learning rates, steps, counts and times are neither;
// everything else (loss, bits per byte, perplexity, KL, tokens per word) is minimised.
import Pipeline

public struct MetricGoals: Sendable {
    private let declared: [String: MetricGoal]

    static let maximizeWords = ["accuracy", "acc", "agreement", "f1", "precision", "recall", "bleu", "rouge",
                                "bytes_per_token", "per_second", "per_sec", "throughput", "score", "auc"]
    static let neutralWords = ["lr", "learning_rate", "step", "steps", "epoch", "tokens", "seed", "time", "elapsed",
                               "count", "params", "parameters", "bytes", "vocab", "vocab_size", "batch", "seq_len"]

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
        let words = name.split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == "." }).map(String.init)
        if Self.maximizeWords.contains(where: { word in word.contains("_") ? name.contains(word) : words.contains(word) }) {
            return .maximize
        }
        if Self.neutralWords.contains(name) || words.last == "count" { return .none }
        return .minimize
    }
}
