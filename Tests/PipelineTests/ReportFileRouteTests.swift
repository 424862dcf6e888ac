// ReportFileRouteTests — the route a Slurm job records by, without a cluster: stage attempts write only
// their report file (StageReports) and the runner ingests it into the store. A run recorded that way
// equals one recorded directly; failures, cancellation and retries come through; the reader keeps a
// line whose end has not arrived, skips what it does not understand, and continues from a saved offset.
import Foundation
import Pipeline
import TestSupport
import Testing

@Suite struct ReportFileRouteTests {
    let project: TestProject

    init() throws {
        project = try TestProject(reportFiles: true)
        try project.write("pipelines/chain.yaml", """
            stages:
              a: {kind: write, params: {text: a, steps: 4}}
              b: {kind: write, after: [a], params: {text: b}}
              c: {kind: write, after: [b], params: {text: c}}
              d: {kind: write, params: {text: d}}
            """)
        try project.write("recipes/r.yaml", "pipeline: chain\n")
    }

    @Test func aRunRecordedThroughReportFilesEqualsOneRecordedDirectly() throws {
        let direct = try TestProject()
        try direct.write("pipelines/chain.yaml", project.read("pipelines/chain.yaml")!)
        try direct.write("recipes/r.yaml", "pipeline: chain\n")
        let expected = try direct.run("recipes/r.yaml", jobs: 2)
        let result = try project.run("recipes/r.yaml", jobs: 2)
        #expect(result.status == .succeeded)

        let store = try project.store(), directStore = try direct.store()
        #expect(try store.finalMetrics(ofRun: result.id) == directStore.finalMetrics(ofRun: expected.id))
        #expect(try store.metricSeries(run: result.id, stage: "a", key: "train/loss").map(\.value) == [10, 5, 10.0 / 3, 2.5])
        let digests = { (store: RunStore, run: Int64) in try store.artifacts(ofRun: run).map { "\($0.stage) \($0.artifacts.map(\.sha256))" } }
        #expect(try digests(store, result.id) == digests(directStore, expected.id))
        let stages = try store.stages(ofRun: result.id)
        #expect(stages.allSatisfy { $0.status == .succeeded && $0.pid == ProcessState.currentPID && $0.host == ProcessState.hostName })
        #expect(stages.first { $0.name == "a" }?.progress == StageProgress(step: 4, total: 4, loss: 2.5, etaSeconds: 0))

        let job = store.layout.jobDirectory(run: result.id, stage: "a", attempt: 1)
        let report = try String(contentsOf: job.report, encoding: .utf8)
        #expect(report.hasPrefix("{\"host\":"), "\(report)")
        #expect(report.contains("\"loom\":\"finished\""))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: job.report.path)[.size] as? NSNumber)
        #expect(try String(contentsOf: job.reportOffset, encoding: .utf8) == "\(size)", "everything was ingested")
    }

    @Test func failuresCancellationAndRetriesComeThrough() throws {
        try project.write("recipes/fail.yaml", "pipeline: chain\nparams: {b: {fail_attempts: 1}}\n")
        let failed = try project.run("recipes/fail.yaml")
        #expect(failed.status == .failed)
        let b = try #require(try project.store().stage(run: failed.id, name: "b"))
        #expect(b.status == .failed && b.error == "planned failure 1 of 1")

        try project.write("recipes/retry.yaml", "pipeline: chain\nparams: {c: {fail_attempts: 2}}\nexecutor: {retries: 2}\n")
        let retried = try project.run("recipes/retry.yaml")
        #expect(retried.status == .succeeded)
        #expect(retried.lines.contains { $0.hasSuffix("· c: retry 1 of 2") })
        #expect(retried.lines.contains { $0.hasSuffix("· c: retry 2 of 2") })
        #expect(try project.store().stage(run: retried.id, name: "c")?.attempt == 3)

        try project.write("recipes/wait.yaml", "pipeline: chain\nparams: {d: {wait_for: never.txt}}\n")
        let cancellation = CancellationFlag()
        Thread.detachNewThread {
            usleep(400_000)
            cancellation.cancel(reason: "test")
        }
        let cancelled = try project.run("recipes/wait.yaml", jobs: 4, cancellation: cancellation)
        #expect(cancelled.status == .cancelled)
        let d = try #require(try project.store().stage(run: cancelled.id, name: "d"))
        #expect(d.status == .cancelled && d.error == "cancelled by the runner")
    }

