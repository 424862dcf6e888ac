// `loom runs` — every run, newest first (id, recipe, variant, status, times, commit).
import ArgumentParser
import Foundation
import Pipeline
import Report

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List runs, newest first.",
        discussion: "Examples: loom runs;  loom runs --recipe demo --limit 5;  loom runs --json")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Only runs of this recipe.")
    var recipe: String?

    @Option(name: .long, help: "At most this many runs.")
    var limit: Int?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            let runs = try store.runs(recipe: recipe, limit: limit)
            if json {
                Output.printJSON(.object(["runs": .array(runs.map { RunFormatting.json($0) })]))
                return
            }
            var table = TextTable(header: ["run", "recipe", "variant", "status", "created", "duration", "commit"], rightAligned: [0])
            for run in runs {
                table.add([String(run.id), run.recipe, run.variant.isEmpty ? "-" : run.variant, RunFormatting.status(run),
                           Output.date(run.createdAt), Output.duration(run.startedAt, run.finishedAt),
                           run.gitCommit.map { String($0.prefix(10)) } ?? "-"])
            }
            FileHandle.standardOutput.write(Data((runs.isEmpty ? "no runs yet\n" : table.render()).utf8))
        }
    }
}
