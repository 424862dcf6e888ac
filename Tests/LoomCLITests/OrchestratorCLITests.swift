// OrchestratorCLITests — the built `loom` as people use it, with real processes: the shipped example
// recipes, kill -9 mid-stage then resume (same outputs and curves as an uninterrupted run, database
// intact), a runner killed alone, two runs on one store at once, Ctrl-C, errors, and
// `loom-torch exec-stage`.
import Foundation
import TestSupport
import Testing

/// A scratch project with its own store, driven through the `loom` binary.
final class CLIProject {
    let files: ScratchProject
    let loom = TestPaths.executable("loom")
    var root: URL { files.root }
    var home: String { root.appendingPathComponent("runs").path }

    init() throws { files = try ScratchProject("loom-cli") }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> URL { try files.write(relative, text) }

    func read(_ relative: String) -> String? { files.read(relative) }

    /// `loom ARGS --home HOME` run to completion in the project directory.
    @discardableResult
    func loom(_ arguments: [String], home: String? = nil) throws -> ProcessResult {
        try runProcess(loom, arguments + ["--home", home ?? self.home], currentDirectory: root)
    }

    /// `loom ARGS --home HOME` started in the background, output to a file.
    func start(_ arguments: [String], home: String? = nil, output: String) throws -> Process {
        let process = Process()
        process.executableURL = loom
        process.arguments = arguments + ["--home", home ?? self.home]
        process.currentDirectoryURL = root
        try Data().write(to: root.appendingPathComponent(output))
        let handle = try FileHandle(forWritingTo: root.appendingPathComponent(output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    func json(_ arguments: [String], home: String? = nil) throws -> [String: Any] {
        let result = try loom(arguments + ["--json"], home: home)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// Stages of the latest run as name → JSON object (none while the store does not exist yet).
    func latestStages(home: String? = nil) throws -> [String: [String: Any]] {
        let result = try loom(["status", "latest", "--json"], home: home)
        guard result.status == 0 else { return [:] }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let runs = object?["runs"] as? [[String: Any]] ?? []
        let stages = runs.first?["stages"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: stages.map { ($0["name"] as? String ?? "", $0) })
    }

    /// Runs SQL on a store with Python's sqlite3 (the test binary does not link SQLite itself).
    func sql(_ query: String, home: String? = nil) throws -> String {
        let database = (home ?? self.home) + "/loom.sqlite"
        let script = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nfor r in c.execute(sys.argv[2]): print('|'.join(map(str, r)))"
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, database, query])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func waitUntil(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            guard Date() < deadline else {
                Issue.record("timed out waiting until \(what)")
                return
            }
            usleep(50_000)
        }
    }
}

/// A process that has exited (zombies included: this sandbox's init does not reap orphans).
func processIsGone(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return true }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first == "Z"
}

/// The file that holds `checkpointingRecipe`'s training at step 5 while it exists (in the project
/// directory): a test that must interrupt the stage mid-run creates it before starting the run and
/// removes it once it has interrupted it, so the stage cannot finish first however loaded the machine.
let trainingHold = "train.hold"

/// A training-like stage: 20 steps, a checkpoint after each in $LOOM_RESUME, a metric per step. After
/// step 5's checkpoint it waits while `$LOOM_PROJECT/train.hold` exists (see `trainingHold`).
let checkpointingRecipe = """
    stages:
      prepare:
        kind: command
        params: {run: 'seq 1 100 > "$LOOM_OUTPUT/data.txt"'}
      train:
        kind: command
        after: [prepare]
        params:
          run: |
            step=0; sum=0
            if [ -f "$LOOM_RESUME/checkpoint" ]; then read step sum < "$LOOM_RESUME/checkpoint"; echo "resuming from step $step"; fi
            while [ $step -lt 20 ]; do
              step=$((step + 1))
              sum=$((sum + $(sed -n "${step}p" "$LOOM_INPUT_PREPARE/data.txt")))
              echo "{\\"step\\": $step, \\"train/loss\\": $((1000 - sum))}" >> "$LOOM_METRICS"
              echo "$step $sum" > "$LOOM_RESUME/checkpoint.tmp" && mv "$LOOM_RESUME/checkpoint.tmp" "$LOOM_RESUME/checkpoint"
              while [ $step -eq 5 ] && [ -f "$LOOM_PROJECT/train.hold" ]; do sleep 0.05; done
              sleep 0.1
            done
            echo $sum > "$LOOM_OUTPUT/model.txt"
      eval:
        kind: command
        after: [train]
        params:
          run: |
            cp "$LOOM_INPUT_TRAIN/model.txt" "$LOOM_OUTPUT/score.txt"
            printf '{"key": "eval/score", "value": %s}\\n' "$(cat "$LOOM_INPUT_TRAIN/model.txt")" >> "$LOOM_METRICS"
    """

@Suite(.serialized) struct OrchestratorCLITests {
    let project: CLIProject

