// ExecutorSectionTests — a recipe's `executor:` section: read into settings that travel with the plan
// but stay out of fingerprints, resolved per stage (Loom's defaults, then default, kind, stage, command
// line), turned into sbatch options, and every mistake reported at its file:line:column and key.
import Foundation
import LoomCore
import Pipeline
import TestSupport
import Testing

@Suite struct ExecutorSectionTests {
    let project: TestProject

    init() throws {
        project = try TestProject()
        try project.write("pipelines/train.yaml", """
            stages:
              prepare: {kind: write, params: {text: prep}}
              train: {kind: train-model, after: [prepare]}
              eval: {kind: write, after: [train]}
            """)
    }

    func errors(_ executor: String) throws -> [String] {
        try project.write("recipes/r.yaml", "pipeline: train\nexecutor:\n" + executor)
        return project.errors("recipes/r.yaml").map { $0.description.replacingOccurrences(of: project.root.path + "/", with: "") }
    }

    @Test func resourcesResolvePerStageFromDefaultsKindsStagesAndTheCommandLine() throws {
        try project.write("recipes/r.yaml", """
            pipeline: train
            executor:
              retries: 2
              max_jobs: 8
              poll_seconds: 2.5
              default: {partition: cpu, account: lab, time: "2:00:00", memory: 4g}
              kinds:
                train-model: {partition: gpu, gpus: 2, cpus: 8, qos: high, sbatch_args: ["--constraint=a100"]}
              stages:
                eval: {time: 30, sbatch_args: ["--exclusive"]}
            """)
        let plan = try #require(try project.plans("recipes/r.yaml").first)
        let settings = plan.executor
        #expect(settings.retries == 2 && settings.maxJobs == 8 && settings.pollSeconds == 2.5)
        let stage = { (name: String) in try #require(plan.stage(named: name)) }

        let prepare = settings.resources(for: try stage("prepare"))
        #expect(prepare == SlurmResources(partition: "cpu", account: "lab", gpus: 0, cpus: 1, memory: "4G", time: "2:00:00"))
        let train = settings.resources(for: try stage("train"))
        #expect(train.sbatchOptions == [
            "--partition=gpu", "--account=lab", "--qos=high", "--cpus-per-task=8", "--gres=gpu:2", "--mem=4G", "--time=2:00:00",
            "--constraint=a100",
        ])
        #expect(settings.resources(for: try stage("eval")).sbatchOptions == [
            "--partition=cpu", "--account=lab", "--cpus-per-task=1", "--mem=4G", "--time=30", "--exclusive",
        ])
        #expect(settings.resources(for: try stage("train"), commandLine: SlurmResources(gpus: 0)).gpus == 0)
        // A data-parallel stage: one task per rank, each with its own CPUs and GPUs.
        #expect(train.sbatchOptions(tasks: 2) == [
            "--ntasks=2", "--partition=gpu", "--account=lab", "--qos=high", "--cpus-per-task=8", "--gpus-per-task=2", "--mem=4G",
            "--time=2:00:00", "--constraint=a100",
        ])
    }

    @Test func modelKindsAskForOneGPUUnlessTheRecipeSaysNone() throws {
        try project.write("recipes/r.yaml", "pipeline: train\n")
        let plan = try #require(try project.plans("recipes/r.yaml").first)
        #expect(plan.executor.isEmpty)
        #expect(plan.executor.resources(for: try #require(plan.stage(named: "train"))).sbatchOptions == ["--cpus-per-task=1", "--gres=gpu:1"])
        #expect(plan.executor.resources(for: try #require(plan.stage(named: "prepare"))).gpus == 0)

        try project.write("recipes/r.yaml", "pipeline: train\nexecutor: {default: {gpus: 0}}\n")
        let cpuOnly = try #require(try project.plans("recipes/r.yaml").first)
        #expect(cpuOnly.executor.resources(for: try #require(cpuOnly.stage(named: "train"))).gpus == 0)
    }

    @Test func theSectionTravelsWithThePlanButNotIntoFingerprints() throws {
        try project.write("recipes/r.yaml", "pipeline: train\n")
        let bare = try #require(try project.plans("recipes/r.yaml").first)
        try project.write("recipes/r.yaml", "pipeline: train\nexecutor: {retries: 1, stages: {eval: {time: 10, partition: short}}}\n")
        let planned = try #require(try project.plans("recipes/r.yaml").first)
        #expect(planned.stages.map(\.fingerprint) == bare.stages.map(\.fingerprint))
        let stored = try Plan(json: JSONValue.parse(planned.json.canonicalJSON))
        #expect(stored == planned)
        #expect(stored.executor.stages["eval"] == SlurmResources(partition: "short", time: "10"))
        #expect(bare.json["executor"] == nil, "a plan without the section is stored as before")
    }

    @Test func mistakesAreReportedAtTheirKeys() throws {
        let misspelt = try errors("  retires: 1\n")
        #expect(misspelt == [
            "recipes/r.yaml:3:3: executor.retires: unknown executor key — did you mean retries? (valid: retries, max_jobs, poll_seconds, default, kinds, stages)",
        ], "\(misspelt)")
        let many = try errors("""
              retries: -1
              max_jobs: many
              default: {memory: 4 GB, time: "1:2:3:4", gpus: 1.5, partiton: gpu}
              kinds: {train: {cpus: 0}}
              stages: {evaluate: {sbatch_args: --exclusive}, eval: {partition: [a, b]}}

            """)
        #expect(many == [
            "recipes/r.yaml:3:12: executor.retries: expected a whole number, at least 0, got -1",
            "recipes/r.yaml:4:13: executor.max_jobs: expected a whole number, at least 1, got \"many\"",
            "recipes/r.yaml:5:21: executor.default.memory: expected an amount of memory such as 16G, 500M or 4096 (megabytes), got \"4 GB\"",
            "recipes/r.yaml:5:33: executor.default.time: expected a Slurm time limit (minutes, \"H:MM:SS\", \"D-HH:MM:SS\"), got \"1:2:3:4\"",
            "recipes/r.yaml:5:50: executor.default.gpus: expected a whole number, at least 0, got 1.5",
            "recipes/r.yaml:5:55: executor.default.partiton: unknown resource — did you mean partition? (valid: partition, account, qos, gpus, cpus, memory, time, sbatch_args)",
            "recipes/r.yaml:6:11: executor.kinds.train: unknown stage kind 'train' (stage kinds: misbehave, strict, train-model, write)",
            "recipes/r.yaml:7:12: executor.stages.evaluate: unknown stage 'evaluate' (stages: prepare, train, eval)",
            "recipes/r.yaml:7:68: executor.stages.eval.partition: expected a name, got a list",
        ], "\(many)")
        #expect(try errors("  - slurm\n") == ["recipes/r.yaml:3:3: executor: expected a map (retries, max_jobs, poll_seconds, default, kinds, stages), got a list"])
    }

    @Test func slurmTimeLimitsAreThoseSbatchAccepts() {
        for good in ["30", "30:00", "2:00:00", "1-0", "1-12:00", "1-12:00:00", "UNLIMITED"] {
            #expect(SlurmResources(time: good).sbatchOptions == ["--time=\(good)"])
        }
        let recipe = { (time: String) in "pipeline: train\nexecutor: {default: {time: \"\(time)\"}}\n" }
        for bad in ["0", "1h", "1:2:3:4", "-5", ""] {
            try? project.write("recipes/r.yaml", recipe(bad))
            #expect(project.errors("recipes/r.yaml").count == 1, "\(bad)")
        }
    }
}

