// OrderedJSON — a JSON tree that keeps what tokenizer.json needs kept: object keys in file order,
// duplicate keys, and strings exactly as written (Swift's String compares canonically equivalent
// text as equal, so a vocabulary is never put into a [String: …] dictionary on the way in).
// Parses UTF-8 bytes directly and writes the same shape back (raw UTF-8, 2-space indent).
// Pipeline's JSONValue keeps objects as dictionaries for canonical fingerprints; tokenizer files
// need order and exact keys, hence a type of their own.
import Foundation
import LoomCore

public indirect enum OrderedJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([OrderedJSON])
    case object([JSONMember])

    /// The value of the first member named `key` of an object, else nil.
    public subscript(key: String) -> OrderedJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// A short description of the value's kind, for error messages.
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .int(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): "\"\(value.count > 40 ? String(value.prefix(40)) + "…" : value)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: OrderedJSON

    public init(_ key: String, _ value: OrderedJSON) {
        self.key = key
        self.value = value
    }
}

/// A JSON syntax error, with the line and column where it was found.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public let line: Int
    public let column: Int
    public let reason: String
    public var description: String { "line \(line), column \(column): \(reason)" }
}

extension OrderedJSON {
    /// Parses one JSON document (UTF-8).
    public static func parse(_ data: Data) throws -> OrderedJSON {
        try data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            return try parser.document()
        }
    }

    /// The document as text: 2-space indent (or one line when `compact`), keys in order,
    /// non-ASCII written as is.
    public func serialized(compact: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        if compact {
            writeCompact(to: &out)
        } else {
            write(to: &out, indent: 0)
        }
        out.append(UInt8(ascii: "\n"))
        return String(decoding: out, as: UTF8.self)
    }

    private func writeCompact(to out: inout [UInt8]) {
        switch self {
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.writeCompact(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                OrderedJSON.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.writeCompact(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        default:
            write(to: &out, indent: 0)
        }
    }

    private func write(to out: inout [UInt8], indent: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .double(let value): out.append(contentsOf: OrderedJSON.format(value).utf8)
        case .string(let value): OrderedJSON.writeString(value, to: &out)
        case .array(let items):
            if items.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            // Arrays of scalars (a merge pair, a list of ids) stay on one line.
            if items.allSatisfy({ $0.isScalar }) && items.count <= 16 {
                out.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { out.append(contentsOf: ", ".utf8) }
                    item.write(to: &out, indent: indent)
                }
                out.append(UInt8(ascii: "]"))
                return
            }
            out.append(contentsOf: "[\n".utf8)
            for (index, item) in items.enumerated() {
                OrderedJSON.pad(&out, indent + 2)
                item.write(to: &out, indent: indent + 2)
                if index < items.count - 1 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\n"))
            }
            OrderedJSON.pad(&out, indent)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(contentsOf: "{\n".utf8)
            for (index, member) in members.enumerated() {
                OrderedJSON.pad(&out, indent + 2)
                OrderedJSON.writeString(member.key, to: &out)
                out.append(contentsOf: ": ".utf8)
                member.value.write(to: &out, indent: indent + 2)
                if index < members.count - 1 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\n"))
            }
            OrderedJSON.pad(&out, indent)
            out.append(UInt8(ascii: "}"))
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    private static func pad(_ out: inout [UInt8], _ count: Int) {
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count))
    }

    private static func format(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
        return "\(value)"
    }

    static func writeString(_ value: String, to out: inout [UInt8]) {
        JSONStringLiteral.append(value, to: &out)
    }
}

/// A recursive-descent parser over UTF-8 bytes.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func document() throws -> OrderedJSON {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        let value = try self.value()
        skipWhitespace()
        if position < bytes.count { throw error("unexpected text after the JSON document") }
        return value
    }

    func error(_ reason: String) -> JSONSyntaxError {
        var line = 1, column = 1
        for index in 0..<min(position, bytes.count) {
            if bytes[index] == 0x0A {
                line += 1
                column = 1
            } else if bytes[index] & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONSyntaxError(line: line, column: column, reason: reason)
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    mutating func value() throws -> OrderedJSON {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of file") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count,
            UnsafeBufferPointer(start: word.utf8Start, count: count).elementsEqual(bytes[position..<position + count])
        else { throw error("invalid literal") }
        position += count
    }

    mutating func enter() throws {
        depth += 1
        if depth > 512 { throw error("nesting deeper than 512 levels") }
    }

    mutating func object() throws -> OrderedJSON {
        try enter()
        defer { depth -= 1 }
        position += 1
        var members: [JSONMember] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            members.append(JSONMember(key, try value()))
            if try closes(UInt8(ascii: "}"), in: "an object") { return .object(members) }
        }
    }

    /// After a member or item: consumes a comma (false) or the closing bracket (true).
    mutating func closes(_ bracket: UInt8, in container: String) throws -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of file in \(container)") }
        let byte = bytes[position]
        guard byte == UInt8(ascii: ",") || byte == bracket else {
            throw error("expected ',' or '\(Character(Unicode.Scalar(bracket)))'")
        }
        position += 1
        return byte == bracket
    }

    mutating func array() throws -> OrderedJSON {
        try enter()
        defer { depth -= 1 }
        position += 1
        var items: [OrderedJSON] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            items.append(try value())
            if try closes(UInt8(ascii: "]"), in: "an array") { return .array(items) }
        }
    }

    mutating func number() throws -> OrderedJSON {
        let start = position
        var isInteger = true
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        while position < bytes.count {
            let byte = bytes[position]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                position += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            {
                isInteger = false
                position += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else {
            position = start
            throw error("invalid number \(text)")
        }
        return .double(value)
    }

    mutating func string() throws -> String {
        do {
            return try JSONStringLiteral.read(bytes, at: &position)
        } catch {
            position = error.offset
            throw self.error(error.reason)
        }
    }
}
