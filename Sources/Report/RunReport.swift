// RunReport — everything `loom report` shows, read from the run store: the findings, where cached
// stages came from, the comparison (params that differ, final metrics with the base model's column),
// ablations, per-step loss curves, eval metrics for base and tuned model, the saturation curves (eval
// bits per byte against training tokens and against books) and generations.
// Metric names follow METRICS-CONTRACT.md; what a run lacks is collected as notes for the page to say.
import Foundation
import Pipeline

public struct RunReport: Sendable {
    /// One run's points of one per-step metric.
    public struct Series: Sendable {
        /// Index into `runs`.
        public let run: Int
        public let stage: String
        public let points: [MetricPoint]
    }

    /// Every run's curve of one metric whose name contains `loss` and that has several steps.
    public struct LossCurve: Sendable {
        public let key: String
        public let series: [Series]
        /// Runs (by index) without this metric.
        public let runsWithout: [Int]
        /// Points that were NaN or infinite and left out.
        public let nonFinitePoints: Int
    }

    /// One `eval/*` metric: the tuned model's final value and the base model's, per run.
    public struct EvalMetric: Sendable {
        public let key: String
        /// `eval/base_NAME` when the runs report the base model's value.
        public let baseKey: String?
        public let goal: MetricGoal
        public let tuned: [Double?]
        public let base: [Double?]
        /// Index of the best tuned value.
        public let best: Int?
    }

    public struct SaturationPoint: Sendable, Equatable {
        public let run: Int
        public let corpusTokens: Double
        public let bitsPerByte: Double
    }

    /// Eval bits per byte against the tokens each variant trained on, with the base model's level.
    public struct Saturation: Sendable {
        public static let tokensKey = "train/corpus_tokens"
        public static let bitsPerByteKey = "eval/bits_per_byte"
        public static let baseBitsPerByteKey = "eval/base_bits_per_byte"

        /// In order of corpus tokens.
        public let points: [SaturationPoint]
        /// Each distinct base value with the runs (by index) that measured it.
        public let baseLevels: [(value: Double, runs: [Int])]
        /// Why a run is not on the curve ("core (run 4): no train/corpus_tokens").
        public let missing: [String]
    }

    public let runs: [RunRecord]
    /// Short, distinct names of the runs for legends and column heads.
    public let labels: [String]
    public let comparison: RunComparison
    public let lossCurves: [LossCurve]
    public let evalMetrics: [EvalMetric]
    public let saturation: Saturation
    public let booksSaturation: BooksSaturation
    /// Runs with a book count left off that curve: they differ from its runs in more than the tier set,
    /// the book count and seeds (an init variant at the same count is no seed to pool).
    public let booksLeftOff: [Int]
    public let generations: GenerationTable
    /// Runs (by index) that recorded no metric at all.
    public let runsWithoutMetrics: [Int]
    /// Each run's parameters: canonical JSON by `stage.key`.
    public let params: [[String: String]]
    /// Each run's final metric values by key (the first stage in pipeline order that reports the key).
    public let finalValues: [[String: Double]]
    /// Runs that differ in exactly one parameter, per parameter.
    public let ablations: [Ablation]
    public let findings: [Finding]
    /// Per run: which stages it executed and which runs computed its cached ones.
    public let provenance: [CacheProvenance]
    /// Which way is better for each metric.
    public let goals: MetricGoals
    /// The EMA weight the training curves open with.
    public let smoothing = CurveSmoothing.defaultWeight

