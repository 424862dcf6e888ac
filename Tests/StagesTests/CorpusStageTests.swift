// CorpusStageTests — the `corpus` kind run for real through the in-process runner on fortune fixtures:
// the corpus it writes, its metrics and artifacts, tier order as dedupe priority, the content of tier
// files in the fingerprint, a cancelled build publishing nothing, and the errors a bad `corpus` stage is refused with.
import Corpus
import Foundation
import LoomCore
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing

@Suite struct CorpusStageTests {
    let project: StagesProject

    init() throws {
        project = try StagesProject()
        try project.addFortuneTiers()
    }

    /// The first `count` entries of a fixture fortune file, as a fortune file of their own.
    func fortuneCopies(of fixture: String, count: Int) throws -> String {
        let text = try String(contentsOf: TestPaths.fixture(fixture), encoding: .utf8)
        let entries = text.components(separatedBy: "\n%\n").prefix(count)
        return entries.joined(separator: "\n%\n") + "\n%\n"
    }

    @Test func buildsTheCorpusOfTheTiersWithMetricsPerTier() throws {
        try project.write("books/fractal/copies", try fortuneCopies(of: "stages/man_and_woman", count: 2))
        try project.write("recipes/r.yaml", """
            stages:
              corpus:
                kind: corpus
                params:
                  tiers:
                    - {name: core, paths: [books/core]}
                    - {name: orbit, paths: ['books/orbit/*']}
                    - {name: fractal, paths: [books/fractal]}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded)
        let corpus = try CorpusReader(directory: try project.outputDirectory(result.id, "corpus"))
        #expect(corpus.tierNames == ["core", "orbit", "fractal"])
        let metrics = try project.metrics(result.id, "corpus")
        for tier in corpus.manifest.tiers {
            let counts = tier.counts
            #expect(counts.documents > 0)
            #expect(metrics["corpus/\(tier.name)/documents"] == Double(counts.documents))
            #expect(metrics["corpus/\(tier.name)/scenes"] == Double(counts.scenes))
            #expect(metrics["corpus/\(tier.name)/words"] == Double(counts.words))
            #expect(metrics["corpus/\(tier.name)/rejects"] == 0)
            #expect(metrics["corpus/\(tier.name)/validation_documents"] == Double((Double(counts.documents) * 0.1).rounded()))
            #expect(metrics["corpus/\(tier.name)/train_scenes"] == Double(try corpus.scenes(split: .train, tiers: [tier.name]).count))
        }
        let fractal = try #require(corpus.manifest.tier(named: "fractal")).counts
        #expect(metrics["corpus/fractal/duplicates"] == Double(fractal.duplicates.exactScenes + fractal.duplicates.nearScenes))
        #expect(metrics["corpus/fractal/duplicate_documents"] == Double(fractal.duplicates.documents))
        #expect(metrics["corpus/documents"] == Double(try corpus.documents().count))
        #expect(metrics["corpus/documents"] == Double(corpus.manifest.tiers.reduce(0) { $0 + $1.counts.documents }))
        let artifacts = try #require(try project.store().artifacts(ofRun: result.id).first { $0.stage == "corpus" }).artifacts
        #expect(artifacts.contains { $0.name == "manifest" && $0.path == "manifest.json" })
        #expect(artifacts.contains { $0.name == "documents" && $0.path == "documents.jsonl" })
        let core = try #require(corpus.manifest.tier(named: "core")).counts
        #expect(try project.log(result.id, "corpus").contains("core: \(core.documents) documents (\(core.validation.documents) held out), \(core.scenes) scenes"))
    }

    @Test func theListOrderOfTiersIsTheDedupePriority() throws {
        try project.write("books/copies", try fortuneCopies(of: "stages/man_and_woman", count: 3))
        func duplicates(order: [String]) throws -> [String: Double] {
            let paths = ["core": "books/core", "copies": "books/copies"]
            let tiers = order.map { "        - {name: \($0), paths: [\(paths[$0]!)]}" }.joined(separator: "\n")
            try project.write("recipes/r.yaml", "stages:\n  corpus:\n    kind: corpus\n    params:\n      tiers:\n\(tiers)\n")
            let result = try project.run("recipes/r.yaml")
            #expect(result.status == .succeeded)
            let metrics = try project.metrics(result.id, "corpus")
            return ["core": metrics["corpus/core/duplicates"] ?? -1, "copies": metrics["corpus/copies/duplicates"] ?? -1]
        }
        // man_and_woman repeats a few fortunes itself; the three copies move from one tier to the other.
        let coreFirst = try duplicates(order: ["core", "copies"])
        let copiesFirst = try duplicates(order: ["copies", "core"])
        #expect(coreFirst["copies"] == 3)
        #expect(copiesFirst["copies"] == 0)
        #expect(copiesFirst["core"] == (coreFirst["core"] ?? 0) + 3)
    }

    @Test func theContentOfTierFilesEntersTheFingerprint() throws {
        try project.write("recipes/r.yaml", """
            stages:
              corpus: {kind: corpus, params: {tiers: [{name: core, paths: [books/core]}]}}
            """)
        let before = try #require(try project.plans("recipes/r.yaml").first?.stage(named: "corpus")).fingerprint
        #expect(try project.plans("recipes/r.yaml").first?.stage(named: "corpus")?.fingerprint == before)
        try project.write("books/core/man_and_woman", "Новый текст.\n%\nЕщё один.\n%\n")
        #expect(try project.plans("recipes/r.yaml").first?.stage(named: "corpus")?.fingerprint != before)
    }

    @Test func cancellationStopsTheBuildAndPublishesNothing() throws {
        // The run is cancelled (as Ctrl-C would) at the moment its corpus stage is launched, before the
        // stage's thread starts: the build meets the request at its first cancellation check, whatever
        // the speed of the machine. (Stopping in the middle of the scan is CorpusBuilderTests' part.)
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage())
        let store = try project.store()
        let preparation = RunPreparation(store: store, registry: project.registry)
        let (recipe, plans) = try preparation.plan(recipeFile: project.root.appendingPathComponent("recipes/r.yaml"), variants: [], forcedStages: [])
        let run = try preparation.createRuns(plans, recipe: recipe)[0]
        let cancellation = CancellationFlag()
        let executor = CancelledAtLaunchExecutor(registry: project.registry, runnerCancellation: cancellation)
        let runner = Runner(store: store, executor: executor, reporter: QuietReporter(), cancellation: cancellation,
                            options: Runner.Options(jobs: 2, gracePeriod: 5, pollInterval: 0.01))
        let statuses = try runner.execute([run])
        #expect(executor.launches == 1)
        #expect(statuses[run.id] == .cancelled)
        let stage = try #require(try store.stage(run: run.id, name: "corpus"))
        #expect(stage.status == .cancelled)
        #expect(!store.layout.isCached(stage.fingerprint))
        let log = try project.log(run.id, "corpus")
        #expect(log.contains("building the corpus of core, orbit, fractal"), "the build had started: \(log)")
        #expect(log.contains("cancelled: "), "\(log)")
    }

    @Test func badCorpusParametersAreRefusedWithTheirLocation() throws {
        try project.write("recipes/r.yaml", """
            stages:
              corpus:
                kind: corpus
                params:
                  tiers:
                    - {name: core, paths: [books/core, books/missing]}
                    - {name: orbit, path: [books/orbit]}
                  scene_max_char: 2000
                  validation_fraction: 1.5
                  shingle_words: 0
              other:
                kind: corpus
                params:
                  tiers: {core: [books/core]}
            """)
        let root = project.root.standardizedFileURL.path
        let errors = try project.recipeErrors("recipes/r.yaml").replacingOccurrences(of: root + "/", with: "").components(separatedBy: "\n")
        #expect(errors.contains("recipes/r.yaml:6:44: stages.corpus.params.tiers[0].paths[1]: no such file or directory: books/missing (looked in \(root))"))
        #expect(errors.contains("recipes/r.yaml:7:25: stages.corpus.params.tiers[1].path: unknown key — did you mean tiers[1].paths?"))
        #expect(errors.contains("recipes/r.yaml:7:11: stages.corpus.params.tiers[1]: missing required key 'tiers[1].paths' (a list of paths: files, directories (walked recursively) and patterns (books/*.fb2, books/**/*.epub) of this tier, relative to the project directory; their content enters the fingerprint)"))
        #expect(errors.contains("recipes/r.yaml:8:7: stages.corpus.params.scene_max_char: unknown key — did you mean scene_max_chars?"))
        #expect(errors.contains("recipes/r.yaml:9:28: stages.corpus.params.validation_fraction: 1.5 is out of range: must be ≥ 0 and ≤ 0.99"))
        #expect(errors.contains("recipes/r.yaml:10:22: stages.corpus.params.shingle_words: 0 is out of range: must be ≥ 1 and ≤ 16"))
        #expect(errors.contains("recipes/r.yaml:14:14: stages.other.params.tiers: expected a list of maps with keys name, paths, got a map"))
    }

    @Test func aBadTierNameFailsTheStageWithTheCorpusMessage() throws {
        try project.write("recipes/r.yaml", "stages:\n  corpus: {kind: corpus, params: {tiers: [{name: Core, paths: [books/core]}]}}\n")
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .failed)
        #expect(project.error(result.id, "corpus")
            == "invalid tier: 'Core': a tier name is lower-case letters, digits, '-' or '_', starting with a letter")
    }
}

/// Runs attempts in process like `InProcessExecutor`, except that each attempt is asked to stop before
/// its thread starts, and the run with it (as Ctrl-C does): the stage meets the request at its own
/// first cancellation check, so nothing depends on how fast either thread runs.
private final class CancelledAtLaunchExecutor: StageExecutor, @unchecked Sendable {
    private let driver: StageDriver
    private let runnerCancellation: CancellationFlag
    private let lock = NSLock()
    private var launchCount = 0

    init(registry: StageKindRegistry, runnerCancellation: CancellationFlag) {
        driver = StageDriver(registry: registry, role: .loom, childrenJoinProcessGroup: false, heartbeatInterval: 0.1)
        self.runnerCancellation = runnerCancellation
    }

    var launches: Int { lock.withLock { launchCount } }

    func start(_ launch: StageLaunch) throws -> any StageExecution {
        lock.withLock { launchCount += 1 }
        let store = try RunStore(home: launch.invocation.home)
        let own = launch.invocation
        let invocation = StageInvocation(home: own.home, run: own.run, stage: own.stage, attempt: own.attempt, force: own.force, parentPID: nil)
        let execution = CancelledExecution()
        execution.cancel()
        runnerCancellation.cancel(reason: "test: cancelled as the stage started")
        let driver = driver
        Thread.detachNewThread {
            execution.finish(driver.execute(invocation, store: store, cancellation: execution.cancellation))
        }
        return execution
    }
}

private final class CancelledExecution: StageExecution, @unchecked Sendable {
    let cancellation = CancellationFlag()
    private let lock = NSLock()
    private var outcome: StageOutcome?

    func finish(_ outcome: StageOutcome) { lock.withLock { self.outcome = outcome } }

    var pid: Int32? { getpid() }
    func poll() -> ChildExit? { lock.withLock { outcome.map { .exited($0.exitCode) } } }
    func cancel() { cancellation.cancel(reason: "cancelled by the runner") }
    func kill() { cancel() }
}

private final class QuietReporter: RunReporter {
    func note(_ line: String) {}
    func active(_ stages: [ActiveStage]) {}
    func finish() {}
}
