// CommandStageTests — the `command` kind with real shell commands through the runner: the environment
// contract, reports on $LOOM_METRICS, failures with their logs, deps in the fingerprint, and
// cancellation that stops the command's whole process group.
import Foundation
import LoomCore
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing

@Suite struct CommandStageTests {
    let project: StagesProject

    init() throws { project = try StagesProject() }

    @Test func theEnvironmentCarriesTheStageContract() throws {
        try project.write("recipes/r.yaml", """
            stages:
              first-step:
                kind: command
                params: {run: "echo hello > $LOOM_OUTPUT/a.txt"}
              second:
                kind: command
                after: [first-step]
                params:
                  run: |
                    cp "$LOOM_INPUT_FIRST_STEP/a.txt" "$LOOM_OUTPUT/copied.txt"
                    cp "$LOOM_PARAMS" "$LOOM_OUTPUT/params.json"
                    echo "$LOOM_VAR_STEPS $LOOM_VAR_NAME $LOOM_STAGE $LOOM_RUN $LOOM_ATTEMPT $GREETING $(pwd)" > "$LOOM_OUTPUT/env.txt"
                    test -d "$LOOM_RESUME" && test -f "$LOOM_METRICS" && echo ok > "$LOOM_OUTPUT/dirs.txt"
                  vars: {steps: 3, name: tiny, list: [1, 2]}
                  env: {GREETING: hi}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded)
        #expect(try project.output(result.id, "second", "copied.txt") == "hello\n")
        #expect(try project.output(result.id, "second", "env.txt") == "3 tiny second \(result.id) 1 hi \(project.root.standardizedFileURL.path)\n")
        #expect(try project.output(result.id, "second", "dirs.txt") == "ok\n")
        let params = try JSONValue.parse(try #require(try project.output(result.id, "second", "params.json")))
        #expect(params.value(atKeyPath: "vars.list") == .array([.int(1), .int(2)]))
        #expect(params["env"] == .object(["GREETING": .string("hi")]))
    }

    @Test func reportsBecomeMetricsProgressAndArtifactNames() throws {
        try project.write("recipes/r.yaml", """
            stages:
              train:
                kind: command
                params:
                  run: |
                    for i in 1 2 3; do echo "{\\"step\\": $i, \\"train/loss\\": $((4 - i)).5, \\"train/lr\\": 0.1}" >> $LOOM_METRICS; done
                    echo '{"key": "eval/bits_per_byte", "value": 1.25, "step": 3}' >> $LOOM_METRICS
                    echo '{"progress": {"step": 3, "total": 3, "message": "done"}}' >> $LOOM_METRICS
                    echo 'not json' >> $LOOM_METRICS
                    echo '{"key": "x"}' >> $LOOM_METRICS
                    echo '{"key": 5}' >> $LOOM_METRICS
                    echo weights > $LOOM_OUTPUT/model.bin
                    printf '{"artifact": "model", "path": "model.bin"}' >> $LOOM_METRICS
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded)
        let store = try project.store()
        #expect(try store.metricSeries(run: result.id, stage: "train", key: "train/loss").map(\.value) == [3.5, 2.5, 1.5])
        let finals = try store.finalMetrics(ofRun: result.id)
        #expect(finals.contains(FinalMetric(stage: "train", key: "eval/bits_per_byte", step: 3, value: 1.25)))
        #expect(finals.contains(FinalMetric(stage: "train", key: "train/lr", step: 3, value: 0.1)))
        #expect(try store.artifacts(ofRun: result.id).first?.artifacts == [
            ArtifactRecord(name: "model", path: "model.bin", sha256: Digest.sha256Hex("weights\n"), bytes: 8),
        ])
        let log = try project.log(result.id, "train")
        #expect(log.contains("warning: $LOOM_METRICS line 6: not a JSON object"))
        #expect(log.contains("warning: $LOOM_METRICS line 7: \"key\" needs a numeric \"value\""))
        #expect(log.contains("warning: $LOOM_METRICS line 8: \"key\" must be a metric name (a string)"))
        #expect(!finals.contains { $0.key == "key" })
    }

    @Test func aFailingCommandFailsTheStageWithItsOutputInTheLog() throws {
        try project.write("recipes/r.yaml", "stages:\n  broken: {kind: command, params: {run: 'echo to-stdout; echo to-stderr >&2; exit 3'}}\n")
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .failed)
        let stage = try #require(try project.store().stage(run: result.id, name: "broken"))
        #expect(stage.error == "command `echo to-stdout; echo to-stderr >&2; exit 3` exited with status 3")
        let log = try project.log(result.id, "broken")
        #expect(log.contains("to-stdout\nto-stderr\n"))
        #expect(log.contains("error: command `echo to-stdout; echo to-stderr >&2; exit 3` exited with status 3"))
    }

    @Test func depsContentDecidesWhetherTheCommandRunsAgain() throws {
        try project.write("data/words.txt", "one two")
        try project.write("recipes/r.yaml", """
            stages:
              count: {kind: command, params: {run: 'wc -w < data/words.txt > $LOOM_OUTPUT/n; echo x >> runs.log', deps: [data/words.txt]}}
            """)
        let first = try project.run("recipes/r.yaml")
        #expect(try project.output(first.id, "count", "n")?.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        _ = try project.run("recipes/r.yaml")
        #expect(project.read("runs.log") == "x\n", "unchanged deps: cached")
        try project.write("data/words.txt", "one two three")
        let third = try project.run("recipes/r.yaml")
        #expect(project.read("runs.log") == "x\nx\n")
        #expect(try project.output(third.id, "count", "n")?.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
    }

    @Test func cancellingStopsTheCommandAndItsChildren() throws {
        try project.write("recipes/r.yaml", "stages:\n  wait: {kind: command, params: {run: 'sleep 60 & echo $! > child.pid; wait'}}\n")
        let cancellation = CancellationFlag()
        let pidFile = project.root.appendingPathComponent("child.pid").path
        Thread.detachNewThread {
            let deadline = ProcessState.now + 20
            while !FileManager.default.fileExists(atPath: pidFile), ProcessState.now < deadline { usleep(20_000) }
            usleep(100_000)
            cancellation.cancel(reason: "test")
        }
        let result = try project.run("recipes/r.yaml", cancellation: cancellation)
        #expect(result.status == .cancelled)
        #expect(try project.store().stage(run: result.id, name: "wait")?.status == .cancelled)
        let pid = try #require(Int32(project.read("child.pid")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        var alive = ProcessState.isAlive(pid)
        for _ in 0..<50 where alive {
            usleep(20_000)
            alive = ProcessState.isAlive(pid)
        }
        #expect(!alive, "the command's child (sleep) was stopped with it")
    }

    @Test func theCatalogDeclaresCommandForLoomWithDocumentedParams() throws {
        let registry = StageCatalog.registry()
        let command = try #require(registry.descriptor(named: "command"))
        #expect(command.executable == .loom)
        #expect(registry.implementation(named: "command") != nil)
        #expect(command.schema.specs.map(\.key) == ["run", "deps", "env", "vars"])
        #expect(command.schema.specs.allSatisfy { !$0.doc.isEmpty })
        #expect(CommandStage.environmentName("tokenizer-2") == "TOKENIZER_2")
    }
}