    /// Reads the runs' records. Throws `ReportError.noMetrics` when none of the runs recorded a metric.
    public init(store: RunStore, runs: [RunRecord], goals: MetricGoals) throws {
        guard !runs.isEmpty else { throw ReportError.noRuns }
        self.runs = runs
        self.goals = goals
        labels = Self.labels(runs)
        comparison = try RunComparison(store: store, runs: runs, goals: goals)

        let finals = try runs.map { try store.finalMetrics(ofRun: $0.id) }
        runsWithoutMetrics = finals.indices.filter { finals[$0].isEmpty }
        guard runsWithoutMetrics.count < runs.count else {
            throw ReportError.noMetrics(runs.map { "\($0.id) (\($0.label), \($0.status.rawValue))" })
        }
        // Key → (stage, value): the first stage in pipeline order that reports the key.
        let values: [[String: (stage: String, value: Double)]] = finals.map { metrics in
            var byKey: [String: (stage: String, value: Double)] = [:]
            for metric in metrics where byKey[metric.key] == nil { byKey[metric.key] = (metric.stage, metric.value) }
            return byKey
        }
        let keys = Self.keysInOrder(finals)
        let finalValues = values.map { $0.mapValues(\.value) }
        let params = try runs.map { run in
            Dictionary(try store.params(ofRun: run.id).map { ("\($0.stage).\($0.key)", $0.value) }) { first, _ in first }
        }
        self.finalValues = finalValues
        self.params = params

        lossCurves = try Self.lossCurves(store: store, runs: runs, keys: keys, values: values)
        evalMetrics = Self.evalMetrics(keys: keys, values: values, goals: goals)
        saturation = Self.saturation(values: values, labels: labels)
        let books = Self.booksCurveRuns(params: params, values: finalValues)
        booksSaturation = BooksSaturation(values: finalValues.indices.map { books.runs.contains($0) ? finalValues[$0] : [:] })
        booksLeftOff = books.leftOff
        generations = try GenerationTable(store: store, runs: runs, labels: labels)
        ablations = Ablation.find(params: params)
        findings = Findings.compute(labels: labels, params: params, values: finalValues, books: booksSaturation,
                                    ablations: ablations, goals: goals)
        provenance = try runs.map { try CacheProvenance(store: store, run: $0) }
    }

    /// The variant (or the recipe) when that names each run once; otherwise with the run id.
    static func labels(_ runs: [RunRecord]) -> [String] {
        let severalRecipes = Set(runs.map(\.recipe)).count > 1
        let names = runs.map { run in
            severalRecipes ? run.label : (run.variant.isEmpty ? run.recipe : run.variant)
        }
        return zip(runs, names).map { run, name in
            names.filter { $0 == name }.count > 1 ? "\(name) #\(run.id)" : name
        }
    }

    /// Every key once, in the order runs report them (pipeline order of stages, then name).
    static func keysInOrder(_ finals: [[FinalMetric]]) -> [String] {
        var seen: Set<String> = []
        var keys: [String] = []
        for metrics in finals {
            for metric in metrics where seen.insert(metric.key).inserted { keys.append(metric.key) }
        }
        return keys
    }

    static func lossCurves(store: RunStore, runs: [RunRecord], keys: [String],
                           values: [[String: (stage: String, value: Double)]]) throws -> [LossCurve] {
        try keys.filter { $0.lowercased().contains("loss") }.sorted().compactMap { key in
            var series: [Series] = []
            var without: [Int] = []
            var nonFinite = 0
            for (index, run) in runs.enumerated() {
                guard let stage = values[index][key]?.stage else {
                    without.append(index)
                    continue
                }
                let points = try store.metricSeries(run: run.id, stage: stage, key: key)
                let finite = points.filter { $0.value.isFinite }
                nonFinite += points.count - finite.count
                if finite.isEmpty { without.append(index) } else { series.append(Series(run: index, stage: stage, points: finite)) }
            }
            // A metric logged once (eval/loss at step 0) is a final number, not a curve.
            guard series.contains(where: { $0.points.count > 1 }) else { return nil }
            return LossCurve(key: key, series: series, runsWithout: without, nonFinitePoints: nonFinite)
        }
    }

