// StagesProject — a scratch Loom project whose recipes are planned and run in-process with a registry
// of real kinds (the torch-free catalog by default; ModelStagesTests pass the model kinds' registry),
// real files and a real SQLite store, and what the stage tests read back: cache entries, metrics,
// logs, and the errors a recipe is refused with.
import Foundation
import LoomCore
import Pipeline
import Stages
import TestSupport
import Testing

public final class StagesProject {
    public let files: ScratchProject
    public let registry: StageKindRegistry
    public var root: URL { files.root }

    public init(registry: StageKindRegistry = StageCatalog.registry()) throws {
        files = try ScratchProject("loom-stages")
        self.registry = registry
    }

    @discardableResult
    public func write(_ relative: String, _ text: String) throws -> URL { try files.write(relative, text) }

    public func read(_ relative: String) -> String? { files.read(relative) }

    /// Copies a fixture file or directory to `relative` in the project.
    public func copyFixture(_ fixture: String, to relative: String) throws {
        let destination = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TestPaths.fixture(fixture), to: destination)
    }

    /// The fixture fortunes as three tiers: books/core (man_and_woman), books/orbit (lovers),
    /// books/fractal (2001.06).
    public func addFortuneTiers() throws {
        try copyFixture("stages/man_and_woman", to: "books/core/man_and_woman")
        try copyFixture("stages/lovers", to: "books/orbit/lovers")
        try copyFixture("stages/2001.06", to: "books/fractal/2001.06")
    }

    /// A `corpus` stage named `name` over the three fortune tiers, as recipe YAML under `stages:`.
    public static func corpusStage(named name: String = "corpus") -> String {
        """
          \(name):
            kind: corpus
            params:
              tiers:
                - {name: core, paths: [books/core]}
                - {name: orbit, paths: [books/orbit]}
                - {name: fractal, paths: [books/fractal]}

        """
    }

    public func store() throws -> RunStore { try RunStore(home: root.appendingPathComponent("runs")) }

    /// Plans every variant of a recipe, as `loom run --dry-run` does.
    public func plans(_ recipe: String) throws -> [Plan] {
        let preparation = RunPreparation(store: try store(), registry: registry)
        return try preparation.plan(recipeFile: root.appendingPathComponent(recipe), variants: [], forcedStages: []).1
    }

    /// The errors a recipe is refused with, one per line (empty when it is valid).
    public func recipeErrors(_ recipe: String) throws -> String {
        do {
            _ = try plans(recipe)
            return ""
        } catch let errors as RecipeErrorList {
            return errors.description
        }
    }

    public func run(_ recipe: String, cancellation: CancellationFlag = CancellationFlag()) throws -> (id: Int64, status: RunStatus?) {
        let store = try store()
        let preparation = RunPreparation(store: store, registry: registry)
        let (loaded, plans) = try preparation.plan(recipeFile: root.appendingPathComponent(recipe), variants: [], forcedStages: [])
        let runs = try preparation.createRuns(plans, recipe: loaded)
        let runner = Runner(store: store, executor: InProcessExecutor(registry: registry, heartbeatInterval: 0.1),
                            reporter: SilentReporter(), cancellation: cancellation,
                            options: Runner.Options(jobs: 2, gracePeriod: 5, pollInterval: 0.01))
        let statuses = try runner.execute(runs)
        return (runs[0].id, statuses[runs[0].id])
    }

    /// The cache entry (output directory) of a stage of a run.
    public func outputDirectory(_ run: Int64, _ stage: String) throws -> URL {
        let store = try store()
        let record = try #require(try store.stage(run: run, name: stage), "run \(run) has no stage \(stage)")
        return store.layout.cacheEntry(record.fingerprint)
    }

    public func output(_ run: Int64, _ stage: String, _ file: String) throws -> String? {
        try? String(contentsOf: outputDirectory(run, stage).appendingPathComponent(file), encoding: .utf8)
    }

    /// A stage's metrics at their last step, by key.
    public func metrics(_ run: Int64, _ stage: String) throws -> [String: Double] {
        var values: [String: Double] = [:]
        for metric in try store().finalMetrics(ofRun: run) where metric.stage == stage { values[metric.key] = metric.value }
        return values
    }

    /// The error a stage failed with (nil when it did not fail or the store cannot be read).
    public func error(_ run: Int64, _ stage: String) -> String? {
        (try? store().stage(run: run, name: stage))??.error
    }

    public func log(_ run: Int64, _ stage: String, attempt: Int = 1) throws -> String {
        try String(contentsOf: try store().layout.logFile(run: run, stage: stage, attempt: attempt), encoding: .utf8)
    }
}

final class SilentReporter: RunReporter {
    public func note(_ line: String) {}
    public func active(_ stages: [ActiveStage]) {}
    public func finish() {}
}