    init() throws { project = try CLIProject() }

    @Test func theShippedExampleRecipesRunAndAReRunIsFullyCached() throws {
        let packageRoot = TestPaths.packageRoot
        let home = project.root.appendingPathComponent("example-runs").path
        let first = try runProcess(project.loom, ["run", "recipes/bigram.yaml", "-j", "2", "--home", home], currentDirectory: packageRoot)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("run 1 bigram/core: succeeded"))
        #expect(first.stdout.contains("run 3 bigram/core+orbit+fractal: succeeded — 5 executed, 1 cached"))

        let again = try runProcess(project.loom, ["run", "recipes/bigram.yaml", "--home", home], currentDirectory: packageRoot)
        #expect(again.status == 0)
        #expect(again.stdout.components(separatedBy: "0 executed, 6 cached").count == 4, "\(again.stdout)")

        let dryRun = try runProcess(project.loom, ["run", "recipes/bigram.yaml", "--dry-run", "--variant", "core", "--home", home], currentDirectory: packageRoot)
        #expect(dryRun.stdout.contains("0 stage(s) to run, 6 cached"), "\(dryRun.stdout)")

        let quick = try runProcess(project.loom, ["run", "recipes/bigram-quick.yaml", "--home", home], currentDirectory: packageRoot)
        #expect(quick.status == 0, "\(quick.stdout)\n\(quick.stderr)")
        #expect(quick.stdout.contains("bigram-quick: succeeded — 2 executed, 4 cached"), "\(quick.stdout)")

        let comparison = try project.json(["compare", "bigram"], home: home)
        let metrics = comparison["metrics"] as? [[String: Any]] ?? []
        let bitsPerByte = try #require(metrics.first { $0["key"] as? String == "eval/bits_per_byte" })
        #expect((bitsPerByte["values"] as? [Double])?.count == 3)
        #expect(bitsPerByte["best_run"] is Int)
        let params = comparison["params"] as? [[String: Any]] ?? []
        #expect(params.map { $0["name"] as? String } == ["corpus.deps"])
        let text = try runProcess(project.loom, ["compare", "bigram", "--home", home]).stdout
        #expect(text.contains("eval/bits_per_byte") && text.contains(" *"), "\(text)")
    }

