// DemoMiniatureCLITests — the demo in miniature through the built binaries (`loom` planning and running,
// `loom-torch exec-stage` for the model kinds): generated text through every stage kind, killed with
// SIGKILL (runner and stage at once) while `train` is between checkpoints (frozen with SIGSTOP first, so
// the kill does not race the remaining steps), resumed, and the resumed run's adapter and eval metrics
// equal those of an uninterrupted run; then compare and report read it.
import Foundation
import TestSupport
import Testing

@Suite struct DemoMiniatureCLITests {
    let project: CLIProject

    init() throws {
        project = try CLIProject()
        try SyntheticBooks.installMiniature(in: project.root)
        // Enough steps that the kill lands while training is still going.
        let recipe = SyntheticBooks.miniatureRecipe.replacingOccurrences(of: "    steps: 60\n", with: "    steps: 240\n")
        try project.write("recipes/mini.yaml", recipe)
    }

    /// The newest checkpoint step in the resume directory of the `train` stage of `fingerprint` (0: none yet).
    func newestCheckpoint(fingerprint: String) -> Int {
        let checkpoints = "\(project.home)/work/\(fingerprint)/resume/checkpoints"
        return ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? [])
            .compactMap { Int($0.replacingOccurrences(of: "checkpoint-", with: "")) }.max() ?? 0
    }

    /// The newest checkpoint step in the resume directory of the latest run's `train` stage (0: none yet).
    func newestTrainCheckpoint() throws -> Int {
        guard let fingerprint = try project.latestStages()["train"]?["fingerprint"] as? String else { return 0 }
        return newestCheckpoint(fingerprint: fingerprint)
    }

    @Test func killedDuringTrainThenResumedEqualsAnUninterruptedRun() throws {
        let clean = project.root.appendingPathComponent("clean-runs").path
        let uninterrupted = try project.loom(["run", "recipes/mini.yaml", "--variant", "core"], home: clean)
        #expect(uninterrupted.status == 0, "\(uninterrupted.stdout)\n\(uninterrupted.stderr)")

        let runner = try project.start(["run", "recipes/mini.yaml", "--variant", "core"], output: "killed.out")
        // The stage process (leader of its process group) and its fingerprint, as soon as it runs.
        var stagePID: Int32 = 0
        var fingerprint = ""
        try project.waitUntil("train is running", timeout: 120) {
            guard let train = try project.latestStages()["train"], train["status"] as? String == "running",
                  let pid = train["pid"] as? Int, let stageFingerprint = train["fingerprint"] as? String else { return false }
            stagePID = Int32(pid)
            fingerprint = stageFingerprint
            return true
        }
        try #require(stagePID > 0)
        // Watched by listing the directory only (no `loom status` in the loop), and frozen with SIGSTOP
        // the moment checkpoint 20 is seen: from then on nothing moves while the test looks and kills.
        try project.waitUntil("train wrote its checkpoint of step 20", timeout: 120) { newestCheckpoint(fingerprint: fingerprint) >= 20 }
        kill(-stagePID, SIGSTOP)
        let train = try #require(try project.latestStages()["train"])
        #expect(train["status"] as? String == "running")
        #expect(train["pid"] as? Int == Int(stagePID))
        // Power loss: the runner and the (frozen) stage process group die without seeing each other go.
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        kill(-stagePID, SIGKILL)
        try project.waitUntil("the killed stage process is gone") { processIsGone(stagePID) }
        #expect(try newestTrainCheckpoint() < 240, "the kill landed before the last step")

        let resumed = try project.loom(["resume", "latest"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("train: started (attempt 2)"), "\(resumed.stdout)")
        let log = try project.loom(["logs", "1", "train"]).stdout
        #expect(log.contains("continuing from checkpoint-"), "\(log)")

        let evalMetrics = "SELECT key, value FROM latest_metrics WHERE stage = 'eval' ORDER BY key"
        #expect(try project.sql(evalMetrics) == project.sql(evalMetrics, home: clean))
        #expect(try project.sql(evalMetrics).contains("eval/bits_per_byte|"))
        // The weights are equal; adapter_config.json differs only in the absolute path of its base model.
        let adapter = "SELECT sha256 FROM artifacts WHERE stage = 'train' AND path = 'adapter_model.safetensors'"
        #expect(try project.sql(adapter) == project.sql(adapter, home: clean))
        #expect(try project.sql(adapter).count == 64)
        let curve = "SELECT step, value FROM metrics WHERE rowid IN (SELECT MAX(rowid) FROM metrics WHERE key = 'train/loss' GROUP BY step) ORDER BY step"
        #expect(try project.sql(curve) == project.sql(curve, home: clean))

        let comparison = try project.json(["compare", "mini"])
        let keys = (comparison["metrics"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        #expect(keys.contains("eval/bits_per_byte") && keys.contains("train/corpus_tokens"))
        // The token store the run's train read: `loom show` names its size, tokens and books.
        let show = try project.json(["show", "latest"])
        let tokens = try #require((show["token_stores"] as? [String: Any])?["tokens"] as? [String: Any], "\(show)")
        #expect((tokens["tokens"] as? Int ?? 0) > 0 && (tokens["bytes"] as? Int ?? 0) > 0 && tokens["dtype"] as? String == "uint16")
        #expect(try project.loom(["show", "latest"]).stdout.contains("tokens: token store of "))
        let report = try project.loom(["report", "latest", "--out", "report.html"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(project.read("report.html")?.contains("Жена говорит") == true)
    }
}
