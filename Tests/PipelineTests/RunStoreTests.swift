// RunStoreTests — the SQLite store: runs and stages, metrics in batches (final value = last step, a
// re-logged step keeps its last value), writers in several connections at once, run references.
import Foundation
import Pipeline
import Testing

@Suite struct RunStoreTests {
    let project: TestProject

    init() throws {
        project = try TestProject()
        try project.write("recipes/r.yaml", """
            stages:
              prepare: {kind: write, params: {text: x, lora: {rank: 4}}}
              train: {kind: write, after: [prepare]}
            variants:
              core: {}
              orbit: {params: {prepare: {lora: {rank: 16}}}}
            """)
    }

    func createRuns(_ store: RunStore) throws -> [Int64] {
        try store.createRuns(try project.plans("recipes/r.yaml"), gitCommit: "abc")
    }

    @Test func runsAndStagesAreRecordedWithParams() throws {
        let store = try project.store()
        let ids = try createRuns(store)
        #expect(ids.count == 2)
        let run = try #require(try store.run(ids[1]))
        #expect(run.recipe == "r")
        #expect(run.variant == "orbit")
        #expect(run.label == "r/orbit")
        #expect(run.status == .running)
        #expect(run.gitCommit == "abc")
        #expect(try store.stages(ofRun: ids[1]).map(\.name) == ["prepare", "train"])
        #expect(try store.stages(ofRun: ids[1]).allSatisfy { $0.status == .pending && $0.attempt == 0 })
        let params = try store.params(ofRun: ids[1])
        #expect(params.contains(ParamRecord(stage: "prepare", key: "lora.rank", value: "16")))
        #expect(params.contains(ParamRecord(stage: "prepare", key: "text", value: "\"x\"")))
        #expect(try store.plan(ofRun: ids[1]).variant == "orbit")
    }

    @Test func finalMetricIsTheLastStepAndReloggedStepsKeepTheirLastValue() throws {
        let store = try project.store()
        let run = try createRuns(store)[0]
        try store.appendMetrics(run: run, stage: "train", [
            MetricPoint(key: "loss", step: 1, value: 3, time: 1),
            MetricPoint(key: "loss", step: 3, value: 1, time: 3),
            MetricPoint(key: "loss", step: 2, value: 2, time: 2),
            MetricPoint(key: "lr", step: 0, value: 0.1, time: 1),
        ])
        // A resumed attempt logs step 3 again (its checkpoint was at step 2).
        try store.appendMetrics(run: run, stage: "train", [MetricPoint(key: "loss", step: 3, value: 0.9, time: 4)])
        let finals = try store.finalMetrics(ofRun: run)
        #expect(finals == [FinalMetric(stage: "train", key: "loss", step: 3, value: 0.9), FinalMetric(stage: "train", key: "lr", step: 0, value: 0.1)])
        #expect(try store.metricSeries(run: run, stage: "train", key: "loss").map(\.value) == [3, 2, 0.9])
        #expect(try store.metricRowCount(run: run) == 5)
    }

    @Test func aMetricsLoggerWritesInBatches() throws {
        let store = try project.store()
        let run = try createRuns(store)[0]
        let logger = MetricsLogger(recorder: StoreRecorder(store: store, run: run, stage: "train"), batchSize: 100)
        for step in 0..<250 { logger.log("loss", Double(250 - step), step: step) }
        #expect(logger.rowsWritten == 200, "two full batches written while logging")
        logger.log("loss", .nan, step: 250)
        try logger.flush()
        #expect(logger.rowsWritten == 250)
        #expect(logger.droppedCount == 1)
        #expect(try store.finalMetrics(ofRun: run).first?.value == 1)
    }

    @Test func manyConnectionsWriteAtOnceWithoutLockErrors() throws {
        let stores = try (0..<4).map { _ in try project.store() }
        let run = try createRuns(stores[0])[0]
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        for (index, store) in stores.enumerated() {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    for batch in 0..<25 {
                        try store.appendMetrics(run: run, stage: "s\(index)", (0..<200).map {
                            MetricPoint(key: "k", step: batch * 200 + $0, value: Double($0), time: 0)
                        })
                        try store.heartbeat(run: run, stage: "train", progress: StageProgress(step: batch))
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        group.wait()
        #expect(failures.current.isEmpty, "\(failures.current)")
        #expect(try stores[0].metricRowCount(run: run) == 4 * 25 * 200)
        #expect(try stores[0].integrityCheck() == "ok")
    }

    @Test func runReferencesResolveIdsLatestRecipesAndVariants() throws {
        let store = try project.store()
        let first = try createRuns(store)
        let second = try createRuns(store)
        #expect(try store.resolveRuns(String(first[0])).map(\.id) == [first[0]])
        #expect(try store.resolveRuns("latest").map(\.id) == [second[1]])
        #expect(try store.resolveRuns("r/core").map(\.id) == [second[0]])
        #expect(try store.resolveRuns("r").map(\.id) == second)
        #expect(throws: RunStoreError.unknownRun("nope")) { try store.resolveRuns("nope") }
        #expect(throws: RunStoreError.ambiguousRun("r", ["\(second[0]) (r/core)", "\(second[1]) (r/orbit)"])) {
            try store.resolveRun("r")
        }
    }

    @Test func aStoreOpensTwiceAndMigratesOnce() throws {
        let a = try project.store()
        let b = try project.store()
        _ = try createRuns(a)
        #expect(try b.runs().count == 2)
    }
}
