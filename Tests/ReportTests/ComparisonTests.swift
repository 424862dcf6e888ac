// ComparisonTests — `loom compare` from a real store: parameters that differ, final metric = last
// step, the best run marked by the metric's goal, text and JSON renderings.
import Foundation
import Pipeline
import Report
import TestSupport
import Testing

@Suite struct MetricGoalTests {
    let goals = MetricGoals()

    @Test func namesDecideTheGoal() {
        #expect(goals.goal(for: "train/loss") == .minimize)
        #expect(goals.goal(for: "eval/bits_per_byte") == .minimize)
        #expect(goals.goal(for: "eval/perplexity") == .minimize)
        #expect(goals.goal(for: "eval/kl_base_tuned") == .minimize)
        #expect(goals.goal(for: "eval/tokens_per_word") == .minimize)
        #expect(goals.goal(for: "eval/top1_agreement") == .maximize)
        #expect(goals.goal(for: "eval/accuracy") == .maximize)
        #expect(goals.goal(for: "eval/bytes_per_token") == .maximize)
        #expect(goals.goal(for: "train/tokens_per_second") == .maximize)
        #expect(goals.goal(for: "train/lr") == .none)
        #expect(goals.goal(for: "corpus/bytes") == .none)
    }

    @Test func aDeclaredGoalWins() {
        let declared = MetricGoals(declared: ["eval/bits_per_byte": .maximize])
        #expect(declared.goal(for: "eval/bits_per_byte") == .maximize)
        var registry = StageKindRegistry()
        registry.declare(StageKindDescriptor(name: "k", version: 1, summary: "", executable: .loom, schema: .empty,
                                             metricGoals: ["eval/surprise": .maximize]))
        #expect(MetricGoals(registry: registry).goal(for: "eval/surprise") == .maximize)
    }
}

@Suite struct RunComparisonTests {
    let scratch: ScratchDirectory
    let store: RunStore
    let runs: [RunRecord]

    init() throws {
        scratch = try ScratchDirectory("loom-report")
        var registry = StageKindRegistry()
        registry.declare(StageKindDescriptor(
            name: "train", version: 1, summary: "", executable: .loomTorch,
            schema: ParamSchema([.int("rank", default: 8, doc: "rank"), .string("tiers", default: "core", doc: "tiers")])))
        let recipe = scratch.path("r.yaml")
        try """
            stages:
              train: {kind: train}
              eval: {kind: train, after: [train]}
            variants:
              core: {}
              orbit: {params: {train: {tiers: core+orbit}}}
              fractal: {params: {train: {tiers: core+orbit+fractal}}}
            """.write(to: recipe, atomically: true, encoding: .utf8)
        let plans = try Planner(digester: FileDigester(storage: nil)).plans(for: RecipeLoader(registry: registry).load(recipe), variants: [])
        let store = try RunStore(home: scratch.path("runs"))
        let ids = try store.createRuns(plans, gitCommit: nil)
        let bitsPerByte = [1.9, 1.7, 1.8]
        let agreement = [0.5, 0.7, 0.6]
        for (index, id) in ids.enumerated() {
            try store.appendMetrics(run: id, stage: "train", (1...4).map {
                MetricPoint(key: "train/loss", step: $0, value: Double(10 - $0 - index), time: 0)
            })
            try store.appendMetrics(run: id, stage: "eval", [
                MetricPoint(key: "eval/bits_per_byte", step: 0, value: bitsPerByte[index], time: 0),
                MetricPoint(key: "eval/top1_agreement", step: 0, value: agreement[index], time: 0),
                MetricPoint(key: "train/lr", step: 0, value: 0.001, time: 0),
            ])
        }
        runs = try ids.compactMap { try store.run($0) }
        self.store = store
    }

    @Test func paramsThatDifferAreListedAndEqualOnesOnlyOnRequest() throws {
        let comparison = try RunComparison(store: store, runs: runs, goals: MetricGoals())
        #expect(comparison.params.map(\.name) == ["train.tiers"])
        #expect(comparison.params[0].values == ["core", "core+orbit", "core+orbit+fractal"])
        let all = try RunComparison(store: store, runs: runs, goals: MetricGoals(), allParams: true)
        #expect(all.params.map(\.name) == ["eval.rank", "eval.tiers", "train.rank", "train.tiers"])
    }

    @Test func finalMetricsAreLastStepsWithTheBestMarked() throws {
        let comparison = try RunComparison(store: store, runs: runs, goals: MetricGoals())
        let loss = try #require(comparison.metrics.first { $0.key == "train/loss" })
        #expect(loss.values == [6, 5, 4])
        #expect(loss.best == 2)
        let bpb = try #require(comparison.metrics.first { $0.key == "eval/bits_per_byte" })
        #expect(bpb.best == 1)
        let agreement = try #require(comparison.metrics.first { $0.key == "eval/top1_agreement" })
        #expect(agreement.goal == .maximize)
        #expect(agreement.best == 1)
        let lr = try #require(comparison.metrics.first { $0.key == "train/lr" })
        #expect(lr.best == nil)
    }

    @Test func textMarksTheBestAndJSONNamesTheBestRun() throws {
        let comparison = try RunComparison(store: store, runs: runs, goals: MetricGoals())
        let text = comparison.renderText()
        #expect(text.contains("params that differ"))
        #expect(text.contains("train.tiers  core  core+orbit  core+orbit+fractal"))
        let line = try #require(text.split(separator: "\n").first { $0.contains("eval/bits_per_byte") })
        #expect(line.contains("1.7 *"))
        #expect(!line.contains("1.9 *"))
        let json = comparison.json
        let bpb = try #require(json["metrics"]?.arrayValue?.first { $0["key"] == .string("eval/bits_per_byte") })
        #expect(bpb["best_run"] == .int(Int(runs[1].id)))
        #expect(bpb["values"] == .array([.double(1.9), .double(1.7), .double(1.8)]))
        #expect(json["runs"]?.arrayValue?.count == 3)
    }

