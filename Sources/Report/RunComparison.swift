// RunComparison — runs side by side, read from the run store: the parameters whose values differ, and
// each metric's final value (the value at its last step) per run with the best one marked.
//
// The base model's numbers (`eval/base_X` beside the tuned model's `eval/X`, as the eval kind reports
// them) become the `base` of the `eval/X` row when every run measured the same base value — the
// usual case: one base model, one held-out text. When they differ (runs evaluated on different
// text), the base rows stay rows of their own, so no number is hidden.
//
// Stages that ran with the same fingerprint in every compared run (a saturation recipe's corpus,
// tokenizer, base model… shared by its variants) computed the same thing once: their metrics are equal
// by construction. `sharedStages` names them, so the text and HTML renderings can fold those rows
// away from the ones that tell the runs apart.
import Foundation
import Pipeline

public struct RunComparison: Sendable {
    public struct Column: Sendable {
        public let run: RunRecord
    }

    public struct ParamRow: Sendable {
        /// `stage.key.path`
        public let name: String
        /// One per run; nil where the run does not have the parameter.
        public let values: [String?]
    }

    public struct MetricRow: Sendable {
        public let stage: String
        public let key: String
        public let goal: MetricGoal
        /// One per run; nil where the run has no value.
        public let values: [Double?]
        /// Index of the best run (nil when no goal or fewer than one value).
        public let best: Int?
        /// The base model's value of this metric (from `PREFIX/base_NAME`), when the runs agree on it.
        public let base: Double?
        /// The row the base value came from (`eval/base_bits_per_byte`).
        public let baseKey: String?
    }

    public let columns: [Column]
    public let params: [ParamRow]
    public let metrics: [MetricRow]
    /// Stages with one fingerprint in every run (empty when fewer than two runs are compared).
    public let sharedStages: [String]

    /// The metric rows of stages that differ between the runs, and those of the shared stages.
    public var distinctMetrics: [MetricRow] { metrics.filter { !sharedStages.contains($0.stage) } }
    public var sharedMetrics: [MetricRow] { metrics.filter { sharedStages.contains($0.stage) } }

    /// - allParams: include parameters that are equal across the runs too.
    public init(store: RunStore, runs: [RunRecord], goals: MetricGoals, allParams: Bool = false) throws {
        columns = runs.map { Column(run: $0) }
        var paramValues: [String: [String?]] = [:]
        for (index, run) in runs.enumerated() {
            for param in try store.params(ofRun: run.id) {
                let name = "\(param.stage).\(param.key)"
                paramValues[name, default: Array(repeating: nil, count: runs.count)][index] = Self.display(param.value)
            }
        }
        params = paramValues.keys.sorted().compactMap { name in
            let values = paramValues[name]!
            let differs = Set(values.map { $0 ?? "\u{0}" }).count > 1
            return differs || allParams ? ParamRow(name: name, values: values) : nil
        }

        var metricValues: [String: (stage: String, key: String, values: [Double?])] = [:]
        var order: [String] = []
        for (index, run) in runs.enumerated() {
            for metric in try store.finalMetrics(ofRun: run.id) {
                let id = "\(metric.stage)\u{0}\(metric.key)"
                if metricValues[id] == nil {
                    metricValues[id] = (metric.stage, metric.key, Array(repeating: nil, count: runs.count))
                    order.append(id)
                }
                metricValues[id]!.values[index] = metric.value
            }
        }
        let rows = order.map { id in
            let (stage, key, values) = metricValues[id]!
            let goal = goals.goal(for: key)
            return MetricRow(stage: stage, key: key, goal: goal, values: values, best: Self.best(values, goal: goal), base: nil, baseKey: nil)
        }
        metrics = Self.foldingBaseRows(rows)
        sharedStages = try Self.sharedStages(store: store, runs: runs)
    }

    /// Stage names that every run has, with the same fingerprint in all of them, in the first run's order.
    static func sharedStages(store: RunStore, runs: [RunRecord]) throws -> [String] {
        guard runs.count > 1 else { return [] }
        let stages = try runs.map { run in try store.stages(ofRun: run.id) }
        return stages[0].map(\.name).filter { name in
            let fingerprints = stages.map { $0.first { $0.name == name }?.fingerprint }
            return fingerprints.allSatisfy { $0 != nil && $0 == fingerprints[0] }
        }
    }

    /// `eval/base_X` whose per-run values agree becomes the `base` of `eval/X` (same stage).
    static func foldingBaseRows(_ rows: [MetricRow]) -> [MetricRow] {
        var folded: Set<String> = []
        var result: [MetricRow] = []
        for row in rows {
            guard let baseKey = baseKey(of: row.key),
                  let baseRow = rows.first(where: { $0.stage == row.stage && $0.key == baseKey }),
                  let base = agreedValue(baseRow.values)
            else {
                result.append(row)
                continue
            }
            folded.insert("\(row.stage)\u{0}\(baseKey)")
            result.append(MetricRow(stage: row.stage, key: row.key, goal: row.goal, values: row.values, best: row.best,
                                    base: base, baseKey: baseKey))
        }
        return result.filter { !folded.contains("\($0.stage)\u{0}\($0.key)") }
    }

    /// `eval/bits_per_byte` → `eval/base_bits_per_byte`; nil for a key that is itself a base key.
    public static func baseKey(of key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard let name = parts.last, !name.hasPrefix("base_"), !name.isEmpty else { return nil }
        return (parts.dropLast() + ["base_" + name]).joined(separator: "/")
    }

    /// The one value every run that has one reports (equal to 6 significant digits, as shown).
    static func agreedValue(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        guard let first = present.first else { return nil }
        let tolerance = 1e-6 * max(abs(first), 1e-12)
        return present.allSatisfy({ abs($0 - first) <= tolerance }) ? first : nil
    }

    static func best(_ values: [Double?], goal: MetricGoal) -> Int? {
        let present = values.enumerated().compactMap { index, value in value.map { (index, $0) } }
        guard present.count > 1, Set(present.map(\.1)).count > 1 else { return nil }
        switch goal {
        case .minimize: return present.min { $0.1 < $1.1 }?.0
        case .maximize: return present.max { $0.1 < $1.1 }?.0
        case .none: return nil
        }
    }

    /// Stored values are canonical JSON; strings read better bare.
    public static func display(_ json: String) -> String {
        (try? JSONValue.parse(json)).map(\.displayText) ?? json
    }
}
