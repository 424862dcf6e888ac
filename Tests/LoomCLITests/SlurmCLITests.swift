// SlurmCLITests — `loom run --executor slurm` against a real Slurm: the one-node cluster of
// scripts/slurm-cluster.sh (`make test-slurm` starts it, runs these tests and stops it), which has no
// accounting, so job states come through squeue and scontrol. The bigram recipe and the miniature
// saturation recipe (with `gpus: 0`) run through sbatch; a running stage is scancel'ed, failed with
// Slurm's reason and resumed to the metrics of an uninterrupted run; a stage hits its time limit; the
// runner is killed and `loom resume` re-attaches to its job; Ctrl-C leaves no job in the queue. With no
// cluster answering, the suite is skipped and says why.
import Foundation
import TestSupport
import Testing

/// The cluster the tests submit to: whatever `sinfo` answers for ($SLURM_CONF, else /etc/slurm).
enum SlurmCluster {
    /// Why no cluster can be used here, or nil when one answers with an idle or mixed node.
    static let problem: String? = {
        if let conf = ProcessInfo.processInfo.environment["SLURM_CONF"], !FileManager.default.fileExists(atPath: conf) {
            return "SLURM_CONF is \(conf), which does not exist"
        }
        guard let result = try? runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["sinfo", "--noheader", "--format=%T"]) else {
            return "sinfo cannot be run"
        }
        guard result.status == 0 else {
            if ProcessInfo.processInfo.environment["SLURM_CONF"] == nil, !FileManager.default.fileExists(atPath: "/etc/slurm/slurm.conf") {
                return "SLURM_CONF is not set and there is no /etc/slurm/slurm.conf"
            }
            return "sinfo failed: \(result.stderr.split(separator: "\n").first ?? "exit status \(result.status)")"
        }
        let states = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard states.contains(where: { $0.hasPrefix("idle") || $0.hasPrefix("mixed") }) else {
            return "no node is idle (sinfo: \(states.joined(separator: ", ")))"
        }
        return nil
    }()

    static let skipReason: Comment = """
        no Slurm cluster answers here (\(problem ?? "")): `make test-slurm` starts a one-node cluster and runs \
        these tests, or run `scripts/slurm-cluster.sh start` and export the SLURM_CONF it prints
        """

    /// Which of `ids` Slurm still has queued or running.
    static func active(_ ids: [String]) throws -> [String] {
        guard !ids.isEmpty else { return [] }
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), [
            "squeue", "--noheader", "--format=%i", "--jobs=\(ids.joined(separator: ","))",
            "--states=PENDING,CONFIGURING,RUNNING,COMPLETING,SUSPENDED,REQUEUED",
        ])
        // Every id unknown (long ended): squeue says "Invalid job id specified".
        guard result.status == 0 else { return [] }
        return result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

/// Under `make test-slurm` (LOOM_REQUIRE_SLURM=1), a cluster that does not answer fails the run instead of
/// skipping the Slurm tests.
@Suite struct SlurmClusterTests {
    @Test func theClusterAnswersWhereItIsRequired() {
        guard ProcessInfo.processInfo.environment["LOOM_REQUIRE_SLURM"] == "1" else { return }
        #expect(SlurmCluster.problem == nil, "LOOM_REQUIRE_SLURM=1 but \(SlurmCluster.problem ?? "")")
    }
}

@Suite(.serialized, .enabled(if: SlurmCluster.problem == nil, SlurmCluster.skipReason))
struct SlurmCLITests {
    let project: CLIProject

    init() throws { project = try CLIProject() }

    /// The latest run's stages that ran as Slurm jobs: name → job id.
    func jobIDs() throws -> [String: String] {
        try project.latestStages().compactMapValues { $0["slurm_job"] as? String }
    }

