// RunnerTests — the runner with real files, a real store and the in-process executor: caching,
// exactly-affected reruns, --force, variants sharing stages, parallel jobs, failures, cancellation,
// resume (including a stage left running by a dead process) and the stage contract.
import Foundation
import Pipeline
import TestSupport
import Testing

@Suite struct RunnerTests {
    let project: TestProject

    init() throws {
        project = try TestProject()
        try project.write("pipelines/chain.yaml", """
            stages:
              a: {kind: write, params: {text: a}}
              b: {kind: write, after: [a], params: {text: b}}
              c: {kind: write, after: [b], params: {text: c}}
              d: {kind: write, params: {text: d}}
            """)
        try project.write("recipes/r.yaml", "pipeline: chain\n")
    }

    func output(_ store: RunStore, run: Int64, stage: String) throws -> String? {
        let record = try #require(try store.stage(run: run, name: stage))
        return try? String(contentsOf: store.layout.cacheEntry(record.fingerprint).appendingPathComponent("out.txt"), encoding: .utf8)
    }

    @Test func aRunExecutesEveryStageAndPromotesOutputsWithAManifest() throws {
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded)
        #expect(Set(project.executedStages()) == ["a", "b", "c", "d"])
        let store = try project.store()
        #expect(try output(store, run: result.id, stage: "c") == "c|b|a")
        let stages = try store.stages(ofRun: result.id)
        #expect(stages.allSatisfy { $0.status == .succeeded && $0.attempt == 1 })
        let c = try #require(stages.first { $0.name == "c" })
        let manifest = try #require(CacheManifest.read(store.layout, fingerprint: c.fingerprint))
        #expect(manifest.producerRun == result.id)
        #expect(manifest.artifacts.map(\.name) == ["text"])
        #expect(manifest.artifacts[0].sha256.count == 64)
        #expect(!FileManager.default.fileExists(atPath: store.layout.workDirectory(c.fingerprint).path), "work directory removed after success")
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func aSecondRunIsFullyCachedAndExecutesNothing() throws {
        let first = try project.run("recipes/r.yaml")
        let second = try project.run("recipes/r.yaml")
        #expect(second.status == .succeeded)
        #expect(project.executions.count == 4)
        let store = try project.store()
        let stages = try store.stages(ofRun: second.id)
        #expect(stages.allSatisfy { $0.status == .cached && $0.sourceRunID == first.id })
        #expect(try store.finalMetrics(ofRun: second.id) == store.finalMetrics(ofRun: first.id))
    }