    @Test func killNineMidStageThenResumeEqualsAnUninterruptedRun() throws {
        try project.write("recipes/train.yaml", checkpointingRecipe)
        let clean = project.root.appendingPathComponent("clean-runs").path
        #expect(try project.loom(["run", "recipes/train.yaml"], home: clean).status == 0)

        // The training waits at step 5 until the hold is lifted, so it is still running when killed.
        let hold = try project.write(trainingHold, "")
        defer { try? FileManager.default.removeItem(at: hold) }  // never leave a stage waiting
        let runner = try project.start(["run", "recipes/train.yaml"], output: "killed.out")
        try project.waitUntil("training reached step 5") {
            let checkpoints = (try? FileManager.default.contentsOfDirectory(atPath: project.home + "/work")) ?? []
            return checkpoints.contains { work in
                let text = (try? String(contentsOfFile: "\(project.home)/work/\(work)/resume/checkpoint", encoding: .utf8)) ?? ""
                return (Int(text.split(separator: " ").first ?? "") ?? 0) >= 5
            }
        }
        let stagePID = try #require(try project.latestStages()["train"]?["pid"] as? Int)
        // Power loss: the runner, the stage process and its command all die at once.
        kill(-Int32(stagePID), SIGKILL)
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        // SIGKILL is delivered asynchronously: wait until the stage process has really exited.
        try project.waitUntil("the killed stage process is gone") { processIsGone(Int32(stagePID)) }

        let stale = try #require(try project.latestStages()["train"])
        #expect(stale["status"] as? String == "running")
        #expect((stale["stale"] as? String)?.contains("is gone") == true, "\(stale)")
        let status = try project.loom(["status", "latest"]).stdout
        #expect(status.contains("interrupted (runner gone; loom resume 1)"), "\(status)")

        try FileManager.default.removeItem(at: hold)
        let resumed = try project.loom(["resume", "latest"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("train: started (attempt 2)"))
        let log = try project.loom(["logs", "1", "train"]).stdout
        #expect(log.contains("resuming from step"), "\(log)")
        #expect(log.contains("discarding attempt-1-1 left by an earlier attempt"), "\(log)")

        let artifacts = "SELECT stage, path, sha256 FROM artifacts ORDER BY stage, path"
        #expect(try project.sql(artifacts) == project.sql(artifacts, home: clean))
        let curve = """
            SELECT step, value FROM metrics WHERE rowid IN
              (SELECT MAX(rowid) FROM metrics WHERE key = 'train/loss' GROUP BY step) ORDER BY step
            """
        #expect(try project.sql(curve) == project.sql(curve, home: clean))
        #expect(try project.sql(curve).split(separator: "\n").count == 20)
        #expect(try project.sql("SELECT value FROM latest_metrics WHERE key = 'eval/score'") == "210.0")
        #expect(try project.sql("PRAGMA integrity_check") == "ok")
        #expect(try project.sql("SELECT status FROM runs") == "succeeded")
    }

    @Test func aRunnerKilledAloneLeavesItsStageCancelledAndResumable() throws {
        try project.write("recipes/train.yaml", checkpointingRecipe)
        // The training waits at step 5 until the hold is lifted: it cannot finish before the orphaned
        // stage process notices, on its next heartbeat, that its runner is gone.
        let hold = try project.write(trainingHold, "")
        defer { try? FileManager.default.removeItem(at: hold) }  // never leave a stage waiting
        let runner = try project.start(["run", "recipes/train.yaml"], output: "runner.out")
        try project.waitUntil("train is running") { try project.latestStages()["train"]?["status"] as? String == "running" }
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        try project.waitUntil("the orphaned stage cancels itself") {
            try project.latestStages()["train"]?["status"] as? String == "cancelled"
        }
        #expect(try project.latestStages()["train"]?["error"] as? String == "the runner (pid \(runner.processIdentifier)) exited")
        try FileManager.default.removeItem(at: hold)
        #expect(try project.loom(["resume", "1"]).status == 0)
        #expect(try project.latestStages().values.allSatisfy { $0["status"] as? String == "succeeded" })
    }

    @Test func twoRunsOnOneStoreAtOnceBothCompleteAndShareTheirCommonStage() throws {
        let shared = "  shared: {kind: command, params: {run: 'echo x >> shared.log; sleep 1; echo s > $LOOM_OUTPUT/s'}}\n"
        func own(_ name: String) -> String {
            """
              \(name):
                kind: command
                after: [shared]
                params:
                  run: |
                    i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "{\\"step\\": $i, \\"\(name)/loss\\": $i}" >> $LOOM_METRICS; done
                    sleep 0.5; cp $LOOM_INPUT_SHARED/s $LOOM_OUTPUT/
            """
        }
        try project.write("recipes/one.yaml", "stages:\n" + shared + own("first") + "\n")
        try project.write("recipes/two.yaml", "stages:\n" + shared + own("second") + "\n")
        let one = try project.start(["run", "recipes/one.yaml"], output: "one.out")
        let two = try project.start(["run", "recipes/two.yaml"], output: "two.out")
        one.waitUntilExit()
        two.waitUntilExit()
        let outputs = (project.read("one.out") ?? "") + (project.read("two.out") ?? "")
        #expect(one.terminationStatus == 0 && two.terminationStatus == 0, "\(outputs)")
        #expect(!outputs.contains("locked"), "\(outputs)")
        #expect(project.read("shared.log") == "x\n", "the shared stage ran once across both processes")
        #expect(try project.sql("SELECT status FROM runs ORDER BY id") == "succeeded\nsucceeded")
        #expect(try project.sql("SELECT COUNT(*) FROM metrics") == "600")
        #expect(try project.sql("PRAGMA integrity_check") == "ok")
    }

    @Test func ctrlCCancelsStagesAndStopsTheirChildren() throws {
        try project.write("recipes/wait.yaml", """
            stages:
              wait: {kind: command, params: {run: 'sleep 60 & echo $! > child.pid; wait'}}
              later: {kind: command, after: [wait], params: {run: 'true'}}
            """)
        let runner = try project.start(["run", "recipes/wait.yaml"], output: "wait.out")
        try project.waitUntil("the command started its child") { project.read("child.pid") != nil }
        usleep(200_000)
        kill(runner.processIdentifier, SIGINT)
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 130)
        let output = project.read("wait.out") ?? ""
        #expect(output.contains("cancelling: interrupted (Ctrl-C)"), "\(output)")
        let stages = try project.latestStages()
        #expect(stages["wait"]?["status"] as? String == "cancelled")
        #expect(stages["later"]?["status"] as? String == "pending")
        #expect(try project.sql("SELECT status FROM runs") == "cancelled")
        let child = try #require(Int32(project.read("child.pid")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        try project.waitUntil("the command's child is gone") { processIsGone(child) }
    }