    /// Runs `checkpointingRecipe` (Slurm asked every second) once locally into `clean-runs` for reference,
    /// then starts it under Slurm in the background and returns when training holds at step 5, with the
    /// runner and the hold file (`trainingHold`; the caller removes it to let training finish).
    func startHeldTraining(output: String) throws -> (runner: Process, hold: URL, clean: String) {
        try project.write("recipes/train.yaml", checkpointingRecipe + "\nexecutor: {poll_seconds: 1}\n")
        let clean = project.root.appendingPathComponent("clean-runs").path
        #expect(try project.loom(["run", "recipes/train.yaml"], home: clean).status == 0)
        let hold = try project.write(trainingHold, "")
        let runner = try project.start(["run", "recipes/train.yaml", "--executor", "slurm"], output: output)
        try project.waitUntil("training reached step 5", timeout: 60) {
            let work = (try? FileManager.default.contentsOfDirectory(atPath: project.home + "/work")) ?? []
            return work.contains { fingerprint in
                let text = (try? String(contentsOfFile: "\(project.home)/work/\(fingerprint)/resume/checkpoint", encoding: .utf8)) ?? ""
                return (Int(text.split(separator: " ").first ?? "") ?? 0) >= 5
            }
        }
        // The job runs, but the store says so only after the runner's next poll: wait for it, so that a
        // runner killed now leaves RUNNING recorded (under load the poll can lag the job's start).
        try project.waitUntil("the runner recorded the train job as running", timeout: 30) {
            (try? project.latestStages()["train"]?["slurm_state"] as? String) == "RUNNING"
        }
        return (runner, hold, clean)
    }

    static let curve = """
        SELECT step, value FROM metrics WHERE rowid IN
          (SELECT MAX(rowid) FROM metrics WHERE key = 'train/loss' GROUP BY step) ORDER BY step
        """

    @Test func theBigramRecipeRunsThroughSbatchWithTheMetricsOfALocalRun() throws {
        let packageRoot = TestPaths.packageRoot
        let local = project.root.appendingPathComponent("local-runs").path
        let viaLocal = try runProcess(project.loom, ["run", "recipes/bigram.yaml", "-j", "2", "--home", local], currentDirectory: packageRoot)
        #expect(viaLocal.status == 0, "\(viaLocal.stdout)\n\(viaLocal.stderr)")

        let run = try runProcess(project.loom, ["run", "recipes/bigram.yaml", "--executor", "slurm", "-j", "2", "--home", project.home],
                                 currentDirectory: packageRoot)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("bigram/core · heldout: started (Slurm job "), "\(run.stdout)")
        #expect(run.stdout.contains("run 3 bigram/core+orbit+fractal: succeeded — 5 executed, 1 cached"), "\(run.stdout)")

        let metrics = "SELECT runs.variant, stage, key, step, value FROM latest_metrics JOIN runs ON runs.id = run_id ORDER BY 1, 2, 3"
        #expect(try project.sql(metrics) == project.sql(metrics, home: local))
        let artifacts = "SELECT stage, path, sha256 FROM artifacts ORDER BY run_id, stage, path"
        #expect(try project.sql(artifacts) == project.sql(artifacts, home: local))
        #expect(try project.sql("SELECT DISTINCT executor FROM runs") == "slurm")
        #expect(try project.sql("SELECT COUNT(*) FROM stages WHERE job_id IS NOT NULL") == "16")
        #expect(try project.sql("SELECT DISTINCT job_state FROM stages WHERE job_id IS NOT NULL") == "COMPLETED")
        #expect(try project.sql("PRAGMA integrity_check") == "ok")

