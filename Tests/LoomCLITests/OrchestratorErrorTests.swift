// OrchestratorErrorTests — what the run verbs print when the store or the arguments are wrong (one
// line naming the problem, no Foundation error dumps), JSON that ends like every other line, and
// what must not happen on the way: a store created by a typo, `logs -f` waiting on a dead stage.
import Foundation
import TestSupport
import Testing

@Suite struct OrchestratorErrorTests {
    let project: CLIProject

    init() throws {
        project = try CLIProject()
        try project.write("recipes/ok.yaml", "stages:\n  a: {kind: command, params: {run: 'echo a > $LOOM_OUTPUT/a'}}\n")
    }

    @Test func aHomeThatIsAFileIsNamedCleanly() throws {
        try project.write("home-file", "x")
        let file = project.root.appendingPathComponent("home-file").path
        for arguments in [["run", "recipes/ok.yaml"], ["runs"], ["status"]] {
            let result = try project.loom(arguments, home: file)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr == "loom: cannot open the run store in \(file): it is a file, not a directory\n", "\(arguments): \(result.stderr)")
        }
        #expect(project.read("home-file") == "x")
    }

    @Test func runsLimitMustBePositive() throws {
        #expect(try project.loom(["run", "recipes/ok.yaml"]).status == 0)
        for verb in ["runs", "status"] {
            let zero = try project.loom([verb, "--limit", "0"])
            #expect(zero.status == 64, "\(verb)")
            #expect(zero.stderr.contains("--limit must be at least 1, got 0"), "\(verb): \(zero.stderr)")
        }
    }

    @Test func logsAttemptMustBePositive() throws {
        #expect(try project.loom(["run", "recipes/ok.yaml"]).status == 0)
        let zero = try project.loom(["logs", "1", "a", "--attempt", "0"])
        #expect(zero.status == 64)
        #expect(zero.stderr.contains("--attempt must be at least 1, got 0"), "\(zero.stderr)")
    }

    @Test func executorOptionsAreCheckedBeforeAnythingRuns() throws {
        let gpus = try project.loom(["run", "recipes/ok.yaml", "--gpus", "0", "--executor", "local"])
        #expect(gpus.status == 64)
        #expect(gpus.stderr.contains("--gpus asks Slurm for GPUs: use it with --executor slurm"), "\(gpus.stderr)")
        let negative = try project.loom(["run", "recipes/ok.yaml", "--gpus=-1", "--executor", "slurm"])
        #expect(negative.status == 64)
        #expect(negative.stderr.contains("--gpus must be 0 or more, got -1"), "\(negative.stderr)")
        let unknown = try project.loom(["run", "recipes/ok.yaml", "--executor", "pbs"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("'pbs'") && unknown.stderr.contains("local"), "\(unknown.stderr)")

        // A Slurm that does not answer is said so once, before any run is recorded.
        let noCluster = try runProcess(project.loom, ["run", "recipes/ok.yaml", "--executor", "slurm", "--home", project.home],
                                       environment: ["SLURM_CONF": project.root.appendingPathComponent("no-slurm.conf").path],
                                       currentDirectory: project.root)
        #expect(noCluster.status == 1)
        #expect(noCluster.stderr.hasPrefix("loom: --executor slurm: no Slurm cluster answers here (SLURM_CONF is "), "\(noCluster.stderr)")
        #expect(noCluster.stderr.contains("scripts/slurm-cluster.sh start"), "\(noCluster.stderr)")
        #expect(try project.loom(["runs"]).stdout.contains("no runs") || !FileManager.default.fileExists(atPath: project.home + "/loom.sqlite"))
    }

    @Test func jsonOutputEndsWithANewline() throws {
        #expect(try project.loom(["run", "recipes/ok.yaml"]).status == 0)
        for arguments in [["runs"], ["status"], ["status", "1"], ["show", "1"], ["compare", "1"], ["gc", "--dry-run"], ["run", "recipes/ok.yaml", "--dry-run"]] {
            let result = try project.loom(arguments + ["--json"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout.hasSuffix("}\n"), "\(arguments): \(result.stdout.suffix(20).debugDescription)")
            #expect((try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) != nil, "\(arguments)")
        }
        let kinds = try runProcess(project.loom, ["kinds", "--json"])
        #expect(kinds.status == 0 && kinds.stdout.hasSuffix("}\n"), "\(kinds.stdout.suffix(20).debugDescription)")
    }

    @Test func aMistypedRecipePathCreatesNoStore() throws {
        let result = try project.loom(["run", "recipes/okk.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr == "loom: no such recipe: recipes/okk.yaml\n", "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: project.home))
    }

    @Test func followingTheLogOfAStageWhoseProcessDiedEnds() throws {
        #expect(try project.loom(["run", "recipes/ok.yaml"]).status == 0)
        // What a kill -9 of the runner and the stage leaves: `running`, with a pid that is gone.
        let deadPID = pidThatCannotExist()
        let update = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE stages SET status = 'running', pid = ?\", (int(sys.argv[2]),)); c.commit()",
            project.home + "/loom.sqlite", String(deadPID)])
        #expect(update.status == 0, "\(update.stderr)")
        #expect(try project.sql("SELECT status FROM stages") == "running")
        let follow = try runProcess(URL(fileURLWithPath: "/usr/bin/timeout"),
                                    ["-s", "KILL", "60", project.loom.path, "logs", "1", "a", "-f", "--home", project.home])
        #expect(follow.status == 0, "status 137 (killed by timeout) means -f never ended: \(follow.stderr)")
        #expect(follow.stdout.contains("succeeded"), "\(follow.stdout)")
    }
}
