// ParamSchema — the typed parameters a stage kind accepts: types, defaults, ranges, nested sections
// (`lora.rank`) and a line of documentation per key. Recipes are validated against it before anything
// runs, and it is torch-free, so `loom` checks model stages without loading libtorch.

/// The type of one parameter.
public indirect enum ParamType: Sendable, Equatable, CustomStringConvertible {
    case string
    case int
    case float
    case bool
    /// One of a fixed set of words (`method: lora | qlora`).
    case choice([String])
    case list(ParamType)
    /// Free keys chosen by the user, each value of the given type (`tiers: {core: …, orbit: …}`).
    case map(ParamType)
    /// An input path resolved against the project directory; its CONTENT digest enters the fingerprint.
    case path(PathKind)
    /// Any YAML value, passed through as JSON (the `command` kind's `vars`).
    case any
    /// Nested keys with their own schema (`lora: {rank, alpha, dropout}`).
    case section(ParamSchema)

    public var description: String {
        switch self {
        case .string: "a string"
        case .int: "an integer"
        case .float: "a number"
        case .bool: "a boolean (true or false)"
        case .choice(let words): "one of \(words.joined(separator: ", "))"
        case .list(let element): "a list of \(element.pluralDescription)"
        case .map(let element): "a map of names to \(element.pluralDescription)"
        case .path(let kind): kind.description
        case .any: "any value"
        case .section: "a map"
        }
    }

    var pluralDescription: String {
        switch self {
        case .string: "strings"
        case .int: "integers"
        case .float: "numbers"
        case .bool: "booleans"
        case .choice(let words): "words from \(words.joined(separator: ", "))"
        case .path(let kind): kind.pluralDescription
        // `tiers: [{name, paths}, …]` reads "a list of maps with keys name, paths".
        case .section(let schema): "maps with keys \(schema.specs.map(\.key).joined(separator: ", "))"
        case .list, .map, .any: "values (\(description))"
        }
    }
}

/// What an input path may name.
public enum PathKind: String, Sendable, Equatable, CustomStringConvertible {
    case file
    case directory
    /// A pattern (`books/core/*.txt`, `books/**/*.fb2`); must match at least one file.
    case glob
    /// A file, a directory, or a pattern when it contains `*`, `?` or `[`.
    case any

    public var description: String {
        switch self {
        case .file: "a path to a file"
        case .directory: "a path to a directory"
        case .glob: "a file pattern"
        case .any: "a path (file, directory or pattern)"
        }
    }

    var pluralDescription: String {
        switch self {
        case .file: "file paths"
        case .directory: "directory paths"
        case .glob: "file patterns"
        case .any: "paths"
        }
    }
}

/// Whether a key must be written, may be left out, or has a default.
public enum ParamPresence: Sendable, Equatable {
    case required
    /// Absent from the resolved parameters when not written (`base.path`).
    case optional
    case defaulted(JSONValue)
}

/// Bounds for numbers; `exclusiveMinimum` for "strictly positive" values such as a learning rate.
public struct ParamRange: Sendable, Equatable {
    public let minimum: Double?
    public let maximum: Double?
    public let exclusiveMinimum: Bool

    public init(minimum: Double? = nil, maximum: Double? = nil, exclusiveMinimum: Bool = false) {
        self.minimum = minimum
        self.maximum = maximum
        self.exclusiveMinimum = exclusiveMinimum
    }

    public func contains(_ value: Double) -> Bool {
        if let minimum, exclusiveMinimum ? value <= minimum : value < minimum { return false }
        if let maximum, value > maximum { return false }
        return true
    }

    public var description: String {
        func format(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        }
        switch (minimum, maximum) {
        case let (minimum?, maximum?): return "must be \(exclusiveMinimum ? ">" : "≥") \(format(minimum)) and ≤ \(format(maximum))"
        case let (minimum?, nil): return "must be \(exclusiveMinimum ? ">" : "≥") \(format(minimum))"
        case let (nil, maximum?): return "must be ≤ \(format(maximum))"
        case (nil, nil): return "any value"
        }
    }
}