    @Test func retriesRunOutAndTheStageStaysFailed() throws {
        try project.write("recipes/retry.yaml", "pipeline: chain\nparams: {d: {fail_attempts: 5}}\nexecutor: {retries: 1}\n")
        let result = try project.run("recipes/retry.yaml")
        #expect(result.status == .failed)
        let d = try #require(try project.store().stage(run: result.id, name: "d"))
        #expect(d.status == .failed && d.attempt == 2 && d.error == "planned failure 2 of 5")
    }

    @Test func theReaderKeepsPartialLinesSkipsNonsenseAndContinuesFromItsOffset() throws {
        let file = project.root.appendingPathComponent("report.jsonl")
        let offset = project.root.appendingPathComponent("report.offset")
        try Data().write(to: file)
        let reader = ReportFileReader(file: file, offsetFile: offset, acceptsLoomEvents: true)
        var invalid: [String] = []
        reader.onInvalidLine = { invalid.append("\($0): \($1)") }
        var seen: [StageReport] = []

        let handle = try FileHandle(forWritingTo: file)
        handle.write(Data("{\"key\":\"loss\",\"value\":2.5,\"step\":1,\"time\":10.0}\n{\"step\": 2, \"lo".utf8))
        try reader.read { seen += $0 }
        #expect(seen == [.metrics([MetricPoint(key: "loss", step: 1, value: 2.5, time: 10)])])
        handle.write(Data("ss\": 2.0, \"time\": 11}\nnot json\n{\"loom\":\"finished\",\"status\":\"failed\",\"exit_code\":1,\"error\":\"boom\"}\n".utf8))
        try reader.read { seen += $0 }
        #expect(seen.last == .finished(.failed, exitCode: 1, error: "boom"))
        #expect(seen.count == 3 && invalid == ["3: not a JSON object"])
        try handle.close()

        let later = ReportFileReader(file: file, offsetFile: offset, acceptsLoomEvents: true)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)
        #expect(later.savedOffset == size.uint64Value)
        later.start(at: later.savedOffset)
        #expect(try later.read { _ in } == false, "nothing is read twice")

        let command = ReportFileReader(file: file, acceptsLoomEvents: false)
        var refused: [String] = []
        command.onInvalidLine = { refused.append("\($0): \($1)") }
        try command.read { _ in }
        #expect(refused == ["3: not a JSON object", "4: \"loom\" lines are Loom's own reports"])
    }

    @Test func slurmStatesAreReadAsSlurmNamesThem() {
        #expect(SlurmJobState("CANCELLED by 0")?.name == "CANCELLED")
        #expect(SlurmJobState("COMPLETED+")?.isTerminal == true)
        #expect(SlurmJobState("PENDING")?.isQueued == true)
        #expect(SlurmJobState("RUNNING")?.isTerminal == false)
        #expect(SlurmJobState("SOMETHING_NEW")?.isTerminal == false, "an unknown state is polled again")
        #expect(SlurmJobState("") == nil)
        let timeout = SlurmJobStatus(state: SlurmJobState("TIMEOUT")!, reason: "TimeLimit", exitCode: "0:15")
        #expect(timeout.summary == "TIMEOUT: time limit reached (reason TimeLimit, exit code 0:15)")
        #expect(SlurmJobStatus(state: SlurmJobState("OUT_OF_MEMORY")!, reason: "None", exitCode: "0:0").summary == "OUT_OF_MEMORY: out of memory")
        #expect(SlurmJobStatus(state: SlurmJobState("FAILED")!, reason: "NonZeroExitCode", exitCode: "1:0").summary
            == "FAILED (reason NonZeroExitCode, exit code 1:0)")
    }
}
