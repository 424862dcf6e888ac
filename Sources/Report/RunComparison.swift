// RunComparison — runs side by side, read from the run store: the parameters whose values differ, and
// each metric's final value (the value at its last step) per run with the best one marked.
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
    }

    public let columns: [Column]
    public let params: [ParamRow]
    public let metrics: [MetricRow]

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
        metrics = order.map { id in
            let (stage, key, values) = metricValues[id]!
            let goal = goals.goal(for: key)
            return MetricRow(stage: stage, key: key, goal: goal, values: values, best: Self.best(values, goal: goal))
        }
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
