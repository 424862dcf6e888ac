// JSONValue — the one JSON value type of the orchestrator: resolved stage parameters, stored plans,
// cache manifests and metric lines.
//
// Why not JSONSerialization/Codable: fingerprints need one canonical byte form (sorted keys, no
// spaces, integers and floats kept apart so `8` and `8.0` never collide), and metric lines are
// parsed a million at a time, where a small hand parser is several times faster than Foundation's.
import Foundation
import LoomCore

public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    // MARK: accessors

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var intValue: Int? { if case .int(let i) = self { i } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }

    /// A number of either kind as a Double (an integer literal is a valid float parameter).
    public var doubleValue: Double? {
        switch self {
        case .double(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// Follows a dotted key path (`lora.rank`) through nested objects.
    public func value(atKeyPath keyPath: String) -> JSONValue? {
        var current: JSONValue? = self
        for part in keyPath.split(separator: ".", omittingEmptySubsequences: false) {
            current = current?[String(part)]
        }
        return current
    }

    /// A short name for the value's type, for error messages.
    public var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "a map"
        }
    }

    // MARK: canonical text

    /// Sorted keys, no whitespace, floats with a decimal point or exponent: the bytes fingerprints hash.
    public var canonicalJSON: String {
        var out = ""
        write(to: &out, pretty: false, indent: 0)
        return out
    }

    /// Sorted keys with two-space indentation, for files people read ($LOOM_PARAMS, manifests).
    public var prettyJSON: String {
        var out = ""
        write(to: &out, pretty: true, indent: 0)
        out.append("\n")
        return out
    }

    /// The value as a person writes it in a table or message: strings bare, the rest as JSON.
    public var displayText: String {
        if case .string(let s) = self { return s }
        return canonicalJSON
    }

    private func write(to out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(String(i))
        case .double(let d): out.append(JSONValue.formatDouble(d))
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty { out.append("[]"); return }
            out.append("[")
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(",") }
                if pretty { out.append("\n"); out.append(String(repeating: "  ", count: indent + 1)) }
                item.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out.append("\n"); out.append(String(repeating: "  ", count: indent)) }
            out.append("]")
        case .object(let members):
            if members.isEmpty { out.append("{}"); return }
            out.append("{")
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(",") }
                if pretty { out.append("\n"); out.append(String(repeating: "  ", count: indent + 1)) }
                JSONValue.writeString(key, to: &out)
                out.append(pretty ? ": " : ":")
                members[key]!.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out.append("\n"); out.append(String(repeating: "  ", count: indent)) }
            out.append("}")
        }
    }

    /// Shortest round-trip form, always recognisable as a float (`1.0`, `1e-05`).
    static func formatDouble(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let text = "\(value)"
        if text.contains(".") || text.contains("e") { return text }
        return text + ".0"
    }

    private static func writeString(_ string: String, to out: inout String) {
        out.append(JSONStringLiteral.literal(string))
    }
}

// MARK: parsing

public struct JSONParseError: Error, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    public static func parse(_ text: String) throws -> JSONValue {
        var copy = text
        return try copy.withUTF8 { try parse(bytes: $0) }
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            try parse(bytes: UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
        }
    }

    public static func parse(bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var parser = JSONByteParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the value") }
        return value
    }
}

extension JSONValue {
    /// The members of a one-level object (`{"step": 3, "loss": 2.5}`) in written order, without
    /// building a dictionary: the shape of almost every metric line. Nil for anything else (nested
    /// values, arrays, invalid text), which callers then hand to `parse`.
    public static func parseFlatObject(bytes: UnsafeBufferPointer<UInt8>) -> [(key: String, value: JSONValue)]? {
        var parser = JSONByteParser(bytes: bytes)
        parser.skipWhitespace()
        guard parser.position < bytes.count, bytes[parser.position] == UInt8(ascii: "{") else { return nil }
        parser.position += 1
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(8)
        parser.skipWhitespace()
        if parser.position < bytes.count, bytes[parser.position] == UInt8(ascii: "}") {
            parser.position += 1
        } else {
            while true {
                parser.skipWhitespace()
                guard parser.position < bytes.count, bytes[parser.position] == UInt8(ascii: "\""),
                      let key = try? parser.parseString() else { return nil }
                parser.skipWhitespace()
                guard parser.position < bytes.count, bytes[parser.position] == UInt8(ascii: ":") else { return nil }
                parser.position += 1
                parser.skipWhitespace()
                guard parser.position < bytes.count, bytes[parser.position] != UInt8(ascii: "{"),
                      bytes[parser.position] != UInt8(ascii: "["), let value = try? parser.parseValue(depth: 1) else { return nil }
                members.append((key, value))
                parser.skipWhitespace()
                guard parser.position < bytes.count else { return nil }
                if bytes[parser.position] == UInt8(ascii: ",") { parser.position += 1; continue }
                guard bytes[parser.position] == UInt8(ascii: "}") else { return nil }
                parser.position += 1
                break
            }
        }
        parser.skipWhitespace()
        return parser.position == bytes.count ? members : nil
    }
}

private struct JSONByteParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: position, reason: reason) }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < 512 else { throw error("nesting too deep") }
        guard position < bytes.count else { throw error("unexpected end") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        default: return try parseNumber()
        }
    }

    mutating func expectWord(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end") }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] {
            throw error("unexpected character")
        }
        position += count
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            members[key] = try parseValue(depth: depth + 1)
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw error("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseString() throws -> String {
        do {
            return try JSONStringLiteral.read(bytes, at: &position)
        } catch {
            throw JSONParseError(offset: error.offset, reason: error.reason)
        }
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = position
        var isFloat = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        while position < bytes.count, isNumberByte(bytes[position]) {
            switch bytes[position] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): isFloat = true
            default: break
            }
            position += 1
        }
        guard position > start else { throw error("unexpected character") }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if !isFloat, let integer = Int(text) { return .int(integer) }
        guard let double = Double(text) else { throw JSONParseError(offset: start, reason: "bad number '\(text)'") }
        return .double(double)
    }

    private func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
             UInt8(ascii: "+"), UInt8(ascii: "-"): true
        default: false
        }
    }
}

extension JSONValue: Decodable {
    /// Any JSON value as decoded (a kind's `any`-typed parameter, e.g. the command kind's `vars`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }
}