    @Test func aChangedParamRerunsExactlyTheAffectedStages() throws {
        try project.run("recipes/r.yaml")
        try project.write("recipes/r.yaml", "pipeline: chain\nparams:\n  b: {text: B}\n")
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded)
        #expect(project.executedStages().suffix(2).sorted() == ["b", "c"])
        #expect(project.executions.count == 6)
        let statuses = Dictionary(uniqueKeysWithValues: try project.store().stages(ofRun: result.id).map { ($0.name, $0.status) })
        #expect(statuses == ["a": .cached, "b": .succeeded, "c": .succeeded, "d": .cached])
        #expect(try output(project.store(), run: result.id, stage: "c") == "c|B|a")
    }

    @Test func forceRerunsAStageAndWhatDependsOnIt() throws {
        let first = try project.run("recipes/r.yaml")
        let forced = try project.run("recipes/r.yaml", force: ["b"])
        #expect(forced.status == .succeeded)
        #expect(project.executedStages().suffix(2).sorted() == ["b", "c"])
        let store = try project.store()
        let b = try #require(try store.stage(run: forced.id, name: "b"))
        #expect(b.status == .succeeded)
        #expect(b.fingerprint == (try store.stage(run: first.id, name: "b"))?.fingerprint)
        #expect(CacheManifest.read(store.layout, fingerprint: b.fingerprint)?.producerRun == forced.id, "the fresh output replaced the entry")
    }

    @Test func variantsShareIdenticalStagesAndExecuteThemOnceEvenInParallel() throws {
        try project.write("recipes/v.yaml", """
            pipeline: chain
            variants:
              one: {params: {c: {text: one}}}
              two: {params: {c: {text: two}}}
              three: {params: {c: {text: three}}}
            """)
        let result = try project.run("recipes/v.yaml", jobs: 3)
        #expect(result.statuses.values.allSatisfy { $0 == .succeeded })
        let counts = Dictionary(grouping: project.executedStages(), by: { $0 }).mapValues(\.count)
        #expect(counts == ["a": 1, "b": 1, "d": 1, "c": 3])
        let store = try project.store()
        let cached = try result.ids.flatMap { try store.stages(ofRun: $0) }.filter { $0.status == .cached }
        #expect(cached.count == 6)
        #expect(try output(store, run: result.ids[2], stage: "c") == "three|b|a")
    }

    @Test func independentStagesRunInParallelUpToJobs() throws {
        // a waits for a file that only d creates: with one job this would time out.
        try project.write("recipes/p.yaml", """
            stages:
              a: {kind: write, params: {wait_for: d-started, steps: 0}}
              d: {kind: write, params: {touch: d-started, steps: 10}}
            """)
        let result = try project.run("recipes/p.yaml", jobs: 2)
        #expect(result.status == .succeeded)
    }

    @Test func aFailureLeavesDownstreamPendingAndOthersRunThenResumeCompletes() throws {
        try project.write("recipes/r.yaml", "pipeline: chain\nparams:\n  b: {fail_attempts: 1}\n")
        let failed = try project.run("recipes/r.yaml")
        #expect(failed.status == .failed)
        let store = try project.store()
        var statuses = Dictionary(uniqueKeysWithValues: try store.stages(ofRun: failed.id).map { ($0.name, $0.status) })
        #expect(statuses == ["a": .succeeded, "b": .failed, "c": .pending, "d": .succeeded])
        let b = try #require(try store.stage(run: failed.id, name: "b"))
        #expect(b.error == "planned failure 1 of 1")
        #expect(failed.lines.contains { $0.contains("r · b: failed") && $0.contains("loom logs \(failed.id) b") })
        let log = try String(contentsOf: store.layout.logFile(run: failed.id, stage: "b", attempt: 1), encoding: .utf8)
        #expect(log.contains("error: planned failure 1 of 1"))

        #expect(try project.resume(failed.id) == .succeeded)
        statuses = Dictionary(uniqueKeysWithValues: try store.stages(ofRun: failed.id).map { ($0.name, $0.status) })
        #expect(statuses == ["a": .succeeded, "b": .succeeded, "c": .succeeded, "d": .succeeded])
        #expect(try store.stage(run: failed.id, name: "b")?.attempt == 2)
        #expect(project.executedStages().filter { $0 == "a" }.count == 1, "resume reuses what succeeded")
        #expect(try store.run(failed.id)?.status == .succeeded)
    }

    @Test func cancellationStopsRunningStagesAndLeavesTheRestForResume() throws {
        try project.write("recipes/slow.yaml", """
            stages:
              slow: {kind: write, params: {steps: 60, touch: slow.started, wait_for: slow.release}}
              after: {kind: write, after: [slow]}
            """)
        // Cancel once the stage is known to be running (not after a fixed delay, which a loaded machine
        // can outlast before the stage even starts); it then waits for slow.release, which only appears
        // before the resume.
        let cancellation = CancellationFlag()
        let started = project.root.appendingPathComponent("slow.started").path
        Thread.detachNewThread {
            let deadline = ProcessState.now + 120
            while !FileManager.default.fileExists(atPath: started), ProcessState.now < deadline { usleep(10_000) }
            cancellation.cancel(reason: "test cancels")
        }
        let result = try project.run("recipes/slow.yaml", cancellation: cancellation)
        #expect(result.status == .cancelled)
        let store = try project.store()
        #expect(try store.stage(run: result.id, name: "slow")?.status == .cancelled)
        #expect(try store.stage(run: result.id, name: "after")?.status == .pending)
        #expect(try store.run(result.id)?.status == .cancelled)
        try project.write("recipes/slow.yaml", "stages:\n  slow: {kind: write, params: {steps: 1}}\n  after: {kind: write, after: [slow]}\n")
        try project.write("slow.release", "")
        #expect(try project.resume(result.id) == .succeeded, "resume keeps the run's own plan")
        #expect(try store.metricSeries(run: result.id, stage: "slow", key: "train/loss").count == 60)
    }

    @Test func aStageLeftRunningByADeadProcessIsStaleAndRerunFromItsResumeDirectory() throws {
        try project.write("recipes/one.yaml", "stages:\n  train: {kind: write, params: {text: t, fail_attempts: 1}}\n")
        let store = try project.store()
        let preparation = RunPreparation(store: store, registry: project.registry)
        let (recipe, plans) = try preparation.plan(recipeFile: project.root.appendingPathComponent("recipes/one.yaml"), variants: [], forcedStages: [])
        let run = try preparation.createRuns(plans, recipe: recipe)[0]
        let fingerprint = plans[0].stages[0].fingerprint

        // What a kill -9 leaves: the stage `running` with a pid that no longer exists, a half-written
        // attempt directory, and the checkpoint the stage had saved in its resume directory.
        let deadPID = pidThatCannotExist()
        _ = try store.startAttempt(run: run.id, stage: "train", pid: nil)
        try store.stageProcessStarted(run: run.id, stage: "train", pid: deadPID)
        let partial = store.layout.workDirectory(fingerprint).appendingPathComponent("attempt-\(run.id)-1/out")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try "half".write(to: partial.appendingPathComponent("out.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: store.layout.resumeDirectory(fingerprint), withIntermediateDirectories: true)
        try "1".write(to: store.layout.resumeDirectory(fingerprint).appendingPathComponent("attempts"), atomically: true, encoding: .utf8)

        let record = try #require(try store.stage(run: run.id, name: "train"))
        #expect(record.staleReason() == "process \(deadPID) is gone")
        #expect(try project.resume(run.id) == .succeeded)
        let finished = try #require(try store.stage(run: run.id, name: "train"))
        #expect(finished.status == .succeeded)
        #expect(finished.attempt == 2)
        #expect(project.executions == ["train  2"], "continued from the checkpoint: the planned failure was already used up")
        #expect(try output(store, run: run.id, stage: "train") == "t")
        let log = try String(contentsOf: store.layout.logFile(run: run.id, stage: "train", attempt: 2), encoding: .utf8)
        #expect(log.contains("discarding attempt-\(run.id)-1 left by an earlier attempt"))
        #expect(try store.events(ofRun: run.id).contains { $0.message.contains("stale: process \(deadPID) is gone") })
    }

    @Test func resumeRefusesARunWhoseStageIsStillAlive() throws {
        try project.write("recipes/one.yaml", "stages:\n  train: {kind: write}\n")
        let store = try project.store()
        let preparation = RunPreparation(store: store, registry: project.registry)
        let (recipe, plans) = try preparation.plan(recipeFile: project.root.appendingPathComponent("recipes/one.yaml"), variants: [], forcedStages: [])
        let run = try preparation.createRuns(plans, recipe: recipe)[0]
        let alive = try ChildProcess.spawn(executable: "/bin/sleep", arguments: ["30"], environment: [:], newProcessGroup: true)
        defer { alive.signal(SIGKILL); _ = alive.wait() }
        _ = try store.startAttempt(run: run.id, stage: "train", pid: nil)
        try store.stageProcessStarted(run: run.id, stage: "train", pid: alive.pid)
        #expect {
            try preparation.prepareResume(run.id, executor: InProcessExecutor(registry: project.registry))
        } throws: {
            "\($0)" == "stage train of run \(run.id) is still running (pid \(alive.pid) on \(ProcessState.hostName)); wait for it or stop it"
        }
    }

    @Test func metricsProgressAndArtifactsReachTheStore() throws {
        try project.write("recipes/m.yaml", "stages:\n  train: {kind: write, params: {text: hello, steps: 5}}\n")
        let reporter = CollectingReporter()
        let result = try project.run("recipes/m.yaml", reporter: reporter)
        let store = try project.store()
        let series = try store.metricSeries(run: result.id, stage: "train", key: "train/loss")
        #expect(series.map(\.step) == [1, 2, 3, 4, 5])
        #expect(series.last?.value == 2)
        let finals = try store.finalMetrics(ofRun: result.id)
        #expect(finals.contains(FinalMetric(stage: "train", key: "eval/accuracy", step: 0, value: 0.05)))
        let artifacts = try store.artifacts(ofRun: result.id)
        #expect(artifacts.first?.artifacts.first?.name == "text")
        #expect(artifacts.first?.artifacts.first?.bytes == 5)
        let progressed = reporter.activeSnapshots.flatMap { $0 }.compactMap(\.progress)
        #expect(progressed.contains { $0.total == 5 && $0.step != nil }, "live progress came through the store")
    }

    @Test func contractViolationsFailTheStageClearly() throws {
        try project.write("recipes/bad.yaml", """
            stages:
              artifact: {kind: misbehave, params: {how: missing-artifact}}
              reserved: {kind: misbehave, params: {how: reserved-name}}
              input: {kind: misbehave, params: {how: missing-input}}
            """)
        let result = try project.run("recipes/bad.yaml", jobs: 3)
        #expect(result.status == .failed)
        let errors = Dictionary(uniqueKeysWithValues: try project.store().stages(ofRun: result.id).map { ($0.name, $0.error ?? "") })
        #expect(errors["artifact"] == "artifact 'adapter' was registered at adapter/model.safetensors, but the stage did not write it")
        #expect(errors["reserved"] == "the stage wrote .loom-complete.json, a name Loom reserves for the cache manifest")
        #expect(errors["input"]?.hasPrefix("stage input has no input 'nowhere'") == true)
    }

    @Test func aKindThatRunsInLoomTorchIsRefusedByLoomsDriver() throws {
        try project.write("recipes/m.yaml", "stages:\n  fit: {kind: train-model}\n")
        let result = try project.run("recipes/m.yaml")
        #expect(result.status == .failed)
        let error = try project.store().stage(run: result.id, name: "fit")?.error
        #expect(error == "stage kind 'train-model' runs in `loom-torch exec-stage`; loom has no implementation of it")
    }
}