    /// The runs one books curve pools: among runs with a book count and bits per byte, those whose
    /// parameters agree apart from the tier set, the book count and seeds — the group with the most
    /// counts (then the most runs, then the first). The others are left off.
    static func booksCurveRuns(params: [[String: String]], values: [[String: Double]]) -> (runs: [Int], leftOff: [Int]) {
        let candidates = values.indices.filter { index in
            [BooksSaturation.booksKey, BooksSaturation.bitsPerByteKey].allSatisfy { values[index][$0]?.isFinite == true }
        }
        var order: [String] = []
        var groups: [String: [Int]] = [:]
        for index in candidates {
            let rest = params[index].filter { Ablation.isFactor($0.key) }.sorted { $0.key < $1.key }
                .map { "\($0.key)\u{0}\($0.value)" }.joined(separator: "\u{1}")
            if groups[rest] == nil { order.append(rest) }
            groups[rest, default: []].append(index)
        }
        let chosen = order.map { groups[$0]! }.enumerated().max { a, b in
            let counts = (Set(a.element.map { values[$0][BooksSaturation.booksKey]! }).count, Set(b.element.map { values[$0][BooksSaturation.booksKey]! }).count)
            return (counts.0, a.element.count, -a.offset) < (counts.1, b.element.count, -b.offset)
        }?.element ?? []
        return (chosen, candidates.filter { !chosen.contains($0) })
    }

    static func evalMetrics(keys: [String], values: [[String: (stage: String, value: Double)]], goals: MetricGoals) -> [EvalMetric] {
        let keySet = Set(keys)
        return keys.filter { $0.hasPrefix("eval/") }.compactMap { key in
            let name = key.dropFirst("eval/".count)
            // A base key is drawn beside its tuned counterpart; one without a counterpart stands alone.
            if name.hasPrefix("base_"), keySet.contains("eval/" + name.dropFirst("base_".count)) { return nil }
            let baseKey = RunComparison.baseKey(of: key).flatMap { keySet.contains($0) ? $0 : nil }
            let tuned = values.map { run in run[key].map(\.value).flatMap { $0.isFinite ? $0 : nil } }
            let base = values.map { run in baseKey.flatMap { run[$0]?.value }.flatMap { $0.isFinite ? $0 : nil } }
            let goal = goals.goal(for: key)
            return EvalMetric(key: key, baseKey: baseKey, goal: goal, tuned: tuned, base: base,
                              best: RunComparison.best(tuned, goal: goal))
        }
    }

    static func saturation(values: [[String: (stage: String, value: Double)]], labels: [String]) -> Saturation {
        var points: [SaturationPoint] = []
        var missing: [String] = []
        var levels: [(value: Double, runs: [Int])] = []
        for (index, run) in values.enumerated() {
            let tokens = run[Saturation.tokensKey]?.value
            let bitsPerByte = run[Saturation.bitsPerByteKey]?.value
            let absent = [(Saturation.tokensKey, tokens), (Saturation.bitsPerByteKey, bitsPerByte)].filter { $0.1 == nil }.map(\.0)
            if !absent.isEmpty {
                missing.append("\(labels[index]): no \(absent.joined(separator: " and "))")
            } else if let tokens, let bitsPerByte {
                if !tokens.isFinite || !bitsPerByte.isFinite || tokens < 0 {
                    missing.append("\(labels[index]): \(Saturation.tokensKey) = \(tokens), \(Saturation.bitsPerByteKey) = \(bitsPerByte) cannot be drawn")
                } else {
                    points.append(SaturationPoint(run: index, corpusTokens: tokens, bitsPerByte: bitsPerByte))
                }
            }
            if let base = run[Saturation.baseBitsPerByteKey]?.value, base.isFinite {
                if let level = levels.firstIndex(where: { RunComparison.agreedValue([$0.value, base]) != nil }) {
                    levels[level].runs.append(index)
                } else {
                    levels.append((base, [index]))
                }
            }
        }
        points.sort { ($0.corpusTokens, $0.run) < ($1.corpusTokens, $1.run) }
        return Saturation(points: points, baseLevels: levels, missing: missing)
    }
}

public enum ReportError: Error, CustomStringConvertible, Equatable {
    case noRuns
    /// Every named run recorded no metric (`id (label, status)` each).
    case noMetrics([String])
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .noRuns:
            "no runs to report on"
        case .noMetrics(let runs):
            "no metrics recorded in run\(runs.count == 1 ? "" : "s") \(runs.joined(separator: ", ")) — nothing to report "
                + "(did the stages run? see `loom status RUN` and `loom logs RUN STAGE`)"
        case .cannotWrite(let path, let reason):
            "cannot write the report to \(path): \(reason)"
        }
    }
}
