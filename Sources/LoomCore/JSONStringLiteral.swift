// JSONStringLiteral — reading and writing JSON string literals over UTF-8 bytes, shared by Loom's
// hand-written JSON parsers (Pipeline's canonical JSONValue, the tokenizer.json reader, the corpus's
// JSON Lines reader). Each parser keeps its own value model; the literal rules live here once.
public enum JSONStringLiteral {
    /// A malformed literal: `offset` is the byte where the problem is (the opening quote for an
    /// unterminated string).
    public struct SyntaxError: Error, Sendable, Equatable {
        public let offset: Int
        public let reason: String

        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
    }

    /// Reads the literal whose opening quote is at `position`; on return `position` is just past the
    /// closing quote. Strict, as RFC 8259 asks: control characters must be escaped, `\u` surrogates
    /// must come in pairs, and the result must be valid UTF-8.
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, at position: inout Int) throws(SyntaxError) -> String {
        let opening = position
        position += 1
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == quote {
                let text = try validated(UnsafeBufferPointer(rebasing: bytes[start..<position]), source: bytes, start: start)
                position += 1
                return text
            }
            if byte == backslash { break }
            if byte < 0x20 { throw SyntaxError(offset: position, reason: "control character in a string (must be escaped)") }
            position += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            if byte == quote {
                let text = try out.withUnsafeBufferPointer { buffer throws(SyntaxError) in
                    try validated(buffer, source: bytes, start: start, end: position)
                }
                position += 1
                return text
            }
            if byte < 0x20 { throw SyntaxError(offset: position, reason: "control character in a string (must be escaped)") }
            guard byte == backslash else {
                out.append(byte)
                position += 1
                continue
            }
            let escapeStart = position
            position += 1
            guard position < bytes.count else { break }
            let escape = bytes[position]
            position += 1
            switch escape {
            case quote, backslash, UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4(bytes, at: &position)
                if (0xD800..<0xDC00).contains(code) {
                    guard position + 1 < bytes.count, bytes[position] == backslash, bytes[position + 1] == UInt8(ascii: "u") else {
                        throw SyntaxError(offset: escapeStart, reason: "unpaired surrogate \\u\(String(code, radix: 16))")
                    }
                    position += 2
                    let low = try hex4(bytes, at: &position)
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw SyntaxError(offset: escapeStart, reason: "unpaired surrogate \\u\(String(code, radix: 16))")
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw SyntaxError(offset: escapeStart, reason: "unpaired surrogate \\u\(String(code, radix: 16))")
                }
                appendUTF8(of: code, to: &out)
            default:
                throw SyntaxError(offset: escapeStart, reason: "invalid escape \\\(Unicode.Scalar(escape))")
            }
        }
        throw SyntaxError(offset: opening, reason: "string is not closed with '\"'")
    }

    /// Appends `bytes` (valid UTF-8) as a JSON string literal, quotes included: `"`, `\` and the C0
    /// controls escaped (the short forms where JSON has them), everything else copied as is.
    public static func append(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(quote)
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == quote || byte == backslash else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            switch byte {
            case quote: out.append(contentsOf: [backslash, quote])
            case backslash: out.append(contentsOf: [backslash, backslash])
            case 0x0A: out.append(contentsOf: [backslash, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [backslash, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [backslash, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [backslash, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [backslash, UInt8(ascii: "f")])
            default:
                out.append(contentsOf: [backslash, UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
            }
            runStart = index + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        out.append(quote)
    }

    public static func append(_ text: String, to out: inout [UInt8]) {
        var copy = text
        copy.withUTF8 { append($0, to: &out) }
    }

    /// The literal for `text`, quotes included.
    public static func literal(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        append(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `decoded` as a String, or an error at the first invalid byte of the literal's source text
    /// (escapes are ASCII, so raw invalid bytes in the source are the only way to get invalid UTF-8).
    private static func validated(
        _ decoded: UnsafeBufferPointer<UInt8>, source: UnsafeBufferPointer<UInt8>, start: Int, end: Int? = nil
    ) throws(SyntaxError) -> String {
        if let text = String(strictUTF8: decoded) { return text }
        let raw = UnsafeBufferPointer(rebasing: source[start..<(end ?? start + decoded.count)])
        throw SyntaxError(offset: start + firstInvalidUTF8Offset(raw), reason: "invalid UTF-8 in a string")
    }

    /// The offset of the first byte that does not belong to a well-formed UTF-8 sequence.
    private static func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            var lowest: UInt8 = 0x80, highest: UInt8 = 0xBF  // allowed range of the second byte
            switch lead {
            case 0x00...0x7F: index += 1; continue
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lowest = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: length = 3
            case 0xED: length = 3; highest = 0x9F
            case 0xF0: length = 4; lowest = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; highest = 0x8F
            default: return index
            }
            for offset in 1..<length {
                guard index + offset < bytes.count else { return index }
                let byte = bytes[index + offset]
                let (low, high) = offset == 1 ? (lowest, highest) : (UInt8(0x80), UInt8(0xBF))
                guard (low...high).contains(byte) else { return index + (offset == 1 && (0x80...0xBF).contains(byte) ? 0 : offset) }
            }
            index += length
        }
        return bytes.count
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at position: inout Int) throws(SyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw SyntaxError(offset: position, reason: "expected four hex digits after \\u") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw SyntaxError(offset: position, reason: "expected four hex digits after \\u")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private static func appendUTF8(of code: UInt32, to out: inout [UInt8]) {
        switch code {
        case ..<0x80: out.append(UInt8(code))
        case ..<0x800: out.append(contentsOf: [UInt8(0xC0 | code >> 6), UInt8(0x80 | code & 0x3F)])
        case ..<0x10000:
            out.append(contentsOf: [UInt8(0xE0 | code >> 12), UInt8(0x80 | code >> 6 & 0x3F), UInt8(0x80 | code & 0x3F)])
        default:
            out.append(contentsOf: [UInt8(0xF0 | code >> 18), UInt8(0x80 | code >> 12 & 0x3F),
                                    UInt8(0x80 | code >> 6 & 0x3F), UInt8(0x80 | code & 0x3F)])
        }
    }
}

extension String {
    /// The text of `bytes` if they are valid UTF-8, else nil (`String(validating:)` needs macOS 15;
    /// the package supports macOS 14). Decoding repairs invalid input, which changes its bytes.
    public init?(strictUTF8 bytes: some Collection<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.count == bytes.count, text.utf8.elementsEqual(bytes) else { return nil }
        self = text
    }
}
