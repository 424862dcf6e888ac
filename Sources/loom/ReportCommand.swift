// `loom report RUN… --out report.html` — one self-contained HTML page comparing runs: the findings,
// where cached stages came from, params that differ, final metrics with the base model's, ablations,
// smoothed loss curves, eval bars, the saturation curves and generations side by side.
import ArgumentParser
import Foundation
import Pipeline
import Report
import Stages

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report comparing runs: findings, metrics, ablations, loss curves, eval bars, saturation, generations.",
        discussion: """
            A run is an id, `latest`, RECIPE/VARIANT (its latest run) or RECIPE (the latest run of each variant). \
            The page is one file with inline CSS, SVG and one small script (the smoothing slider of the loss curves; \
            the page reads fully without it), nothing fetched. It is replaced atomically.
            Examples: loom report demo --out demo.html;  loom report 4 5 6 --out runs-4-6.html
            """)

    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("Runs to report on: ids, latest, RECIPE or RECIPE/VARIANT.", valueName: "runs"))
    var runs: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write.", valueName: "file"))
    var out = "report.html"

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            let records = try store.resolveRuns(runs)
            let url = URL(fileURLWithPath: out).standardizedFileURL
            let bytes: Int
            let report: RunReport
            do {
                report = try RunReport(store: store, runs: records, goals: MetricGoals(registry: StageCatalog.registry()))
                bytes = try HTMLReport.write(report, to: url)
            } catch let error as ReportError {
                throw CLIError(error.description)
            }
            for index in report.runsWithoutMetrics {
                Output.printError("loom: warning: run \(records[index].id) (\(records[index].label), \(records[index].status.rawValue)) recorded no metrics")
            }
            print("wrote \(out) (\(records.count) run\(records.count == 1 ? "" : "s"), \(ShowCommand.bytes(Int64(bytes))))")
        }
    }
}
