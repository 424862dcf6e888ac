// StageParameters — typed access to a stage's resolved parameters by dotted key path
// (`params.int("lora.rank")`), or all at once into a Decodable configuration struct. Values were
// validated against the kind's schema before the run started, so a failure here is a kind bug
// (asking for a key its schema does not declare) and says so.
import Foundation

public struct StageParameters: Sendable {
    public let values: JSONValue

    public init(_ values: JSONValue) {
        self.values = values
    }

    public func value(_ keyPath: String) -> JSONValue? {
        values.value(atKeyPath: keyPath)
    }

    public func has(_ keyPath: String) -> Bool { value(keyPath) != nil }

    public func string(_ keyPath: String) throws -> String {
        try typed(keyPath, "a string") { $0.stringValue }
    }

    public func int(_ keyPath: String) throws -> Int {
        try typed(keyPath, "an integer") { $0.intValue }
    }

    public func double(_ keyPath: String) throws -> Double {
        try typed(keyPath, "a number") { $0.doubleValue }
    }

    public func bool(_ keyPath: String) throws -> Bool {
        try typed(keyPath, "a boolean") { $0.boolValue }
    }

    public func strings(_ keyPath: String) throws -> [String] {
        try typed(keyPath, "a list of strings") { value in
            value.arrayValue.flatMap { items in
                let strings = items.compactMap(\.stringValue)
                return strings.count == items.count ? strings : nil
            }
        }
    }

    /// A path parameter (absolute after planning).
    public func path(_ keyPath: String) throws -> URL {
        URL(fileURLWithPath: try string(keyPath))
    }

    /// The files a path parameter names — the file itself, every file under a directory, or a
    /// pattern's matches — sorted. Works for a single path or a list of them.
    public func files(_ keyPath: String) throws -> [URL] {
        guard let value = value(keyPath) else { throw StageParameterError(keyPath: keyPath, expected: "a path") }
        let paths = value.arrayValue?.compactMap(\.stringValue) ?? value.stringValue.map { [$0] } ?? []
        return try paths.flatMap { try PathPattern.files(matching: $0) }.map { URL(fileURLWithPath: $0) }
    }

    /// The nested section at `keyPath` (`params.section("lora").int("rank")`).
    public func section(_ keyPath: String) -> StageParameters {
        StageParameters(value(keyPath) ?? .object([:]))
    }

    /// Decodes all parameters (or one section) into a configuration struct; keys are snake_case in
    /// recipes, so `.convertFromSnakeCase` is the usual strategy.
    public func decode<T: Decodable>(
        _ type: T.Type, at keyPath: String? = nil,
        keyDecodingStrategy: JSONDecoder.KeyDecodingStrategy = .convertFromSnakeCase
    ) throws -> T {
        let source = keyPath.flatMap { value($0) } ?? values
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = keyDecodingStrategy
        return try decoder.decode(T.self, from: Data(source.canonicalJSON.utf8))
    }

    private func typed<T>(_ keyPath: String, _ expected: String, _ extract: (JSONValue) -> T?) throws -> T {
        guard let value = value(keyPath), let result = extract(value) else {
            throw StageParameterError(keyPath: keyPath, expected: expected)
        }
        return result
    }
}

public struct StageParameterError: Error, CustomStringConvertible {
    public let keyPath: String
    public let expected: String
    public var description: String {
        "parameter '\(keyPath)' is missing or is not \(expected) (is it declared in the kind's schema?)"
    }
}
