// TextEncoding — finds how a text file is encoded and decodes it to a native Swift string.
// Order: a byte-order mark decides (UTF-8, UTF-16 LE/BE); else an encoding declared by the container
// (FB2's XML declaration); else valid UTF-8 is UTF-8; else Windows-1251 or KOI8-R by the Russian-text
// score in CyrillicCodePages; else the text is rejected as undecodable. NUL bytes or many control
// characters without a UTF-16 BOM mean a binary file.
import Foundation

public enum TextEncoding: String, Codable, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case utf8BOM = "utf-8-bom"
    case utf16LE = "utf-16le"
    case utf16BE = "utf-16be"
    case windows1251 = "windows-1251"
    case koi8r = "koi8-r"

    /// The encoding an XML declaration or a similar label names, if Loom reads it.
    init?(label: String) {
        switch label.lowercased().trimmingCharacters(in: .whitespaces) {
        case "utf-8", "utf8": self = .utf8
        case "windows-1251", "cp1251", "win-1251", "x-cp1251": self = .windows1251
        case "koi8-r", "koi8r", "cskoi8r": self = .koi8r
        case "utf-16le": self = .utf16LE
        case "utf-16be": self = .utf16BE
        default: return nil
        }
    }
}

struct DecodedText: Sendable, Equatable {
    var text: String
    var encoding: TextEncoding
}

struct DecodeFailure: Error, Equatable {
    var kind: CorpusReject.Kind
    var reason: String
}

enum TextDecoder {
    /// How much of the start of a file the binary sniff looks at.
    static let sniffBytes = 64 << 10

    static func decode(_ data: Data, declared: String? = nil) -> Result<DecodedText, DecodeFailure> {
        data.withUnsafeBytes { raw in decode(raw.bindMemory(to: UInt8.self), declared: declared) }
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, declared: String? = nil) -> Result<DecodedText, DecodeFailure> {
        if bytes.starts(with: [0xFF, 0xFE, 0x00, 0x00]) || bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) {
            return .failure(DecodeFailure(kind: .undecodable, reason: "UTF-32 text is not supported"))
        }
        if bytes.starts(with: [0xFF, 0xFE]) { return decodeUTF16(bytes, littleEndian: true) }
        if bytes.starts(with: [0xFE, 0xFF]) { return decodeUTF16(bytes, littleEndian: false) }
        if let reason = binaryReason(bytes) { return .failure(DecodeFailure(kind: .binary, reason: reason)) }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            let body = UnsafeBufferPointer(rebasing: bytes[3...])
            guard let text = String(validating: body, as: UTF8.self) else {
                return .failure(DecodeFailure(kind: .undecodable, reason: "has a UTF-8 byte-order mark but is not valid UTF-8"))
            }
            return .success(DecodedText(text: text, encoding: .utf8BOM))
        }
        if let declared {
            guard let encoding = TextEncoding(label: declared) else {
                return .failure(DecodeFailure(kind: .unsupported, reason: "declares encoding '\(declared)', which Loom does not read (UTF-8, UTF-16, Windows-1251, KOI8-R)"))
            }
            switch encoding {
            case .windows1251: return .success(DecodedText(text: CyrillicCodePage.windows1251.decode(bytes), encoding: .windows1251))
            case .koi8r: return .success(DecodedText(text: CyrillicCodePage.koi8r.decode(bytes), encoding: .koi8r))
            case .utf16LE: return decodeUTF16(bytes, littleEndian: true)
            case .utf16BE: return decodeUTF16(bytes, littleEndian: false)
            case .utf8, .utf8BOM: break  // a wrong UTF-8 label is common; detection below still helps
            }
        }
        if let text = String(validating: bytes, as: UTF8.self) {
            return .success(DecodedText(text: text, encoding: .utf8))
        }
        guard let (page, _) = CyrillicCodePage.detect(bytes) else {
            return .failure(DecodeFailure(
                kind: .undecodable,
                reason: "not valid UTF-8, and not Windows-1251 or KOI8-R Russian text (first invalid byte at offset \(firstInvalidUTF8Offset(bytes)))"))
        }
        let encoding: TextEncoding = page == .windows1251 ? .windows1251 : .koi8r
        return .success(DecodedText(text: page.decode(bytes), encoding: encoding))
    }

    /// Why the start of the buffer looks like binary data, or nil for text.
    static func binaryReason(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let sniff = bytes.prefix(sniffBytes)
        var controls = 0
        for byte in sniff {
            if byte == 0 {
                return "binary data (NUL bytes; UTF-16 text needs a byte-order mark)"
            }
            // Tab, line feed, vertical tab, form feed, carriage return and escape occur in real text.
            if byte < 0x20 && !(0x09...0x0D).contains(byte) && byte != 0x1B { controls += 1 }
        }
        if controls * 100 > sniff.count * 2 {
            return "binary data (\(controls) control bytes in the first \(sniff.count))"
        }
        return nil
    }

    private static func decodeUTF16(_ bytes: UnsafeBufferPointer<UInt8>, littleEndian: Bool) -> Result<DecodedText, DecodeFailure> {
        let count = (bytes.count - 2) / 2
        var units = [UInt16](repeating: 0, count: count)
        for index in 0..<count {
            let first = UInt16(bytes[2 + 2 * index]), second = UInt16(bytes[3 + 2 * index])
            units[index] = littleEndian ? first | second << 8 : first << 8 | second
        }
        if units.contains(0) {
            return .failure(DecodeFailure(kind: .binary, reason: "binary data (NUL characters in UTF-16 text)"))
        }
        var invalid = 0
        var scalars = String.UnicodeScalarView()
        var iterator = units.makeIterator()
        var decoder = UTF16()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .emptyInput: break loop
            case .error: invalid += 1
            }
        }
        if invalid > 0 {
            return .failure(DecodeFailure(kind: .undecodable, reason: "invalid UTF-16 (\(invalid) unpaired surrogate code units)"))
        }
        return .success(DecodedText(text: String(scalars), encoding: littleEndian ? .utf16LE : .utf16BE))
    }

    private static func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput, .error: return offset
            }
        }
    }
}
