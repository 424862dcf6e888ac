// `loom status [RUN]` — without RUN: runs in progress (or interrupted) and the latest ones; with RUN:
// its stages, live progress, and which are stale.
import ArgumentParser
import Foundation
import Pipeline

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show active and recent runs, or one run's stages.",
        discussion: "Examples: loom status;  loom status 7;  loom status latest --json")

    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("A run (id, `latest`, RECIPE or RECIPE/VARIANT); omit for an overview.", valueName: "run"))
    var runReference: String?

    @Option(name: .long, help: "How many recent runs the overview lists.")
    var limit = 10

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            if let runReference {
                let records = try store.resolveRuns(runReference)
                let detailed = try records.map { ($0, try store.stages(ofRun: $0.id)) }
                if json {
                    Output.printJSON(.object(["runs": .array(detailed.map { RunFormatting.json($0, stages: $1) })]))
                    return
                }
                var text = ""
                for (record, stages) in detailed {
                    text += "run \(record.id) \(record.label): \(RunFormatting.status(record)) · \(RunFormatting.stageCounts(stages)) · \(Output.duration(record.startedAt, record.finishedAt))\n"
                    text += RunFormatting.stageTable(stages)
                }
                FileHandle.standardOutput.write(Data(text.utf8))
                return
            }
            let recent = try store.runs(limit: limit)
            let detailed = try recent.map { ($0, try store.stages(ofRun: $0.id)) }
            if json {
                Output.printJSON(.object(["runs": .array(detailed.map { RunFormatting.json($0, stages: $1) })]))
                return
            }
            if recent.isEmpty {
                print("no runs yet (loom run RECIPE)")
                return
            }
            var text = ""
            let active = detailed.filter { $0.0.status == .running }
            if !active.isEmpty {
                text += "active\n"
                for (record, stages) in active {
                    text += "  run \(record.id) \(record.label): \(RunFormatting.status(record)) · \(RunFormatting.stageCounts(stages))\n"
                    for stage in stages where stage.status == .running {
                        let progress = stage.staleReason().map { "stale: \($0)" } ?? stage.progress?.summary ?? ""
                        let job = stage.jobID.map { "  slurm job \($0) \(stage.jobState ?? "")" } ?? ""
                        text += "    \(stage.name)  \(Output.duration(stage.startedAt, nil))\(job)  \(progress)\n"
                    }
                }
                text += "\n"
            }
            text += "recent\n"
            for (record, stages) in detailed {
                text += "  run \(record.id) \(record.label): \(RunFormatting.status(record)) · \(RunFormatting.stageCounts(stages)) · \(Output.date(record.createdAt))\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
