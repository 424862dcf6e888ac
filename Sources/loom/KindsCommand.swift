// `loom kinds [KIND]` — the stage kinds this Loom knows, and each kind's parameters: type, default,
// range and documentation (the schema recipes are validated against).
import ArgumentParser
import Foundation
import Pipeline
import Report
import Stages

struct KindsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kinds",
        abstract: "List stage kinds, or one kind's parameters.",
        discussion: "Examples: loom kinds;  loom kinds command;  loom kinds --json")

    @Argument(help: "A kind to describe in full.")
    var kind: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        try Output.guarded {
            let registry = StageCatalog.registry()
            var descriptors = registry.allDescriptors
            if let kind {
                guard let descriptor = registry.descriptor(named: kind) else {
                    throw CLIError("unknown stage kind '\(kind)'\(NearestName.hint(for: kind, among: registry.kindNames)) (kinds: \(registry.kindNames.joined(separator: ", ")))")
                }
                descriptors = [descriptor]
            }
            if json {
                Output.printJSON(.object(["kinds": .array(descriptors.map { descriptor in
                    .object(["name": .string(descriptor.name), "version": .int(descriptor.version),
                             "executable": .string(descriptor.executable.rawValue), "summary": .string(descriptor.summary),
                             "params": .array(Self.rows(descriptor.schema).map { row in
                                 .object(["key": .string(row.key), "type": .string(row.type), "default": .string(row.preset),
                                          "doc": .string(row.doc)])
                             })])
                })]))
                return
            }
            var text = ""
            if kind == nil {
                var table = TextTable(header: ["kind", "version", "runs in", "summary"])
                for descriptor in descriptors {
                    table.add([descriptor.name, String(descriptor.version), descriptor.executable.rawValue, descriptor.summary])
                }
                text = table.render() + "\n(loom kinds KIND shows a kind's parameters)\n"
            }
            for descriptor in descriptors where kind != nil {
                text += "\(descriptor.name) v\(descriptor.version) (runs in \(descriptor.executable.rawValue) exec-stage): \(descriptor.summary)\n\n"
                var table = TextTable(header: ["param", "type", "default", "doc"])
                for row in Self.rows(descriptor.schema) { table.add([row.key, row.type, row.preset, row.doc]) }
                text += table.render(indent: "  ")
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    struct Row {
        let key: String
        let type: String
        let preset: String
        let doc: String
    }

    /// Every key, sections flattened (`lora.rank`); a list of sections lists its item keys too (`tiers[].name`).
    static func rows(_ schema: ParamSchema, prefix: String = "") -> [Row] {
        schema.specs.flatMap { spec -> [Row] in
            let key = prefix + spec.key
            if case .section(let nested) = spec.type { return rows(nested, prefix: key + ".") }
            var items: [Row] = []
            if case .list(.section(let nested)) = spec.type { items = rows(nested, prefix: key + "[].") }
            let preset: String
            switch spec.presence {
            case .required: preset = "required"
            case .optional: preset = "-"
            case .defaulted(let value): preset = value.canonicalJSON
            }
            let range = spec.range.map { " (\($0.description))" } ?? ""
            let fingerprint = spec.fingerprinted ? "" : " (not in the fingerprint: a cached result is reused whatever its value)"
            return [Row(key: key, type: spec.type.description, preset: preset, doc: spec.doc + range + fingerprint)] + items
        }
    }
}
