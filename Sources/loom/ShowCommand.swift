// `loom show RUN` — one run in full: recipe, variant, commit, stages, parameters, final metrics,
// artifacts and the event history.
import ArgumentParser
import Foundation
import LoomCore
import Pipeline
import Report
import Stages

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one run: stages, parameters, final metrics, artifacts, events.",
        discussion: "Examples: loom show 7;  loom show demo/core --json")

    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("The run: an id, `latest`, or RECIPE/VARIANT.", valueName: "run"))
    var runReference: String

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            let record = try store.resolveRun(runReference)
            let stages = try store.stages(ofRun: record.id)
            let params = try store.params(ofRun: record.id)
            let metrics = try store.finalMetrics(ofRun: record.id)
            let artifacts = try store.artifacts(ofRun: record.id)
            let events = try store.events(ofRun: record.id)
            let goals = MetricGoals(registry: StageCatalog.registry())
            if json {
                var object = RunFormatting.json(record, stages: stages).objectValue!
                object["params"] = .object(Dictionary(grouping: params, by: \.stage).mapValues { group in
                    .object(Dictionary(uniqueKeysWithValues: group.map { ($0.key, (try? JSONValue.parse($0.value)) ?? .string($0.value)) }))
                })
                object["metrics"] = .array(metrics.map {
                    .object(["stage": .string($0.stage), "key": .string($0.key), "step": .int($0.step), "value": .double($0.value),
                             "goal": .string(goals.goal(for: $0.key).rawValue)])
                })
                object["artifacts"] = .object(Dictionary(uniqueKeysWithValues: artifacts.map { stage, files in
                    (stage, JSONValue.array(files.map {
                        .object(["name": .string($0.name), "path": .string($0.path), "sha256": .string($0.sha256), "bytes": .int(Int($0.bytes))])
                    }))
                }))
                object["cache"] = .object(Dictionary(uniqueKeysWithValues: stages.filter(\.status.isDone).map {
                    ($0.name, JSONValue.string(store.layout.cacheEntry($0.fingerprint).path))
                }))
                object["token_stores"] = .object(Dictionary(uniqueKeysWithValues: stages.filter(\.status.isDone).compactMap { stage in
                    Self.tokenStore(at: store.layout.cacheEntry(stage.fingerprint)).map { summary in
                        (stage.name, JSONValue.object(["bytes": .int(Int(summary.bytes)), "tokens": .int(summary.tokens),
                                                       "documents": .int(summary.documents), "dtype": .string(summary.dtype)]))
                    }
                }))
                object["events"] = .array(events.map {
                    .object(["time": .double($0.time), "stage": $0.stage.map(JSONValue.string) ?? .null, "kind": .string($0.kind), "message": .string($0.message)])
                })
                Output.printJSON(.object(object))
                return
            }
            var text = "run \(record.id) \(record.label) · \(RunFormatting.status(record))\n"
            text += "  recipe   \(record.recipeFile)\n"
            text += "  created  \(Output.date(record.createdAt)) · duration \(Output.duration(record.startedAt, record.finishedAt))\n"
            if let commit = record.gitCommit { text += "  commit   \(commit)\n" }
            text += "\nstages\n" + RunFormatting.stageTable(stages)
            text += "\nparams\n"
            var paramTable = TextTable(header: [])
            for param in params { paramTable.add([param.stage + "." + param.key, RunComparison.cell(RunComparison.display(param.value))]) }
            text += params.isEmpty ? "  (none)\n" : paramTable.render(indent: "  ")
            text += "\nfinal metrics\n"
            var metricTable = TextTable(header: ["stage", "metric", "step", "value", "goal"], rightAligned: [2, 3])
            for metric in metrics {
                metricTable.add([metric.stage, metric.key, String(metric.step), RunComparison.number(metric.value), goals.goal(for: metric.key).symbol])
            }
            text += metrics.isEmpty ? "  (none recorded)\n" : metricTable.render(indent: "  ")
            text += "\nartifacts\n"
            var artifactTable = TextTable(header: [])
            for (stage, files) in artifacts {
                guard let entry = stages.first(where: { $0.name == stage }), entry.status.isDone else { continue }
                for file in files {
                    artifactTable.add([stage, file.name == file.path ? file.path : "\(file.name) (\(file.path))",
                                       Self.bytes(file.bytes), String(file.sha256.prefix(12))])
                }
            }
            text += artifactTable.rows.isEmpty ? "  (none)\n" : artifactTable.render(indent: "  ")
            for stage in stages where stage.status.isDone {
                let entry = store.layout.cacheEntry(stage.fingerprint)
                text += "  \(stage.name): \(entry.path)\n"
                if let summary = Self.tokenStore(at: entry) {
                    text += "  \(stage.name): token store of \(summary.tokens) \(summary.dtype) tokens in \(summary.documents) books, \(Self.bytes(summary.bytes))\n"
                }
            }
            text += "\nevents\n"
            for event in events.suffix(20) {
                text += "  \(Output.date(event.time))  \(event.stage.map { "\($0): " } ?? "")\(event.message)\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// The size of the token store in `directory`, when it holds one (its header, records and book files).
    static func tokenStore(at directory: URL) -> (bytes: Int64, tokens: Int, documents: Int, dtype: String)? {
        guard let store = try? TokenStore(directory: directory) else { return nil }
        var bytes: Int64 = 0
        for name in [TokenStoreHeader.fileName, TokenStoreHeader.recordsFileName] + store.documents.map(\.file) {
            let size = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? NSNumber)
            bytes += size?.int64Value ?? 0
        }
        return (bytes, store.header.tokens, store.documents.count, store.header.dtype.rawValue)
    }

    static func bytes(_ count: Int64) -> String {
        let value = Double(count)
        if value >= 1_073_741_824 { return String(format: "%.1f GiB", value / 1_073_741_824) }
        if value >= 1_048_576 { return String(format: "%.1f MiB", value / 1_048_576) }
        if value >= 1024 { return String(format: "%.1f KiB", value / 1024) }
        return "\(count) B"
    }
}
