// CorpusCommand — `loom corpus`: builds a corpus from tiers of files with the same code as the `corpus`
// stage kind (Corpus.CorpusBuilder), shows progress and one warning line per reject on stderr, and
// prints the manifest summary as a table (the manifest itself with --json) on stdout.
import ArgumentParser
import Corpus
import Foundation

struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Turn tiers of books (txt, md, fb2, fb2.zip, epub, jsonl, fortune) into deduplicated scenes and train/validation shards.",
        discussion: """
            Tiers are given in priority order: text kept in an earlier tier is removed from later ones. \
            Repeat --tier to add paths to a tier. PATH is a file, a directory (walked recursively) or a quoted glob.

              loom corpus --tier core=books/core --tier orbit=books/orbit --tier 'fractal=books/more/*.fb2' --out corpus
            """)

    @Option(name: .customLong("tier"), help: ArgumentHelp("A tier and one of its inputs.", valueName: "NAME=PATH"))
    var tiers: [String] = []

    @Option(help: ArgumentHelp("Output directory (replaced atomically; must be new, empty or a previous corpus).", valueName: "DIR"))
    var out: String

    @Flag(help: "Print the manifest as JSON instead of a table.")
    var json = false

    @Flag(help: "Fail (exit 1, nothing written) if any input is rejected.")
    var strict = false

    @Option(help: "Longest scene in characters (code points).")
    var sceneMaxChars = CorpusOptions().sceneMaxChars

    @Option(help: "Share of each tier's documents held out for validation.")
    var validationFraction = CorpusOptions().validationFraction

    @Option(help: "Seed for MinHash and the train/validation split.")
    var seed = CorpusOptions().seed

    @Option(help: "Estimated Jaccard similarity at which a scene is a near duplicate (1 turns it off).")
    var nearDuplicateThreshold = CorpusOptions().nearDuplicateThreshold

    @Flag(help: "Lower-case all text.")
    var lowercase = false

    @Option(help: "Shard size in MiB.")
    var shardMb = CorpusOptions().shardBytes >> 20

    @Option(help: "Worker threads for reading, decoding and normalising (the default is this machine's core count).")
    var threads = CorpusOptions().threads

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        guard !tiers.isEmpty else { throw ValidationError("give at least one --tier NAME=PATH") }
        for tier in tiers {
            do { _ = try TierSpec(parsing: tier) } catch { throw ValidationError("--tier \(error)") }
        }
        guard (1...(1 << 20)).contains(shardMb) else { throw ValidationError("--shard-mb must be in 1...1048576, got \(shardMb)") }
        do {
            try options.validate()
        } catch CorpusError.invalidOption(let message) {
            throw ValidationError(Self.namingTheFlag(message))
        }
    }

    private var options: CorpusOptions {
        var options = CorpusOptions()
        options.sceneMaxChars = sceneMaxChars
        options.validationFraction = validationFraction
        options.seed = seed
        options.nearDuplicateThreshold = nearDuplicateThreshold
        options.lowercase = lowercase
        options.strict = strict
        options.shardBytes = shardMb << 20
        options.threads = threads
        return options
    }

    /// CorpusOptions names its fields (`validationFraction: expected …`); a person typed the flag.
    private static func namingTheFlag(_ message: String) -> String {
        let flags = ["sceneMaxChars": "--scene-max-chars", "validationFraction": "--validation-fraction",
                     "nearDuplicateThreshold": "--near-duplicate-threshold", "threads": "--threads"]
        guard let colon = message.firstIndex(of: ":"), let flag = flags[String(message[..<colon])] else { return message }
        return flag + message[colon...]
    }

    func run() throws {
        let specs = TierSpec.merging(try tiers.map(TierSpec.init(parsing:)))
        let progressLine = ProgressLine(enabled: !quiet)
        let manifest: CorpusManifest
        do {
            manifest = try CorpusBuilder(options: options).build(tiers: specs, output: URL(fileURLWithPath: out)) { event in
                switch event {
                case .progress(let progress):
                    progressLine.show(progress.line, phase: progress.phase.rawValue, final: progress.phase == .finished)
                case .rejected(let reject):
                    progressLine.warn("warning: \(reject.tier): \(reject.location): \(reject.reason)")
                }
            }
        } catch let error as CorpusError {
            progressLine.clear()
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(manifest), as: UTF8.self))
        } else {
            print(CorpusSummary.table(manifest, output: out))
        }
    }
}

/// The human summary of a manifest.
enum CorpusSummary {
    static func table(_ manifest: CorpusManifest, output: String) -> String {
        let header = ["tier", "files", "docs", "train", "valid", "scenes", "MB", "chars", "words", "dup exact", "dup near", "dup docs", "rejects"]
        func row(_ name: String, _ counts: CorpusCounts) -> [String] {
            [name, "\(counts.sourceFiles)", "\(counts.documents)", "\(counts.train.documents)", "\(counts.validation.documents)",
             "\(counts.scenes)", String(format: "%.2f", Double(counts.bytes) / 1_000_000), "\(counts.characters)", "\(counts.words)",
             "\(counts.duplicates.exactScenes)", "\(counts.duplicates.nearScenes)", "\(counts.duplicates.documents)", "\(counts.rejects)"]
        }
        let rows = [header] + manifest.tiers.map { row($0.name, $0.counts) } + [row("total", manifest.total)]
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { cells in
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
        lines.insert(lines[1], at: lines.count - 1)
        var text = "corpus \(output): \(manifest.shards.count) shard(s), documents.jsonl, manifest.json\n\n" + lines.joined(separator: "\n")
        let encodings = manifest.total.encodings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        if !encodings.isEmpty { text += "\n\nencodings: \(encodings)" }
        if !manifest.rejects.isEmpty {
            text += "\n\nrejected (\(manifest.rejects.count)):"
            for reject in manifest.rejects.prefix(50) { text += "\n  \(reject.tier): \(reject.location): \(reject.reason)" }
            if manifest.rejects.count > 50 { text += "\n  … and \(manifest.rejects.count - 50) more (see manifest.json)" }
        }
        if !manifest.skipped.isEmpty { text += "\n\nskipped: \(manifest.skipped.count) (fortune indexes, second paths to a file already read; see manifest.json)" }
        return text
    }
}
