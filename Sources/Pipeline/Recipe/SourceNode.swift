// SourceNode — a YAML document as a tree that remembers where each key and value was written, so that
// recipes can be merged (`extends:`, variants) and still report errors at the right file:line:column.
import Foundation
import LoomCore
import Yams

public struct SourceNode: Sendable {
    public enum ScalarKind: Sendable, Equatable {
        case string, int, float, bool, null
    }

    public enum Value: Sendable {
        case scalar(String, ScalarKind)
        case mapping([SourceEntry])
        case sequence([SourceNode])
    }

    public let value: Value
    public let location: SourceLocation
    /// The dotted path from its own document's root (`params.train.lora`), kept through merges so an
    /// error names the key as it is written in the file that wrote it.
    public let keyPath: String

    public init(_ value: Value, at location: SourceLocation, keyPath: String) {
        self.value = value
        self.location = location
        self.keyPath = keyPath
    }

    public var isNull: Bool {
        if case .scalar(_, .null) = value { return true }
        return false
    }

    public var entries: [SourceEntry]? {
        if case .mapping(let entries) = value { return entries }
        return nil
    }

    public var items: [SourceNode]? {
        if case .sequence(let items) = value { return items }
        return nil
    }

    /// The scalar's text when it is a non-null scalar (numbers and booleans included, as written).
    public var scalarText: String? {
        if case .scalar(let text, let kind) = value, kind != .null { return text }
        return nil
    }

    public func entry(_ key: String) -> SourceEntry? { entries?.first { $0.key == key } }

    public subscript(key: String) -> SourceNode? { entry(key)?.value }

    /// How the value reads in an error message ("\"eight\"", "a list", "a map").
    public var shortDescription: String {
        switch value {
        case .scalar(let text, .string): "\"\(text)\""
        case .scalar(let text, _): text.isEmpty ? "null" : text
        case .mapping: "a map"
        case .sequence: "a list"
        }
    }
}

public struct SourceEntry: Sendable {
    public let key: String
    public let keyLocation: SourceLocation
    public let value: SourceNode

    public init(key: String, keyLocation: SourceLocation, value: SourceNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}

// MARK: loading

extension SourceNode {
    /// Parses one YAML file. `displayPath` is how errors name the file.
    public static func load(contentsOf url: URL, displayPath: String) throws -> SourceNode {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RecipeError("cannot read file: \(SourceNode.reason(error))", at: nil, keyPath: displayPath)
        }
        if let problem = UTF8Validation.problem(in: data) {
            throw RecipeError("cannot read file: \(problem)", at: nil, keyPath: displayPath)
        }
        return try parse(String(decoding: data, as: UTF8.self), displayPath: displayPath)
    }

    public static func parse(_ text: String, displayPath: String) throws -> SourceNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw yamlError(error, file: displayPath)
        }
        guard let root else {
            throw RecipeError("the file is empty (expected a map of keys)", at: SourceLocation(file: displayPath, line: 1, column: 1))
        }
        return try convert(root, file: displayPath, keyPath: "")
    }

    private static func convert(_ node: Node, file: String, keyPath: String) throws -> SourceNode {
        let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        switch node {
        case .scalar(let scalar):
            return SourceNode(.scalar(scalar.string, scalarKind(of: node)), at: location, keyPath: keyPath)
        case .sequence(let sequence):
            let items = try sequence.enumerated().map { try convert($1, file: file, keyPath: "\(keyPath)[\($0)]") }
            return SourceNode(.sequence(items), at: location, keyPath: keyPath)
        case .alias:
            throw RecipeError("unresolved alias", at: location)
        case .mapping(let mapping):
            var entries: [SourceEntry] = []
            for (keyNode, valueNode) in mapping {
                let keyLocation = SourceLocation(file: file, line: keyNode.mark?.line ?? location.line, column: keyNode.mark?.column ?? location.column)
                guard case .scalar(let keyScalar) = keyNode else {
                    throw RecipeError("keys must be plain words, not lists or maps", at: keyLocation)
                }
                let childPath = keyPath.isEmpty ? keyScalar.string : "\(keyPath).\(keyScalar.string)"
                let value = try convert(valueNode, file: file, keyPath: childPath)
                if keyScalar.string == "<<" {
                    // YAML merge key: `<<: *defaults` copies the anchored map's entries that are not set here.
                    try mergeKeyEntries(value, at: keyLocation, into: &entries)
                    continue
                }
                entries.removeAll { $0.key == keyScalar.string }
                entries.append(SourceEntry(key: keyScalar.string, keyLocation: keyLocation, value: value))
            }
            return SourceNode(.mapping(entries), at: location, keyPath: keyPath)
        }
    }

    private static func mergeKeyEntries(_ value: SourceNode, at location: SourceLocation, into entries: inout [SourceEntry]) throws {
        let sources: [SourceNode] = value.items ?? [value]
        for source in sources {
            guard let merged = source.entries else {
                throw RecipeError("'<<' needs a map (or a list of maps) to merge", at: location)
            }
            for entry in merged where !entries.contains(where: { $0.key == entry.key }) {
                entries.append(entry)
            }
        }
    }

    private static func scalarKind(of node: Node) -> ScalarKind {
        switch node.tag.rawValue {
        case Tag.Name.int.rawValue: .int
        case Tag.Name.float.rawValue: .float
        case Tag.Name.bool.rawValue: .bool
        case Tag.Name.null.rawValue: .null
        default: .string
        }
    }

    private static func yamlError(_ error: YamlError, file: String) -> RecipeError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return RecipeError("invalid YAML: \(problem)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return RecipeError(
                "duplicate key \(duplicates.sorted().joined(separator: ", "))",
                at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column))
        default:
            return RecipeError("invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        let wrapsSystemError = (nsError.userInfo[NSUnderlyingErrorKey] as? NSError)?.domain == NSPOSIXErrorDomain
        if !wrapsSystemError, nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        return SystemErrorText.reason(error)
    }
}

// MARK: merging

extension SourceNode {
    /// `override` laid over `base`: maps merge key by key, recursively; anything else is replaced.
    /// A null in `override` removes the key, bringing back the default (`lora: ~`).
    public static func merge(_ base: SourceNode?, _ override: SourceNode) -> SourceNode {
        guard let base, let baseEntries = base.entries, let overrideEntries = override.entries else {
            return override
        }
        var merged = baseEntries
        for entry in overrideEntries {
            let index = merged.firstIndex { $0.key == entry.key }
            if entry.value.isNull {
                if let index { merged.remove(at: index) }
                continue
            }
            if let index {
                merged[index] = SourceEntry(
                    key: entry.key, keyLocation: entry.keyLocation, value: merge(merged[index].value, entry.value))
            } else {
                merged.append(entry)
            }
        }
        return SourceNode(.mapping(merged), at: override.location, keyPath: override.keyPath)
    }
}
