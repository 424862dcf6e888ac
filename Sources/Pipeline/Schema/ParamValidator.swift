// ParamValidator — checks a stage's merged parameter tree against its kind's schema: unknown keys (with
// "did you mean"), types, ranges, choices, required keys, input paths that must exist. It applies
// defaults and returns the resolved values (absolute paths, for the stage) and the portable values
// (paths as written, for the fingerprint), plus every input path so its content can be digested.
import Foundation

/// An input path found in a stage's parameters.
public struct PathParam: Sendable, Hashable {
    /// Where in the parameters (`deps[0]`, `tiers.core`).
    public let keyPath: String
    /// As written in the recipe (relative to the project directory unless absolute).
    public let written: String
    /// Resolved against the project directory.
    public let absolute: String
    public let kind: PathKind

    public init(keyPath: String, written: String, absolute: String, kind: PathKind) {
        self.keyPath = keyPath
        self.written = written
        self.absolute = absolute
        self.kind = kind
    }
}

public struct ValidatedParams: Sendable {
    /// What the stage receives: defaults applied, paths absolute.
    public let resolved: JSONValue
    /// What the fingerprint hashes: defaults applied, paths as written (the project may move).
    public let portable: JSONValue
    public let paths: [PathParam]
}

public struct ParamValidator {
    public let projectDirectory: URL
    private(set) var errors: [RecipeError] = []
    private(set) var paths: [PathParam] = []

    public init(projectDirectory: URL) {
        self.projectDirectory = projectDirectory
    }

    /// Validates `node` (nil when the recipe sets nothing for the stage) against `schema`.
    /// `owner` locates errors about missing keys when there is no node to point at.
    public static func validate(
        _ node: SourceNode?, against schema: ParamSchema, owner: SourceNode, projectDirectory: URL
    ) -> Result<ValidatedParams, RecipeErrorList> {
        var validator = ParamValidator(projectDirectory: projectDirectory)
        let (resolved, portable) = validator.section(node, schema: schema, owner: owner, relativePath: "")
        if !validator.errors.isEmpty { return .failure(RecipeErrorList(validator.errors)) }
        return .success(ValidatedParams(resolved: resolved, portable: portable, paths: validator.paths))
    }

    // MARK: sections

    private mutating func section(
        _ node: SourceNode?, schema: ParamSchema, owner: SourceNode, relativePath: String
    ) -> (JSONValue, JSONValue) {
        var resolved: [String: JSONValue] = [:]
        var portable: [String: JSONValue] = [:]
        var entries: [SourceEntry] = []
        if let node, !node.isNull {
            guard let mapping = node.entries else {
                fail("expected a map of parameters, got \(node.shortDescription)", node)
                return (.object([:]), .object([:]))
            }
            entries = mapping
        }
        for entry in entries where schema.spec(entry.key) == nil {
            let relative = relativePath.isEmpty ? entry.key : "\(relativePath).\(entry.key)"
            errors.append(RecipeError(
                "unknown key\(unknownKeyHint(entry.key, relative: relative, schema: schema, relativePath: relativePath))",
                at: entry.keyLocation, keyPath: entry.value.keyPath))
        }
        for spec in schema.specs {
            let relative = relativePath.isEmpty ? spec.key : "\(relativePath).\(spec.key)"
            let entry = entries.first { $0.key == spec.key }
            if case .section(let nested) = spec.type {
                let (r, p) = section(entry?.value, schema: nested, owner: entry?.value ?? node ?? owner, relativePath: relative)
                resolved[spec.key] = r
                portable[spec.key] = p
                continue
            }
            if let entry, !entry.value.isNull {
                if let (r, p) = value(entry.value, spec: spec, type: spec.type, relative: relative) {
                    resolved[spec.key] = r
                    portable[spec.key] = p
                }
                continue
            }
            switch spec.presence {
            case .defaulted(let value):
                resolved[spec.key] = value
                portable[spec.key] = value
            case .optional:
                break
            case .required:
                let at = node ?? owner
                errors.append(RecipeError(
                    "missing required key '\(relative)' (\(spec.type)\(spec.doc.isEmpty ? "" : ": \(spec.doc)"))",
                    at: at.location, keyPath: at.keyPath))
            }
        }
        for spec in schema.specs where !spec.fingerprinted { portable[spec.key] = nil }
        return (.object(resolved), .object(portable))
    }

    /// Nearest sibling first; else the same word elsewhere in the schema (`rank` → `lora.rank`); else any key.
    private func unknownKeyHint(_ key: String, relative: String, schema: ParamSchema, relativePath: String) -> String {
        let prefix = relativePath.isEmpty ? "" : "\(relativePath)."
        if let sibling = NearestName.suggestion(for: key, among: schema.specs.map(\.key)) {
            return " — did you mean \(prefix)\(sibling)?"
        }
        let nested = schema.allKeyPaths.map { prefix + $0 }
        if let same = nested.first(where: { $0.hasSuffix(".\(key)") }) {
            return " — did you mean \(same)?"
        }
        if schema.specs.isEmpty { return " (this stage kind takes no parameters here)" }
        return " (valid keys: \(schema.specs.map(\.key).joined(separator: ", ")))"
    }

    // MARK: values