    @Test func recipeErrorsArePrintedWithPositionsAndNothingRuns() throws {
        try project.write("recipes/bad.yaml", """
            stages:
              a: {kind: comand}
              b: {kind: command, after: [aa], params: {run: x, deps: [missing.txt]}}
            """)
        let result = try project.loom(["run", "recipes/bad.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("recipes/bad.yaml:2:13: stages.a.kind: unknown stage kind 'comand' — did you mean command?"), "\(result.stderr)")
        #expect(result.stderr.contains("recipes/bad.yaml:3:30: stages.b.after[0]: unknown stage 'aa'"), "\(result.stderr)")
        #expect(result.stderr.contains("recipes/bad.yaml:3:59: stages.b.params.deps[0]: no such file or directory: missing.txt"), "\(result.stderr)")
        #expect(result.stderr.contains("3 errors in the recipe; nothing was run"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: project.home + "/cache"))
        let missing = try project.loom(["run", "recipes/none.yaml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no such recipe: recipes/none.yaml"))
        try project.write("recipes/ok.yaml", "stages:\n  a: {kind: command, params: {run: 'true'}}\nvariants:\n  core: {}\n")
        let variant = try project.loom(["run", "recipes/ok.yaml", "--variant", "coer"])
        #expect(variant.stderr.contains("unknown variant 'coer' — did you mean core?"), "\(variant.stderr)")
        let force = try project.loom(["run", "recipes/ok.yaml", "--force", "b"])
        #expect(force.stderr.contains("--force b: unknown stage"), "\(force.stderr)")
    }

    @Test func listingVerbsShowRunsLogsAndCollectGarbage() throws {
        try project.write("recipes/small.yaml", """
            stages:
              make: {kind: command, params: {run: 'echo made; echo data > $LOOM_OUTPUT/d.txt; echo "{\\"key\\": \\"eval/loss\\", \\"value\\": 0.5}" >> $LOOM_METRICS', vars: {n: 1}}}
            """)
        #expect(try project.loom(["run", "recipes/small.yaml"]).status == 0)
        try project.write("recipes/small.yaml", """
            stages:
              make: {kind: command, params: {run: 'echo made; echo data2 > $LOOM_OUTPUT/d.txt; echo "{\\"key\\": \\"eval/loss\\", \\"value\\": 0.4}" >> $LOOM_METRICS', vars: {n: 2}}}
            """)
        #expect(try project.loom(["run", "recipes/small.yaml"]).status == 0)

        let runs = try project.json(["runs"])["runs"] as? [[String: Any]] ?? []
        #expect(runs.map { $0["id"] as? Int } == [2, 1])
        let show = try project.loom(["show", "2"]).stdout
        #expect(show.contains("make.vars.n  2"), "\(show)")
        #expect(show.contains("eval/loss"), "\(show)")
        #expect(try project.loom(["logs", "1", "make"]).stdout.contains("made\n"))
        let unknownStage = try project.loom(["logs", "1", "mak"])
        #expect(unknownStage.status == 1)
        #expect(unknownStage.stderr.contains("run 1 has no stage 'mak' — did you mean make?"), "\(unknownStage.stderr)")
        let compare = try project.loom(["compare", "1", "2"]).stdout
        #expect(compare.contains("make.vars.n"), "\(compare)")
        #expect(compare.contains("0.4 *"), "\(compare)")

        // Both cache entries are referenced; once run 1's stage rows are gone (as if the run were deleted),
        // nothing references its entry.
        #expect((try project.json(["gc", "--dry-run"])["removed"] as? [Any])?.isEmpty == true)
        _ = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM stages WHERE run_id = 1'); c.commit()",
            project.home + "/loom.sqlite"])
        let gc = try project.json(["gc"])
        #expect((gc["removed"] as? [[String: Any]])?.count == 1)
        #expect(gc["kept_cache_entries"] as? Int == 1)
        let unknownRun = try project.loom(["show", "99"])
        #expect(unknownRun.stderr.contains("no run '99' in this store"))
    }