/// Which rank a process is, as launchers say it in the environment.
@Suite struct DataParallelLaunchTests {
    @Test func torchrunsVariablesAndSrunsTasksAreRead() throws {
        let torchrun = try #require(try DataParallelLaunch.fromEnvironment([
            "RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "MASTER_ADDR": "node7", "MASTER_PORT": "29500",
        ]))
        #expect(torchrun == DataParallelLaunch(rank: 1, localRank: 1, worldSize: 4, masterAddress: "node7", masterPort: 29500))
        #expect(torchrun.environment["WORLD_SIZE"] == "4" && torchrun.environment["MASTER_ADDR"] == "node7")
        let srun = try #require(try DataParallelLaunch.fromEnvironment([
            "SLURM_PROCID": "3", "SLURM_STEP_NUM_TASKS": "4", "SLURM_LOCALID": "1", "MASTER_ADDR": "node1", "MASTER_PORT": "21234",
        ]))
        #expect(srun == DataParallelLaunch(rank: 3, localRank: 1, worldSize: 4, masterAddress: "node1", masterPort: 21234))
        // One process: a batch job of one task, a world of one, or no launcher at all.
        #expect(try DataParallelLaunch.fromEnvironment(["SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "1"]) == nil)
        #expect(try DataParallelLaunch.fromEnvironment(["RANK": "0", "WORLD_SIZE": "1"]) == nil)
        #expect(try DataParallelLaunch.fromEnvironment(["PATH": "/usr/bin"]) == nil)
        #expect(try FreePort.onLoopback() > 0)
    }

    @Test func anIncompleteOrWrongLaunchSaysWhichVariable() {
        let message = { (environment: [String: String]) in errorMessage { _ = try DataParallelLaunch.fromEnvironment(environment) } ?? "" }
        #expect(message(["RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "29500"]).contains("MASTER_ADDR is not set"))
        #expect(message(["RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "h"]).contains("MASTER_PORT is not set"))
        #expect(message(["RANK": "2", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1"]).contains("RANK is 2; expected less than WORLD_SIZE (2)"))
        #expect(message(["RANK": "x", "WORLD_SIZE": "2"]).contains("RANK is 'x'; expected a whole number"))
        #expect(message(["RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "70000"]).contains("MASTER_PORT is 70000; expected 1…65535"))
    }
}
