// SupportTests — the small pieces: JSON values, "did you mean", stage invocations, git commits,
// the console display, garbage collection and dry-run explanations.
import Foundation
import Pipeline
import TestSupport
import Testing

@Suite struct JSONValueTests {
    @Test func canonicalFormSortsKeysAndKeepsIntegersAndFloatsApart() throws {
        let value = JSONValue.object(["b": .int(8), "a": .double(8), "c": .array([.string("é\n\"q\""), .null, .bool(true)])])
        #expect(value.canonicalJSON == #"{"a":8.0,"b":8,"c":["é\n\"q\"",null,true]}"#)
        #expect(try JSONValue.parse(value.canonicalJSON) == value)
        #expect(JSONValue.double(1e-5).canonicalJSON == "1e-05")
    }

    @Test func parsesEscapesAndNumbers() throws {
        let parsed = try JSONValue.parse(#" {"s": "a\u00e9\ud83d\ude00\t", "n": -12, "f": 2.5e3, "l": [1, 2.0]} "#)
        #expect(parsed["s"] == .string("aé😀\t"))
        #expect(parsed["n"] == .int(-12))
        #expect(parsed["f"] == .double(2500))
        #expect(parsed["l"] == .array([.int(1), .double(2)]))
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\": }") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[1, 2") }
    }

    @Test func flatObjectsParseWithoutADictionaryAndOthersAreLeftToTheFullParser() {
        func flat(_ text: String) -> [(key: String, value: JSONValue)]? {
            var copy = text
            return copy.withUTF8 { JSONValue.parseFlatObject(bytes: $0) }
        }
        let members = flat(#"{"step": 3, "train/loss": 2.5, "note": "a\"b", "ok": true}"#)
        #expect(members?.map(\.key) == ["step", "train/loss", "note", "ok"])
        #expect(members?.map(\.value) == [.int(3), .double(2.5), .string("a\"b"), .bool(true)])
        #expect(flat("{}")?.isEmpty == true)
        #expect(flat(#"{"progress": {"step": 1}}"#) == nil)
        #expect(flat(#"{"a": [1]}"#) == nil)
        #expect(flat(#"{"a": 1"#) == nil)
        #expect(flat("[1]") == nil)
    }
}

@Suite struct NearestNameTests {
    @Test func suggestsCloseNamesOnly() {
        #expect(NearestName.suggestion(for: "rnak", among: ["rank", "alpha"]) == "rank")
        #expect(NearestName.suggestion(for: "lr", among: ["rank", "alpha"]) == nil)
        #expect(NearestName.suggestion(for: "tokenzier", among: ["tokenizer", "train"]) == "tokenizer")
        #expect(NearestName.hint(for: "x", among: ["longname"]) == "")
    }
}

@Suite struct StageInvocationTests {
    @Test func roundTripsThroughArguments() throws {
        let invocation = StageInvocation(home: URL(fileURLWithPath: "/tmp/h"), run: 7, stage: "train", attempt: 2, force: true, parentPID: 99)
        #expect(try StageInvocation(arguments: invocation.arguments) == invocation)
        let job = StageInvocation(home: URL(fileURLWithPath: "/tmp/h"), run: 7, stage: "train", attempt: 2, force: false, parentPID: nil,
                                  jobDirectory: URL(fileURLWithPath: "/tmp/h/jobs/7/train.2"))
        #expect(job.arguments.suffix(2) == ["--job-dir", "/tmp/h/jobs/7/train.2"])
        #expect(try StageInvocation(arguments: job.arguments) == job)
    }

    @Test func badArgumentsSayWhatIsWrong() {
        #expect(throws: StageInvocationError.self) { try StageInvocation(arguments: ["--home", "/h", "--run", "x"]) }
        do {
            _ = try StageInvocation(arguments: ["--home", "/h", "--run", "1", "--stage", "s"])
        } catch {
            #expect("\(error)".contains("--attempt needs a positive number"))
        }
    }
}

@Suite struct GitInfoTests {
    @Test func readsTheCheckedOutCommit() throws {
        let scratch = try ScratchDirectory("loom-git")
        let git = URL(fileURLWithPath: "/usr/bin/git")
        guard FileManager.default.isExecutableFile(atPath: git.path) else { return }
        let environment = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"]
        _ = try runProcess(git, ["init", "-q", scratch.url.path])
        try "x".write(to: scratch.path("f"), atomically: true, encoding: .utf8)
        _ = try runProcess(git, ["-C", scratch.url.path, "add", "f"], environment: environment)
        _ = try runProcess(git, ["-C", scratch.url.path, "commit", "-qm", "x"], environment: environment)
        let head = try runProcess(git, ["-C", scratch.url.path, "rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.createDirectory(at: scratch.path("recipes"), withIntermediateDirectories: true)
        #expect(GitInfo.headCommit(near: scratch.path("recipes")) == head)
        _ = try runProcess(git, ["-C", scratch.url.path, "pack-refs", "--all"])
        #expect(GitInfo.headCommit(near: scratch.path("recipes")) == head, "packed refs are read too")
        #expect(GitInfo.headCommit(near: URL(fileURLWithPath: "/")) == nil)
    }
}

@Suite struct ConsoleReporterTests {
    /// A fixed clock: the elapsed time shown is exactly 62 s however slowly the test runs.
    static let now: Double = 1_000_000
    let stage = ActiveStage(label: "demo/core · train", status: "running", startedAt: ConsoleReporterTests.now - 62,
                            progress: StageProgress(step: 120, total: 1000, loss: 2.31, tokensPerSecond: 3100, etaSeconds: 250))

    @Test func aTerminalGetsLiveLinesRedrawnInPlace() {
        var output = ""
        let reporter = ConsoleReporter(isTerminal: true, now: { ConsoleReporterTests.now }) { output += $0 }
        reporter.active([stage])
        #expect(output == "  demo/core · train  running  1:02  step 120/1000 · loss 2.310 · 3.1k tok/s · ETA 4:10\n")
        output = ""
        reporter.note("  demo/core · eval: started")
        #expect(output == "\u{1B}[1A\u{1B}[2K\r  demo/core · eval: started\n", "the live block waits for the next refresh")
        output = ""
        reporter.active([stage])
        #expect(output.hasPrefix("  demo/core · train  running"))
        output = ""
        reporter.finish()
        #expect(output == "\u{1B}[1A\u{1B}[2K\r")
    }

    @Test func aPipeGetsPlainLinesAtMostEveryInterval() {
        var output = ""
        let reporter = ConsoleReporter(isTerminal: false, plainProgressInterval: 3600, now: { ConsoleReporterTests.now }) { output += $0 }
        reporter.active([stage])
        reporter.active([stage])
        reporter.note("done")
        #expect(output == "  demo/core · train  running  1:02  step 120/1000 · loss 2.310 · 3.1k tok/s · ETA 4:10\ndone\n")
        #expect(!output.contains("\u{1B}"))
    }
}

@Suite struct GarbageCollectorTests {
    @Test func removesOnlyWhatNoRunReferences() throws {
        let project = try TestProject()
        try project.write("recipes/r.yaml", "stages:\n  a: {kind: write, params: {text: one}}\n")
        let run = try project.run("recipes/r.yaml")
        let store = try project.store()
        let kept = try #require(try store.stage(run: run.id, name: "a")).fingerprint
        let orphan = store.layout.cacheEntry(String(repeating: "f", count: 64))
        try FileManager.default.createDirectory(at: orphan, withIntermediateDirectories: true)
        try "old".write(to: orphan.appendingPathComponent("out.txt"), atomically: true, encoding: .utf8)
        let leftover = store.layout.workDirectory(kept).appendingPathComponent("attempt-9-1")
        try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)

        let preview = try GarbageCollector(store: store).collect(dryRun: true)
        #expect(preview.removed.map(\.path) == [orphan.path, leftover.path])
        #expect(FileManager.default.fileExists(atPath: orphan.path))
        let result = try GarbageCollector(store: store).collect(dryRun: false)
        #expect(result.bytes == 3)
        #expect(result.keptEntries == 1)
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
        #expect(!FileManager.default.fileExists(atPath: leftover.path))
        #expect(store.layout.isCached(kept))
    }

    @Test func removesTheJobDirectoriesOfAttemptsThatEnded() throws {
        let project = try TestProject(reportFiles: true)
        try project.write("recipes/r.yaml", "stages:\n  a: {kind: write, params: {text: one}}\n  b: {kind: write, params: {text: two}}\n")
        let run = try project.run("recipes/r.yaml")
        let store = try project.store()
        let ended = store.layout.jobDirectory(run: run.id, stage: "a", attempt: 1)
        #expect(FileManager.default.fileExists(atPath: ended.report.path))
        _ = try store.startAttempt(run: run.id, stage: "b", pid: nil)
        let running = store.layout.jobDirectory(run: run.id, stage: "b", attempt: 2)
        try FileManager.default.createDirectory(at: running.url, withIntermediateDirectories: true)

        let result = try GarbageCollector(store: store).collect(dryRun: false)
        #expect(result.removed.map(\.path) == [ended.url.path, store.layout.jobDirectory(run: run.id, stage: "b", attempt: 1).url.path])
        #expect(FileManager.default.fileExists(atPath: running.url.path), "a running attempt keeps its job directory")
    }
}

@Suite struct PlanExplainerTests {
    @Test func explainsWhatRunsAndWhy() throws {
        let project = try TestProject()
        try project.write("data/in.txt", "one")
        try project.write("pipelines/p.yaml", """
            stages:
              a: {kind: write, params: {inputs: [data/in.txt]}}
              b: {kind: write, after: [a]}
              c: {kind: write, params: {text: c}}
            """)
        try project.write("recipes/r.yaml", "pipeline: p\n")
        let store = try project.store()
        let explainer = PlanExplainer(store: store)
        let fresh = try explainer.forecast(project.plans("recipes/r.yaml"), forcedStages: [])[0]
        #expect(fresh.map(\.reason) == ["never run", "never run", "never run"])

        let first = try project.run("recipes/r.yaml")
        let cached = try explainer.forecast(project.plans("recipes/r.yaml"), forcedStages: [])[0]
        #expect(cached.map(\.action) == [.cached, .cached, .cached])
        #expect(cached[0].reason == "output of run \(first.id) (a)")

        try project.write("data/in.txt", "two")
        try project.write("recipes/r.yaml", "pipeline: p\nparams:\n  c: {text: C, lora: {rank: 2}}\n")
        let changed = try explainer.forecast(project.plans("recipes/r.yaml"), forcedStages: [])[0]
        #expect(changed.map(\.action) == [.run, .run, .run])
        #expect(changed[0].reason == "input files changed: inputs[0] (data/in.txt)")
        #expect(changed[1].reason == "upstream a changes")
        #expect(changed[2].reason == "params changed: lora.rank 8 → 2, text c → C")

        let forced = try explainer.forecast(project.plans("recipes/r.yaml"), forcedStages: ["a"])[0]
        #expect(forced.map(\.reason).prefix(2) == ["forced (--force a)", "downstream of a forced stage"])
    }

    @Test func sharedStagesAreListedOnce() throws {
        let project = try TestProject()
        try project.write("recipes/v.yaml", """
            stages:
              base: {kind: write}
              tune: {kind: write, after: [base]}
            variants:
              x: {params: {tune: {text: x}}}
              y: {params: {tune: {text: y}}}
            """)
        let forecast = try PlanExplainer(store: project.store()).forecast(project.plans("recipes/v.yaml"), forcedStages: [])
        #expect(forecast[1][0].action == .shared)
        #expect(forecast[1][0].reason == "same fingerprint as v/x · base: runs once")
        #expect(forecast[1][1].action == .run)
    }
}

@Suite struct StageParametersTests {
    struct LoRA: Decodable, Equatable {
        let rank: Int
        let dropoutRate: Double
    }

    let params = StageParameters(.object([
        "steps": .int(10), "lr": .double(3e-4), "name": .string("tiny"), "quiet": .bool(true),
        "tiers": .array([.string("core"), .string("orbit")]),
        "lora": .object(["rank": .int(8), "dropout_rate": .double(0.1)]),
    ]))

    @Test func typedAccessByKeyPath() throws {
        #expect(try params.int("steps") == 10)
        #expect(try params.double("lr") == 3e-4)
        #expect(try params.double("steps") == 10, "an integer is a valid number")
        #expect(try params.string("name") == "tiny")
        #expect(try params.bool("quiet"))
        #expect(try params.strings("tiers") == ["core", "orbit"])
        #expect(try params.int("lora.rank") == 8)
        #expect(try params.section("lora").double("dropout_rate") == 0.1)
        #expect(params.has("lora.rank"))
        #expect(!params.has("lora.alpha"))
    }

    @Test func decodesIntoConfigurationStructs() throws {
        #expect(try params.decode(LoRA.self, at: "lora") == LoRA(rank: 8, dropoutRate: 0.1))
    }

    @Test func aMissingOrMistypedKeyIsAKindBugAndSaysSo() {
        do {
            _ = try params.int("name")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "parameter 'name' is missing or is not an integer (is it declared in the kind's schema?)")
        }
    }
}
