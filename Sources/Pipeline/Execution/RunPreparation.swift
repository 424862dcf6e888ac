// RunPreparation — what happens before the runner starts: load and plan a recipe and record its runs
// (`loom run`), or check that a run may be resumed and put its unfinished stages back to `pending`
// (`loom resume`): failed, cancelled, stale (left `running` by a process that died) and those whose
// cache entry has disappeared.
import Foundation

public struct RunPreparation {
    public let store: RunStore
    public let registry: StageKindRegistry

    public init(store: RunStore, registry: StageKindRegistry) {
        self.store = store
        self.registry = registry
    }

    /// Loads, validates and fingerprints the recipe; `--force` names must be stages of it.
    public func plan(recipeFile: URL, variants: [String], forcedStages: [String]) throws -> (Recipe, [Plan]) {
        let recipe = try RecipeLoader(registry: registry).load(recipeFile)
        let plans = try Planner(digester: FileDigester(storage: store)).plans(for: recipe, variants: variants)
        let names = plans.first?.stages.map(\.name) ?? []
        let unknown = forcedStages.filter { !names.contains($0) }
        if !unknown.isEmpty {
            throw RecipeErrorList(unknown.map { name in
                RecipeError("--force \(name): unknown stage\(NearestName.hint(for: name, among: names)) (stages: \(names.joined(separator: ", ")))",
                            at: nil, keyPath: recipe.displayPath)
            })
        }
        return (recipe, plans)
    }

    public func createRuns(_ plans: [Plan], recipe: Recipe) throws -> [ScheduledRun] {
        let commit = GitInfo.headCommit(near: recipe.file.deletingLastPathComponent())
        let ids = try store.createRuns(plans, gitCommit: commit)
        return zip(ids, plans).map { ScheduledRun(id: $0, plan: $1) }
    }

    public func prepareResume(_ runID: Int64) throws -> ScheduledRun {
        guard let run = try store.run(runID) else { throw RunStoreError.unknownRun(String(runID)) }
        if run.status == .running, let pid = run.runnerPID, run.runnerHost == ProcessState.hostName,
           pid != ProcessState.currentPID, ProcessState.isAlive(pid) {
            throw ResumeError("run \(runID) is still being run by pid \(pid); stop it (Ctrl-C) or wait for it")
        }
        let plan = try store.plan(ofRun: runID)
        let layout = store.layout
        var resets: [(String, String)] = []
        for stage in try store.stages(ofRun: runID) {
            switch stage.status {
            case .running:
                guard let stale = stage.staleReason() else {
                    throw ResumeError("stage \(stage.name) of run \(runID) is still running (pid \(stage.pid.map(String.init) ?? "?") on \(stage.host ?? "?")); wait for it or stop it")
                }
                resets.append((stage.name, "stale: \(stale); its partial output is discarded"))
            case .failed, .cancelled:
                resets.append((stage.name, "resumed after \(stage.status.rawValue)"))
            case .succeeded, .cached:
                if !layout.isCached(stage.fingerprint) {
                    resets.append((stage.name, "its output is no longer in the cache"))
                }
            case .pending:
                break
            }
        }
        for (name, reason) in resets {
            try store.resetStage(run: runID, stage: name, reason: reason)
        }
        try store.claimRun(runID)
        try store.addEvent(run: runID, stage: nil, kind: "resumed",
                           message: "resumed by pid \(ProcessState.currentPID)" + (resets.isEmpty ? "" : ": " + resets.map { "\($0.0) (\($0.1))" }.joined(separator: ", ")))
        return ScheduledRun(id: runID, plan: plan)
    }
}

public struct ResumeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