    private mutating func value(_ node: SourceNode, spec: ParamSpec, type: ParamType, relative: String) -> (JSONValue, JSONValue)? {
        switch type {
        case .string:
            guard let text = node.scalarText, node.entries == nil else { return mismatch(node, type) }
            return (.string(text), .string(text))
        case .int:
            guard case .scalar(let text, .int) = node.value, let integer = Int(text.replacingOccurrences(of: "_", with: "")) else {
                return mismatch(node, type)
            }
            return checkRange(.int(integer), Double(integer), node, spec)
        case .float:
            // YAML 1.1 reads `1e-4` (no dot) as a string; a number is what the person meant.
            guard case .scalar(let text, let kind) = node.value, kind == .int || kind == .float || kind == .string,
                  let number = Double(text.replacingOccurrences(of: "_", with: "")), number.isFinite else {
                return mismatch(node, type)
            }
            return checkRange(.double(number), number, node, spec)
        case .bool:
            guard case .scalar(let text, .bool) = node.value else { return mismatch(node, type) }
            let truth = ["true", "yes", "on", "y"].contains(text.lowercased())
            return (.bool(truth), .bool(truth))
        case .choice(let words):
            guard let text = node.scalarText else { return mismatch(node, type) }
            guard words.contains(text) else {
                fail("'\(text)' is not one of \(words.joined(separator: ", "))\(NearestName.hint(for: text, among: words))", node)
                return nil
            }
            return (.string(text), .string(text))
        case .list(let element):
            guard let items = node.items else {
                // A single value where a list is expected is the common shorthand (`deps: data.txt`).
                guard node.scalarText != nil else { return mismatch(node, type) }
                guard let (r, p) = value(node, spec: spec, type: element, relative: "\(relative)[0]") else { return nil }
                return (.array([r]), .array([p]))
            }
            var resolved: [JSONValue] = [], portable: [JSONValue] = []
            for (index, item) in items.enumerated() {
                if let (r, p) = value(item, spec: spec, type: element, relative: "\(relative)[\(index)]") {
                    resolved.append(r)
                    portable.append(p)
                }
            }
            return (.array(resolved), .array(portable))
        case .map(let element):
            guard let entries = node.entries else { return mismatch(node, type) }
            var resolved: [String: JSONValue] = [:], portable: [String: JSONValue] = [:]
            for entry in entries {
                if let (r, p) = value(entry.value, spec: spec, type: element, relative: "\(relative).\(entry.key)") {
                    resolved[entry.key] = r
                    portable[entry.key] = p
                }
            }
            return (.object(resolved), .object(portable))
        case .path(let kind):
            guard let text = node.scalarText, !text.isEmpty else { return mismatch(node, type) }
            guard let absolute = checkPath(text, kind: kind, node: node) else { return nil }
            paths.append(PathParam(keyPath: relative, written: text, absolute: absolute, kind: kind))
            return (.string(absolute), .string(text))
        case .any:
            let json = ParamValidator.anyValue(node)
            return (json, json)
        case .section(let nested):
            return section(node, schema: nested, owner: node, relativePath: relative)
        }
    }

    private mutating func checkRange(_ json: JSONValue, _ number: Double, _ node: SourceNode, _ spec: ParamSpec) -> (JSONValue, JSONValue)? {
        if let range = spec.range, !range.contains(number) {
            fail("\(node.scalarText ?? "value") is out of range: \(range.description)", node)
            return nil
        }
        return (json, json)
    }

    private mutating func mismatch(_ node: SourceNode, _ type: ParamType) -> (JSONValue, JSONValue)? {
        fail("expected \(type), got \(node.shortDescription)", node)
        return nil
    }

    private mutating func fail(_ message: String, _ node: SourceNode) {
        errors.append(RecipeError(message, at: node.location, keyPath: node.keyPath))
    }

    private mutating func checkPath(_ written: String, kind: PathKind, node: SourceNode) -> String? {
        let absolute = written.hasPrefix("/") ? written : projectDirectory.appendingPathComponent(written).standardizedFileURL.path
        let isPattern = kind == .glob || (kind == .any && PathPattern.hasWildcards(written))
        if isPattern {
            if (try? PathPattern.files(matching: absolute))?.isEmpty ?? true {
                fail("'\(written)' matches no files (looked in \(projectDirectory.path))", node)
                return nil
            }
            return absolute
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            fail("no such file or directory: \(written) (looked in \(projectDirectory.path))", node)
            return nil
        }
        if kind == .file, isDirectory.boolValue {
            fail("expected a file, but \(written) is a directory", node)
            return nil
        }
        if kind == .directory, !isDirectory.boolValue {
            fail("expected a directory, but \(written) is a file", node)
            return nil
        }
        return absolute
    }

    /// Any YAML value as JSON, scalars typed as YAML resolved them.
    public static func anyValue(_ node: SourceNode) -> JSONValue {
        switch node.value {
        case .scalar(let text, let kind):
            switch kind {
            case .null: return .null
            case .bool: return .bool(["true", "yes", "on", "y"].contains(text.lowercased()))
            case .int: return Int(text.replacingOccurrences(of: "_", with: "")).map { .int($0) } ?? .string(text)
            case .float: return Double(text.replacingOccurrences(of: "_", with: "")).map { .double($0) } ?? .string(text)
            case .string: return .string(text)
            }
        case .sequence(let items):
            return .array(items.map(anyValue))
        case .mapping(let entries):
            var object: [String: JSONValue] = [:]
            for entry in entries { object[entry.key] = anyValue(entry.value) }
            return .object(object)
        }
    }
}