    @Test func kindsListsEveryKindAndItsParameters() throws {
        let list = try runProcess(project.loom, ["kinds"]).stdout
        #expect(list.split(separator: "\n").contains { $0.hasPrefix("command ") && $0.contains(" 1 ") && $0.contains(" loom ") }, "\(list)")
        let command = try runProcess(project.loom, ["kinds", "command"]).stdout
        #expect(command.contains("run    a string                   required  shell command"), "\(command)")
        let json = try JSONSerialization.jsonObject(with: Data(try runProcess(project.loom, ["kinds", "--json"]).stdout.utf8)) as? [String: Any]
        #expect((json?["kinds"] as? [[String: Any]])?.contains { $0["name"] as? String == "command" } == true)
        let unknown = try runProcess(project.loom, ["kinds", "comand"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("unknown stage kind 'comand' — did you mean command?"), "\(unknown.stderr)")
    }

    @Test func loomTorchExecStageRunsAStageWithTheSharedDriver() throws {
        try project.write("recipes/flaky.yaml", """
            stages:
              flaky: {kind: command, params: {run: 'if [ -f $LOOM_RESUME/tried ]; then echo ok > $LOOM_OUTPUT/ok; else touch $LOOM_RESUME/tried; exit 1; fi'}}
            """)
        #expect(try project.loom(["run", "recipes/flaky.yaml"]).status == 1)
        let torch = TestPaths.executable("loom-torch")
        let result = try runProcess(torch, ["exec-stage", "--home", project.home, "--run", "1", "--stage", "flaky", "--attempt", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.sql("SELECT status FROM stages WHERE name = 'flaky'") == "succeeded")
        let usage = try runProcess(torch, ["exec-stage", "--home", project.home])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("exec-stage: --run needs a run id"), "\(usage.stderr)")
    }
}
