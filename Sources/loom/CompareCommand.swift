// `loom compare RUN…` — runs side by side: parameters that differ and final metrics, best marked.
import ArgumentParser
import Foundation
import Pipeline
import Report
import Stages

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare runs: parameters that differ, final metrics side by side, best marked.",
        discussion: """
            A run is an id, `latest`, RECIPE/VARIANT (its latest run) or RECIPE (the latest run of each variant).
            Examples: loom compare 4 5 6;  loom compare demo;  loom compare demo/core demo/core+orbit --json
            """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "Runs to compare.")
    var runs: [String]

    @Flag(name: .long, help: "Show parameters that are equal too.")
    var allParams = false

    @Flag(name: .long, help: "List the metrics of stages every run shares (equal in all) too.")
    var allMetrics = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run (an id, latest, RECIPE or RECIPE/VARIANT)") }
    }

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            let records = try store.resolveRuns(runs)
            let comparison = try RunComparison(store: store, runs: records, goals: MetricGoals(registry: StageCatalog.registry()),
                                               allParams: allParams)
            if json {
                Output.printJSON(comparison.json)
            } else {
                FileHandle.standardOutput.write(Data(comparison.renderText(allMetrics: allMetrics).utf8))
            }
        }
    }
}
