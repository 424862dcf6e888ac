// `loom resume RUN` — re-execute a run's failed, cancelled and stale stages and everything after them,
// reusing what succeeded. The run keeps its plan: a changed recipe does not change a resumed run. It
// resumes with the executor it ran with unless `--executor` says otherwise; under Slurm, jobs still
// queued or running are re-attached to, not submitted again.
import ArgumentParser
import Foundation
import Pipeline

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish an interrupted or failed run: rerun what did not complete, keep what did.",
        discussion: "Example: loom resume 7   (or `loom resume latest`, `loom resume demo/core`, `loom resume 7 --executor slurm`)")

    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("The run: an id, `latest`, or RECIPE/VARIANT for its latest run.", valueName: "run"))
    var runReference: String

    @OptionGroup var execution: ExecutorOptions

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            let record = try store.resolveRun(runReference)
            guard let choice = execution.executor ?? ExecutorChoice(rawValue: record.executor) else {
                throw CLIError("run \(record.id) was run by an executor this loom does not know ('\(record.executor)'): pass --executor local or slurm")
            }
            let (executor, jobs) = try StageRunning.executor(choice, options: execution, store: store, plans: [try store.plan(ofRun: record.id)])
            let scheduled = try RunPreparation(store: store, registry: StageKindRegistry()).prepareResume(record.id, executor: executor)
            let statuses = try StageRunning.execute([scheduled], store: store, executor: executor, jobs: jobs, forcedStages: [])
            try StageRunning.exit(for: statuses)
        }
    }
}
