// JSONLine — reads one JSON object per line (JSON Lines) without Foundation's JSONSerialization: the
// top-level keys with string, number, boolean or null values come back; nested objects and arrays are
// checked and skipped. Used for `text` in input .jsonl files and for scene records in shards.
import Foundation

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
        let opening = position
        position += 1
        let start = position
        // Fast path: no escapes.
        while let byte = peek, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            if byte < 0x20 { throw error("control character in a string (must be escaped)") }
            position += 1
        }
        guard let stop = peek else { throw error("string is not closed with '\"'", at: opening) }
        if stop == UInt8(ascii: "\"") {
            position += 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(position - 1)]), as: UTF8.self)
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while let byte = peek {
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = peek else { throw error("string is not closed with '\"'", at: opening) }
                let escapeStart = position - 1
                position += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard peek == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate \\u\(String(scalar, radix: 16))", at: escapeStart)
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw error("unpaired surrogate \\u\(String(scalar, radix: 16))", at: escapeStart)
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("unpaired surrogate \\u\(String(scalar, radix: 16))", at: escapeStart)
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    throw error("invalid escape \\\(Unicode.Scalar(escaped))")
                }
            default:
                if byte < 0x20 { throw error("control character in a string (must be escaped)") }
                out.append(byte)
            }
        }
        throw error("string is not closed with '\"'", at: opening)
    }

    private mutating func hex4() throws(JSONLineError) -> UInt32 {
        guard position + 4 <= bytes.count,
              let value = UInt32(String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<(position + 4)]), as: UTF8.self), radix: 16) else {
            throw error("expected four hex digits after \\u")
        }
        position += 4
        return value
    }
}

/// Writes JSON string literals from UTF-8 bytes: quotes, backslashes and control characters escaped,
/// everything else copied as is (valid UTF-8 in, valid JSON out).
enum JSONStringWriter {
    static func append(_ text: String, to out: inout [UInt8]) {
        var copy = text
        copy.withUTF8 { append($0, to: &out) }
    }

    static func append(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            default:
                let digits = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
            }
            runStart = index + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        out.append(UInt8(ascii: "\""))
    }
}
