// RunPreparation — what happens before the runner starts: load and plan a recipe and record its runs
// (`loom run`), or check that a run may be resumed and put its unfinished stages back to `pending`
// (`loom resume`): failed, cancelled, stale (left `running` by a process that died) and those whose
// cache entry has disappeared. A stage left running as a batch job is re-attached to when the executor
// finds it still queued or running.
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

    public func createRuns(_ plans: [Plan], recipe: Recipe, executor: String = "local") throws -> [ScheduledRun] {
        let commit = GitInfo.headCommit(near: recipe.file.deletingLastPathComponent())
        let ids = try store.createRuns(plans, gitCommit: commit, executor: executor)
        return zip(ids, plans).map { ScheduledRun(id: $0, plan: $1) }
    }

    /// Checks that run `runID` may be resumed with `executor` and puts what did not complete back to
    /// `pending`; its attempts still queued or running as batch jobs are re-attached to instead.
    public func prepareResume(_ runID: Int64, executor: any StageExecutor) throws -> ScheduledRun {
        guard let run = try store.run(runID) else { throw RunStoreError.unknownRun(String(runID)) }
        if run.status == .running, let pid = run.runnerPID, run.runnerHost == ProcessState.hostName,
           pid != ProcessState.currentPID, ProcessState.isAlive(pid) {
            throw ResumeError("run \(runID) is still being run by pid \(pid); stop it (Ctrl-C) or wait for it")
        }
        let plan = try store.plan(ofRun: runID)
        let layout = store.layout
        var resets: [(String, String)] = []
        var attached: [String: any StageExecution] = [:]
        for left in try store.stages(ofRun: runID) {
            var stage = left
            if stage.status == .running, stage.jobID != nil {
                if let execution = try executor.reattach(stage, of: plan) {
                    attached[stage.name] = execution
                    continue
                }
                // What the job reported while no runner watched it is recorded now.
                stage = try store.stage(run: runID, name: stage.name) ?? stage
            }
            switch stage.status {
            case .running:
                guard let stale = stage.staleReason() else {
                    if let jobID = stage.jobID {
                        throw ResumeError("stage \(stage.name) of run \(runID) is Slurm job \(jobID), which may still be running: resume with `--executor slurm` to re-attach to it, or `scancel \(jobID)` first")
                    }
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
        try store.claimRun(runID, executor: executor.name)
        let notes = resets.map { "\($0.0) (\($0.1))" } + attached.keys.sorted().map { "\($0) (re-attached to its job)" }
        try store.addEvent(run: runID, stage: nil, kind: "resumed",
                           message: "resumed by pid \(ProcessState.currentPID)" + (notes.isEmpty ? "" : ": " + notes.joined(separator: ", ")))
        return ScheduledRun(id: runID, plan: plan, attached: attached)
    }
}

public struct ResumeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
