// TestProject — a scratch project (pipelines/, recipes/, a store in runs/) and helpers to plan and run
// its recipes in-process with the fake kinds.
import Foundation
import Pipeline
import TestSupport

final class TestProject {
    let files: ScratchProject
    let registry: StageKindRegistry
    /// Stages record through report files that the runner ingests (the Slurm route) instead of the store.
    let reportFiles: Bool
    var root: URL { files.root }
    var home: URL { root.appendingPathComponent("runs") }

    init(registry: StageKindRegistry = testRegistry(), reportFiles: Bool = false) throws {
        files = try ScratchProject("loom-pipeline")
        self.registry = registry
        self.reportFiles = reportFiles
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> URL { try files.write(relative, text) }

    func read(_ relative: String) -> String? { files.read(relative) }

    func store() throws -> RunStore { try RunStore(home: home) }

    func load(_ recipe: String) throws -> Recipe {
        try RecipeLoader(registry: registry).load(root.appendingPathComponent(recipe))
    }

    /// The errors loading `recipe` reports (empty if it loads).
    func errors(_ recipe: String, variants: [String] = []) -> [RecipeError] {
        do {
            let loaded = try load(recipe)
            _ = try Planner(digester: FileDigester(storage: nil)).plans(for: loaded, variants: variants)
            return []
        } catch let list as RecipeErrorList {
            return list.errors
        } catch {
            return [RecipeError("\(error)", at: nil)]
        }
    }

    func plans(_ recipe: String, variants: [String] = [], store: RunStore? = nil) throws -> [Plan] {
        try Planner(digester: FileDigester(storage: store)).plans(for: try load(recipe), variants: variants)
    }

    /// Plans, records and runs a recipe with the in-process executor.
    @discardableResult
    func run(_ recipe: String, variants: [String] = [], force: [String] = [], jobs: Int = 1,
             cancellation: CancellationFlag = CancellationFlag(), reporter: CollectingReporter = CollectingReporter()) throws -> RunResult {
        let store = try store()
        let preparation = RunPreparation(store: store, registry: registry)
        let (loaded, plans) = try preparation.plan(recipeFile: root.appendingPathComponent(recipe), variants: variants, forcedStages: force)
        let runs = try preparation.createRuns(plans, recipe: loaded)
        let statuses = try runner(store: store, jobs: jobs, cancellation: cancellation, reporter: reporter)
            .execute(runs, forcedStages: Set(force))
        return RunResult(ids: runs.map(\.id), statuses: statuses, lines: reporter.lines)
    }

    func resume(_ run: Int64, jobs: Int = 1, reporter: CollectingReporter = CollectingReporter()) throws -> RunStatus? {
        let store = try store()
        let scheduled = try RunPreparation(store: store, registry: registry).prepareResume(run, executor: executor())
        return try runner(store: store, jobs: jobs, cancellation: CancellationFlag(), reporter: reporter).execute([scheduled])[run]
    }

    func runner(store: RunStore, jobs: Int, cancellation: CancellationFlag, reporter: CollectingReporter) -> Runner {
        Runner(store: store, executor: executor(), reporter: reporter,
               cancellation: cancellation, options: Runner.Options(jobs: jobs, gracePeriod: 5, pollInterval: 0.01, displayInterval: 0.05))
    }

    func executor() -> InProcessExecutor {
        InProcessExecutor(registry: registry, heartbeatInterval: 0.1, reportFiles: reportFiles)
    }

    /// Lines of executions.log: "stage variant attempt" per execution.
    var executions: [String] {
        (read("executions.log") ?? "").split(separator: "\n").map(String.init)
    }

    func executedStages() -> [String] { executions.map { String($0.split(separator: " ")[0]) } }
}

struct RunResult {
    let ids: [Int64]
    let statuses: [Int64: RunStatus]
    let lines: [String]

    var id: Int64 { ids[0] }
    var status: RunStatus? { statuses[ids[0]] }
}

final class CollectingReporter: RunReporter {
    private(set) var lines: [String] = []
    private(set) var activeSnapshots: [[ActiveStage]] = []

    func note(_ line: String) { lines.append(line) }
    func active(_ stages: [ActiveStage]) { if !stages.isEmpty { activeSnapshots.append(stages) } }
    func finish() {}
}
