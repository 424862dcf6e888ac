// `loom gc` — delete cache entries no run references, work directories of fingerprints no run
// references, and leftovers of dead attempts (keeping resume checkpoints of unfinished stages).
import ArgumentParser
import Foundation
import Pipeline

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete cache entries and leftovers that no run references.",
        discussion: "Examples: loom gc --dry-run;  loom gc --json")

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "List what would be deleted; delete nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        try Output.guarded {
            let store = try store.openExistingStore()
            let result = try GarbageCollector(store: store).collect(dryRun: dryRun)
            if json {
                Output.printJSON(.object([
                    "dry_run": .bool(dryRun),
                    "removed": .array(result.removed.map { .object(["path": .string($0.path), "bytes": .int(Int($0.bytes)), "why": .string($0.why)]) }),
                    "bytes": .int(Int(result.bytes)),
                    "kept_cache_entries": .int(result.keptEntries),
                ]))
                return
            }
            var text = ""
            for item in result.removed {
                text += "\(dryRun ? "would remove" : "removed") \(item.path) (\(ShowCommand.bytes(item.bytes)), \(item.why))\n"
            }
            text += "\(dryRun ? "would free" : "freed") \(ShowCommand.bytes(result.bytes)) in \(result.removed.count) item(s); \(result.keptEntries) cache entries still referenced\n"
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
