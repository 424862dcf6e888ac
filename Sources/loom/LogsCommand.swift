// `loom logs RUN STAGE` — the log of a stage attempt (the latest, or `--attempt N`): the stage
// process's own lines and everything its command or kind printed. `--follow` keeps printing while the
// stage runs.
import ArgumentParser
import Foundation
import Pipeline

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a stage's log (latest attempt by default).",
        discussion: "Examples: loom logs 7 train;  loom logs demo/core eval --attempt 1;  loom logs latest train -f")

    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("The run: an id, `latest`, or RECIPE/VARIANT.", valueName: "run"))
    var runReference: String

    @Argument(help: "The stage name.")
    var stage: String

    @Option(name: .long, help: "Which attempt (default: the latest).")
    var attempt: Int?

    @Flag(name: [.short, .long], help: "Keep printing new lines while the stage runs.")
    var follow = false

    func validate() throws {
        if let attempt, attempt < 1 { throw ValidationError("--attempt must be at least 1, got \(attempt)") }
    }

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            let record = try store.resolveRun(runReference)
            let stages = try store.stages(ofRun: record.id)
            guard var stageRecord = stages.first(where: { $0.name == stage }) else {
                throw RunStoreError.unknownStage(run: record.id, stage: stage, known: stages.map(\.name))
            }
            if stageRecord.status == .cached, attempt == nil, let source = stageRecord.sourceRunID, let sourceStage = stageRecord.sourceStage,
               let producer = try store.stage(run: source, name: sourceStage) {
                Output.printError("(\(stage) was cached in run \(record.id); this is the log of run \(source), which produced it)")
                stageRecord = producer
            }
            let chosen = attempt ?? stageRecord.attempt
            guard chosen >= 1 else { throw CLIError("stage \(stage) of run \(record.id) has not started yet") }
            let file = store.layout.logFile(run: stageRecord.runID, stage: stageRecord.name, attempt: chosen)
            guard let handle = FileHandle(forReadingAtPath: file.path) else {
                throw CLIError("no log for attempt \(chosen) of \(stage) in run \(record.id) (\(file.path))")
            }
            defer { try? handle.close() }
            while true {
                if let data = try handle.readToEnd(), !data.isEmpty { FileHandle.standardOutput.write(data) }
                guard follow else { return }
                let current = try store.stage(run: stageRecord.runID, name: stageRecord.name)
                // A stage whose process died (kill -9) stays `running` until resumed: nothing more will come.
                guard current?.status == .running, current?.attempt == chosen, current?.staleReason() == nil else {
                    if let rest = try handle.readToEnd(), !rest.isEmpty { FileHandle.standardOutput.write(rest) }
                    return
                }
                usleep(200_000)
            }
        }
    }
}
