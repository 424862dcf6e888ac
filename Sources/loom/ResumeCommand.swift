// `loom resume RUN` — re-execute a run's failed, cancelled and stale stages and everything after them,
// reusing what succeeded. The run keeps its plan: a changed recipe does not change a resumed run.
import ArgumentParser
import Foundation
import Pipeline

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish an interrupted or failed run: rerun what did not complete, keep what did.",
        discussion: "Example: loom resume 7   (or `loom resume latest`, `loom resume demo/core`)")

    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("The run: an id, `latest`, or RECIPE/VARIANT for its latest run.", valueName: "run"))
    var runReference: String

    @Option(name: [.short, .long], help: "Stages to execute at once.")
    var jobs: Int = 1

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            let record = try store.resolveRun(runReference)
            let scheduled = try RunPreparation(store: store, registry: StageKindRegistry()).prepareResume(record.id)
            let statuses = try StageRunning.execute([scheduled], store: store, jobs: jobs, forcedStages: [])
            try StageRunning.exit(for: statuses)
        }
    }
}
