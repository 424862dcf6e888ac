// TokenizerFileError — what is wrong with a tokenizer file, naming the file and the field
// ("tokenizer.json: model.merges[12]: expected \"a b\" or [\"a\", \"b\"], found 42"); and
// JSONField, the path-tracking reader that produces those messages.
import Foundation

public struct TokenizerFileError: Error, CustomStringConvertible, Sendable {
    /// The file, as the user named it.
    public let file: String
    /// The JSON path of the offending field (`model.merges[12]`), or empty for the whole file.
    public let field: String
    public let problem: String

    public init(file: String, field: String, problem: String) {
        self.file = file
        self.field = field
        self.problem = problem
    }

    public var description: String {
        field.isEmpty ? "\(file): \(problem)" : "\(file): \(field): \(problem)"
    }
}

/// A JSON value together with where it sits in its file, so that every accessor can throw an
/// error naming the field.
struct JSONField {
    let value: OrderedJSON
    let path: String
    let file: String

    init(root: OrderedJSON, file: String) {
        value = root
        path = ""
        self.file = file
    }

    private init(value: OrderedJSON, path: String, file: String) {
        self.value = value
        self.path = path
        self.file = file
    }

    func failure(_ problem: String) -> TokenizerFileError {
        TokenizerFileError(file: file, field: path, problem: problem)
    }

    private func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    var isNull: Bool { value == .null }

    /// The member `key` (a missing member reads as null).
    func member(_ key: String) throws -> JSONField {
        guard case .object(let members) = value else { throw failure("expected an object, found \(value.kindDescription)") }
        let found = members.first { $0.key == key }?.value ?? .null
        return JSONField(value: found, path: childPath(key), file: file)
    }

    /// The member `key`, which must be present and not null.
    func required(_ key: String) throws -> JSONField {
        let field = try member(key)
        if field.isNull { throw field.failure("is missing") }
        return field
    }

    /// The member `key`, or nil when absent or null.
    func optional(_ key: String) throws -> JSONField? {
        let field = try member(key)
        return field.isNull ? nil : field
    }

    func string() throws -> String {
        guard case .string(let text) = value else { throw failure("expected a string, found \(value.kindDescription)") }
        return text
    }

    func int() throws -> Int {
        switch value {
        case .int(let number): return number
        case .double(let number) where number == number.rounded() && abs(number) < 1e15: return Int(number)
        default: throw failure("expected an integer, found \(value.kindDescription)")
        }
    }

    func bool() throws -> Bool {
        guard case .bool(let flag) = value else { throw failure("expected true or false, found \(value.kindDescription)") }
        return flag
    }

    func items() throws -> [JSONField] {
        guard case .array(let values) = value else { throw failure("expected an array, found \(value.kindDescription)") }
        return values.enumerated().map { JSONField(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    func members() throws -> [(key: String, field: JSONField)] {
        guard case .object(let values) = value else { throw failure("expected an object, found \(value.kindDescription)") }
        return values.map { ($0.key, JSONField(value: $0.value, path: childPath($0.key), file: file)) }
    }

    /// Optional-member shorthands with a default.
    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        try optional(key)?.bool() ?? fallback
    }

    func string(_ key: String) throws -> String? {
        try optional(key)?.string()
    }

    /// The object's "type" tag.
    func typeTag() throws -> String {
        try required("type").string()
    }
}