/// One key of a schema.
public struct ParamSpec: Sendable, Equatable {
    public let key: String
    public let type: ParamType
    public let presence: ParamPresence
    public let range: ParamRange?
    public let doc: String
    /// Whether the value enters the stage's fingerprint. A key that says only where or how fast a result
    /// is computed (`device`) does not: the cached result is reused whichever value made it.
    public private(set) var fingerprinted = true

    public init(_ key: String, _ type: ParamType, _ presence: ParamPresence, range: ParamRange? = nil, doc: String) {
        self.key = key
        self.type = type
        self.presence = presence
        self.range = range
        self.doc = doc
    }

    /// This key, left out of the fingerprint (see `fingerprinted`).
    public func notFingerprinted() -> ParamSpec {
        var spec = self
        spec.fingerprinted = false
        return spec
    }

    public static func string(_ key: String, default value: String? = nil, required: Bool = false, doc: String) -> ParamSpec {
        ParamSpec(key, .string, presence(value.map { .string($0) }, required), doc: doc)
    }

    public static func int(_ key: String, default value: Int? = nil, range: ClosedRange<Int>? = nil, required: Bool = false, doc: String) -> ParamSpec {
        ParamSpec(key, .int, presence(value.map { .int($0) }, required),
                  range: range.map { ParamRange(minimum: Double($0.lowerBound), maximum: Double($0.upperBound)) }, doc: doc)
    }

    public static func int(_ key: String, default value: Int? = nil, minimum: Int, required: Bool = false, doc: String) -> ParamSpec {
        ParamSpec(key, .int, presence(value.map { .int($0) }, required), range: ParamRange(minimum: Double(minimum)), doc: doc)
    }

    public static func float(_ key: String, default value: Double? = nil, range: ParamRange? = nil, required: Bool = false, doc: String) -> ParamSpec {
        ParamSpec(key, .float, presence(value.map { .double($0) }, required), range: range, doc: doc)
    }

    public static func bool(_ key: String, default value: Bool, doc: String) -> ParamSpec {
        ParamSpec(key, .bool, .defaulted(.bool(value)), doc: doc)
    }

    public static func choice(_ key: String, _ words: [String], default value: String? = nil, doc: String) -> ParamSpec {
        ParamSpec(key, .choice(words), presence(value.map { .string($0) }, value == nil), doc: doc)
    }

    public static func list(_ key: String, of element: ParamType, default value: [JSONValue]? = [], required: Bool = false, doc: String) -> ParamSpec {
        ParamSpec(key, .list(element), presence(value.map { .array($0) }, required), doc: doc)
    }

    public static func map(_ key: String, of element: ParamType, default value: [String: JSONValue]? = [:], required: Bool = false, doc: String) -> ParamSpec {
        ParamSpec(key, .map(element), presence(value.map { .object($0) }, required), doc: doc)
    }

    public static func path(_ key: String, _ kind: PathKind, required: Bool = true, doc: String) -> ParamSpec {
        ParamSpec(key, .path(kind), required ? .required : .optional, doc: doc)
    }

    public static func any(_ key: String, default value: JSONValue? = nil, doc: String) -> ParamSpec {
        ParamSpec(key, .any, value.map { .defaulted($0) } ?? .optional, doc: doc)
    }

    public static func section(_ key: String, doc: String, _ specs: [ParamSpec]) -> ParamSpec {
        ParamSpec(key, .section(ParamSchema(specs)), .defaulted(.object([:])), doc: doc)
    }

    private static func presence(_ value: JSONValue?, _ required: Bool) -> ParamPresence {
        if let value { return .defaulted(value) }
        return required ? .required : .optional
    }
}

/// The keys a stage kind accepts, in the order its documentation lists them.
public struct ParamSchema: Sendable, Equatable {
    public let specs: [ParamSpec]

    public init(_ specs: [ParamSpec]) {
        self.specs = specs
    }

    public static let empty = ParamSchema([])

    public func spec(_ key: String) -> ParamSpec? { specs.first { $0.key == key } }

    /// Every key path, nested sections flattened (`lora.rank`): what "did you mean" chooses from.
    public var allKeyPaths: [String] {
        specs.flatMap { spec -> [String] in
            if case .section(let nested) = spec.type {
                return [spec.key] + nested.allKeyPaths.map { "\(spec.key).\($0)" }
            }
            return [spec.key]
        }
    }
}