    @Test func aCachedStageShowsItsProducersMetrics() throws {
        let stage = try #require(try store.stage(run: runs[0].id, name: "eval"))
        let again = try store.createRuns([try store.plan(ofRun: runs[0].id)], gitCommit: nil)[0]
        try store.markCached(run: again, stage: "eval", sourceRun: stage.runID, sourceStage: "eval")
        let comparison = try RunComparison(store: store, runs: [runs[0], try #require(try store.run(again))], goals: MetricGoals())
        let bpb = try #require(comparison.metrics.first { $0.key == "eval/bits_per_byte" })
        #expect(bpb.values == [1.9, 1.9])
    }
}

@Suite struct ComparisonCellTests {
    @Test func valuesThatDifferOnlyPastTheCutAreShownWhole() {
        let core = #"["/usr/share/games/fortunes/ru/2001.[01][0-9]""#
        let orbit = #""/usr/share/games/fortunes/ru/2002.[01][0-9]""#
        let values = [core + "]", core + ", " + orbit + "]", core + ", " + orbit + #", "/usr/share/games/fortunes/ru"]"#]
        // Cut at 48 characters, the last two would read the same: the very difference the table exists to show.
        #expect(RunComparison.cell(values[1]) == RunComparison.cell(values[2]))
        #expect(RunComparison.cells(values) == values)
    }

    @Test func valuesThatStayDistinctWhenCutAreCut() {
        let long = String(repeating: "x", count: 60)
        #expect(RunComparison.cells(["a" + long, "b" + long, nil]) == [RunComparison.cell("a" + long), RunComparison.cell("b" + long), "-"])
        #expect(RunComparison.cells(["same" + long, "same" + long]) == [RunComparison.cell("same" + long), RunComparison.cell("same" + long)])
    }

    @Test func multiLineValuesThatDifferPastTheirFirstLineAreShownOnOneLine() {
        #expect(RunComparison.cells(["set -e\nrun a", "set -e\nrun b"]) == ["set -e⏎run a", "set -e⏎run b"])
    }
}

@Suite struct TextTableTests {
    @Test func alignsColumnsAndNumbers() {
        var table = TextTable(header: ["name", "n"], rightAligned: [1])
        table.add(["a", "1"])
        table.add(["long", "100"])
        #expect(table.render() == "name    n\na       1\nlong  100\n")
        #expect(RunComparison.cell("one\ntwo") == "one …")
        #expect(RunComparison.number(1.0) == "1")
        #expect(RunComparison.number(0.123456789) == "0.123457")
    }
}

/// Two variants sharing an upstream stage (same fingerprint) and differing in the one after it.
@Suite struct SharedStageMetricsTests {
    let scratch: ScratchDirectory
    let store: RunStore
    let runs: [RunRecord]

    init() throws {
        scratch = try ScratchDirectory("loom-report-shared")
        var registry = StageKindRegistry()
        registry.declare(StageKindDescriptor(
            name: "k", version: 1, summary: "", executable: .loom, schema: ParamSchema([.string("tiers", default: "core", doc: "tiers")])))
        let recipe = scratch.path("shared.yaml")
        try """
            stages:
              corpus: {kind: k}
              train: {kind: k, after: [corpus]}
            variants:
              core: {}
              wide: {params: {train: {tiers: wide}}}
            """.write(to: recipe, atomically: true, encoding: .utf8)
        let plans = try Planner(digester: FileDigester(storage: nil)).plans(for: RecipeLoader(registry: registry).load(recipe), variants: [])
        let store = try RunStore(home: scratch.path("runs"))
        let ids = try store.createRuns(plans, gitCommit: nil)
        for (index, id) in ids.enumerated() {
            try store.appendMetrics(run: id, stage: "corpus", [MetricPoint(key: "corpus/documents", step: 0, value: 1447, time: 0)])
            try store.appendMetrics(run: id, stage: "train", [MetricPoint(key: "train/loss", step: 1, value: 2.0 + Double(index), time: 0)])
        }
        runs = try ids.compactMap { try store.run($0) }
        self.store = store
    }

    @Test func metricsOfSharedStagesAreFoldedIntoOneLineAndListedOnRequest() throws {
        let comparison = try RunComparison(store: store, runs: runs, goals: MetricGoals())
        #expect(comparison.sharedStages == ["corpus"])
        #expect(comparison.distinctMetrics.map(\.key) == ["train/loss"])
        let text = comparison.renderText()
        #expect(!text.contains("corpus/documents"))
        #expect(text.contains("  + 1 metrics of the stages all runs share (corpus), equal in every run: --all-metrics lists them\n"))
        #expect(comparison.renderText(allMetrics: true).contains("corpus/documents"))
        let rows = comparison.json["metrics"]?.arrayValue ?? []
        #expect(rows.count == 2 && rows.contains { $0["key"]?.stringValue == "corpus/documents" && $0["shared"] == .bool(true) })

        let single = try RunComparison(store: store, runs: [runs[0]], goals: MetricGoals())
        #expect(single.sharedStages.isEmpty && single.renderText().contains("corpus/documents"))
    }
}