        let status = try project.loom(["status", "1"]).stdout
        #expect(status.contains("slurm job"), "\(status)")
        let show = try project.loom(["show", "1"]).stdout
        #expect(show.contains("COMPLETED") && show.contains("submitted as Slurm job"), "\(show)")
        let log = try project.loom(["logs", "1", "eval"]).stdout
        #expect(log.contains("$ python3 pipelines/scripts/bigram.py eval"), "\(log)")
    }

    @Test func theMiniatureSaturationRecipeRunsThroughSbatchWithoutGPUs() throws {
        try SyntheticBooks.installMiniature(in: project.root)
        try project.write("recipes/mini.yaml", SyntheticBooks.miniatureRecipe + "executor: {poll_seconds: 1}\n")
        // The model kinds ask for a GPU by default, which this cluster does not have.
        let refused = try project.loom(["run", "recipes/mini.yaml", "--variant", "core", "--executor", "slurm"])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("the job asked for 1 GPU(s)"), "\(refused.stdout)")

        let resumed = try project.loom(["resume", "latest", "--gpus", "0"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let stages = try project.latestStages()
        let planned = try project.json(["run", "recipes/mini.yaml", "--variant", "core", "--dry-run"])
        #expect(stages.count == ((planned["variants"] as? [[String: Any]])?.first?["stages"] as? [Any])?.count)
        #expect(stages.values.allSatisfy { $0["status"] as? String == "succeeded" }, "\(stages)")
        #expect(stages.values.allSatisfy { $0["slurm_job"] is String }, "\(stages)")
        #expect(try project.sql("SELECT value > 0 FROM latest_metrics WHERE stage = 'eval' AND key = 'eval/bits_per_byte'") == "1")
        #expect(try project.sql("SELECT COUNT(*) FROM metrics WHERE stage = 'train' AND key = 'train/loss'") == "60")
        #expect(try project.sql("SELECT COUNT(*) FROM artifacts WHERE stage = 'train' AND path = 'adapter_model.safetensors'") == "1")
        let log = try project.loom(["logs", "latest", "train"]).stdout
        #expect(log.contains("kind train"), "\(log)")
    }

    @Test func aDataParallelStageRunsItsTwoRanksThroughSrun() throws {
        try TestPaths.installStageBooks(["man_and_woman", "lovers", "2001.06"], in: project.root)
        try project.write("dp.yaml", dataParallelRecipe(train: "      steps: 5", variants: """
              two: {params: {train: {batch_size: 2, processes: 2, group_timeout: 120}}}
              accumulated: {params: {train: {batch_size: 2, grad_accum: 2}}}
            """) + "\nexecutor: {poll_seconds: 1}\n")
        let run = try project.loom(["run", "dp.yaml", "--executor", "slurm", "--gpus", "0"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let script = try String(contentsOfFile: "\(project.home)/jobs/1/train.1/job.sh", encoding: .utf8)
        #expect(script.contains("exec srun --ntasks=2 --kill-on-bad-exit=1 "), "\(script)")
        let log = try project.loom(["logs", "1", "train"]).stdout
        #expect(log.contains("data parallel: rank 0 of 2"), "\(log)")
        #expect(log.contains("joined the gloo process group as rank 0 of 2"), "\(log)")
        // The two srun tasks step exactly as one process accumulating their two micro-batches.
        let curve = { (run: Int) in
            try project.sql("SELECT value FROM metrics WHERE run_id = \(run) AND stage = 'train' AND key = 'train/loss' ORDER BY step, rowid")
        }
        #expect(try curve(1) == curve(2) && curve(1).split(separator: "\n").count == 5)
    }

    @Test func aScancelledStageFailsWithSlurmsReasonAndResumesToTheSameMetrics() throws {
        let (runner, hold, clean) = try startHeldTraining(output: "scancel.out")
        defer { try? FileManager.default.removeItem(at: hold) }  // never leave a stage waiting
        let job = try #require(try jobIDs()["train"])
        _ = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["scancel", job])
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 1)
        let train = try #require(try project.latestStages()["train"])
        #expect(train["status"] as? String == "failed")
        #expect(train["slurm_state"] as? String == "CANCELLED")
        #expect((train["error"] as? String)?.contains("Slurm job \(job) ended CANCELLED: cancelled by scancel") == true, "\(train)")

        try FileManager.default.removeItem(at: hold)
        let resumed = try project.loom(["resume", "latest"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("train: started (attempt 2, Slurm job "), "\(resumed.stdout)")
        #expect(try project.loom(["logs", "1", "train"]).stdout.contains("resuming from step"))
        #expect(try project.sql(Self.curve) == project.sql(Self.curve, home: clean))
        #expect(try project.sql(Self.curve).split(separator: "\n").count == 20)
        #expect(try project.sql("SELECT value FROM latest_metrics WHERE key = 'eval/score'") == "210.0")
    }

    @Test func aStageThatHitsItsTimeLimitIsFailedWithThatReason() throws {
        // Slurm counts time limits in minutes and checks them about every 30 s: this takes 1–1.5 min.
        try project.write("recipes/slow.yaml", """
            stages:
              slow: {kind: command, params: {run: 'sleep 600'}}
              next: {kind: command, after: [slow], params: {run: 'true'}}
            executor:
              poll_seconds: 1
              stages: {slow: {time: 1}}
            """)
        let run = try project.loom(["run", "recipes/slow.yaml", "--executor", "slurm"])
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        let slow = try #require(try project.latestStages()["slow"])
        #expect(slow["status"] as? String == "failed")
        #expect(slow["slurm_state"] as? String == "TIMEOUT")
        let error = slow["error"] as? String ?? ""
        #expect(error.contains("ended TIMEOUT: time limit reached (reason TimeLimit"), "\(error)")
        #expect(run.stdout.contains("slow: failed after"), "\(run.stdout)")
        #expect(try project.latestStages()["next"]?["status"] as? String == "pending")
    }

    @Test func aKilledRunnersJobIsReattachedToByResume() throws {
        let (runner, hold, clean) = try startHeldTraining(output: "killed.out")
        defer { try? FileManager.default.removeItem(at: hold) }  // never leave a stage waiting
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        let job = try #require(try jobIDs()["train"])
        #expect(try SlurmCluster.active([job]) == [job], "the job outlives its runner")
        let status = try project.loom(["status"]).stdout
        #expect(status.contains("interrupted (runner gone; loom resume 1)") && status.contains("slurm job \(job) RUNNING"), "\(status)")

        let resume = try project.start(["resume", "latest"], output: "resume.out")
        try project.waitUntil("resume re-attached") { project.read("resume.out")?.contains("train: re-attached to Slurm job \(job) (RUNNING)") == true }
        try FileManager.default.removeItem(at: hold)
        resume.waitUntilExit()
        #expect(resume.terminationStatus == 0, "\(project.read("resume.out") ?? "")")
        let train = try #require(try project.latestStages()["train"])
        #expect(train["attempt"] as? Int == 1, "followed, not submitted again")
        #expect(train["slurm_job"] as? String == job)
        #expect(try project.sql(Self.curve) == project.sql(Self.curve, home: clean))
        #expect(try project.sql("SELECT value FROM latest_metrics WHERE key = 'eval/score'") == "210.0")
        #expect(try project.sql("SELECT status FROM runs") == "succeeded")
    }

    @Test func ctrlCCancelsEveryJobAndLeavesNoneInTheQueue() throws {
        // Three stages at once on a node with two CPUs: two run, one waits in the queue.
        try project.write("recipes/wide.yaml", """
            stages:
              a: {kind: command, params: {run: 'sleep 601'}}
              b: {kind: command, params: {run: 'sleep 602'}}
              c: {kind: command, params: {run: 'sleep 603'}}
              d: {kind: command, after: [a, b, c], params: {run: 'true'}}
            executor: {poll_seconds: 1}
            """)
        let runner = try project.start(["run", "recipes/wide.yaml", "--executor", "slurm", "-j", "3"], output: "wide.out")
        try project.waitUntil("three jobs are submitted, two running") {
            let states = try project.latestStages().values.compactMap { $0["slurm_state"] as? String }
            return states.count == 3 && states.filter { $0 == "RUNNING" }.count >= 2
        }
        let jobs = Array(try jobIDs().values)
        #expect(try SlurmCluster.active(jobs).count == 3)
        kill(runner.processIdentifier, SIGINT)
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 130, "\(project.read("wide.out") ?? "")")
        #expect(try SlurmCluster.active(jobs) == [])
        let stages = try project.latestStages()
        for name in ["a", "b", "c"] { #expect(stages[name]?["status"] as? String == "cancelled", "\(name): \(stages[name] ?? [:])") }
        #expect(stages["d"]?["status"] as? String == "pending")
        #expect(try project.sql("SELECT status FROM runs") == "cancelled")
    }
}
