// JSONLine — reads one JSON object per line (JSON Lines) without Foundation's JSONSerialization: the
// top-level keys with string, number, boolean or null values come back; nested objects and arrays are
// checked and skipped. Used for `text` in input .jsonl files and for scene records in shards.
import Foundation
import LoomCore

enum JSONValue: Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case nested
}

struct JSONLineError: Error, Equatable {
    var column: Int
    var message: String
    var description: String { "column \(column): \(message)" }
}

struct JSONLine {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    /// Parses `bytes` as one JSON object (surrounding whitespace allowed).
    static func parseObject(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONLineError) -> [String: JSONValue] {
        var parser = JSONLine(bytes: bytes)
        parser.skipSpace()
        guard parser.peek == UInt8(ascii: "{") else { throw parser.error("expected '{' (a JSON object per line)") }
        let object = try parser.object()
        parser.skipSpace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the object") }
        return object
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    private func error(_ message: String, at offset: Int? = nil) -> JSONLineError {
        JSONLineError(column: (offset ?? position) + 1, message: message)
    }

    private mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONLineError) {
        skipSpace()
        guard peek == byte else { throw error("expected \(what)") }
        position += 1
    }

    private mutating func object() throws(JSONLineError) -> [String: JSONValue] {
        try expect(UInt8(ascii: "{"), "'{'")
        var result: [String: JSONValue] = [:]
        skipSpace()
        if peek == UInt8(ascii: "}") { position += 1; return result }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let key = try string()
            try expect(UInt8(ascii: ":"), "':' after key \"\(key)\"")
            result[key] = try value()
            skipSpace()
            guard let byte = peek else { throw error("object is not closed with '}'") }
            position += 1
            if byte == UInt8(ascii: "}") { return result }
            guard byte == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or '}'") }
        }
    }

    private mutating func value() throws(JSONLineError) -> JSONValue {
        skipSpace()
        guard let byte = peek else { throw error("expected a value") }
        switch byte {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"): _ = try object(); return .nested
        case UInt8(ascii: "["): try array(); return .nested
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func array() throws(JSONLineError) {
        try expect(UInt8(ascii: "["), "'['")
        skipSpace()
        if peek == UInt8(ascii: "]") { position += 1; return }
        while true {
            _ = try value()
            skipSpace()
            guard let byte = peek else { throw error("array is not closed with ']'") }
            position += 1
            if byte == UInt8(ascii: "]") { return }
            guard byte == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or ']'") }
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONLineError) {
        let count = word.utf8CodeUnitCount
        let matches = position + count <= bytes.count
            && word.withUTF8Buffer { UnsafeBufferPointer(rebasing: bytes[position..<(position + count)]).elementsEqual($0) }
        guard matches else { throw error("expected \(word)") }
        position += count
    }

    private mutating func number() throws(JSONLineError) -> Double {
        let start = position
        while let byte = peek, (0x30...0x39).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { position += 1 }
        guard position > start, let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)) else {
            position = start
            throw error("expected a value")
        }
        return value
    }

    private mutating func string() throws(JSONLineError) -> String {
        do {
            return try JSONStringLiteral.read(bytes, at: &position)
        } catch {
            throw self.error(error.reason, at: error.offset)
        }
    }
}
