// TextCleanup — the character-level half of normalisation, one pass over UTF-8 bytes:
//   • line ends: CRLF and CR → LF; form feed, vertical tab and U+2028 → LF; U+2029 → blank line;
//   • control characters (C0 but tab and LF, DEL, C1), zero-width space, word joiner and stray
//     byte-order marks are removed;
//   • no-break and typographic spaces (U+00A0, U+2000–U+200A, U+202F, U+205F, U+3000) become a space;
//   • a soft hyphen (U+00AD) at a line end becomes '-' so dehyphenation joins the word; elsewhere it
//     is removed;
//   • Unicode NFC (canonical composition: "и" + U+0306 → "й", "е" + U+0308 → "ё"), run only when the
//     text holds a code point outside the ranges known to be NFC-stable (ASCII, Latin-1, Latin
//     Extended, Cyrillic, general punctuation): most Russian and English text skips it.
// Whitespace runs and line structure are left to TextLayout.
import Foundation

enum TextCleanup {
    static func clean(_ text: String) -> String {
        var input = text
        return input.withUTF8 { clean($0) }
    }

    static func clean(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var needsNFC = false
        // Every rule keeps or shortens the text, so the output fits in the input's size.
        let cleaned = String(unsafeUninitializedCapacity: max(bytes.count, 1)) { out in
            var written = 0
            @inline(__always) func emit(_ byte: UInt8) {
                out[written] = byte
                written += 1
            }
            var index = 0
            let count = bytes.count
            while index < count {
                let byte = bytes[index]
                if byte < 0x80 {
                    index += 1
                    if byte >= 0x20 && byte != 0x7F || byte == 0x0A || byte == 0x09 {
                        emit(byte)
                    } else if byte == 0x0D {
                        if index < count && bytes[index] == 0x0A { continue }
                        emit(0x0A)
                    } else if byte == 0x0B || byte == 0x0C {
                        emit(0x0A)
                    }
                    continue
                }
                // U+0400–U+047F (lead bytes D0, D1): basic Cyrillic, always kept as is.
                if (byte == 0xD0 || byte == 0xD1) && index + 1 < count {
                    emit(byte)
                    emit(bytes[index + 1])
                    index += 2
                    continue
                }
                let (scalar, width) = decodeScalar(bytes, index)
                switch scalar {
                case 0x80...0x9F, 0x200B, 0x2060, 0xFEFF, 0xFFFE, 0xFFFF:
                    break
                case 0xA0, 0x2000...0x200A, 0x202F, 0x205F, 0x3000:
                    emit(0x20)
                case 0xAD:
                    let next = index + width
                    if next < count && (bytes[next] == 0x0A || bytes[next] == 0x0D) { emit(UInt8(ascii: "-")) }
                case 0x2028:
                    emit(0x0A)
                case 0x2029:
                    emit(0x0A)
                    emit(0x0A)
                default:
                    if !isNFCStable(scalar) { needsNFC = true }
                    for offset in 0..<width { emit(bytes[index + offset]) }
                }
                index += width
            }
            return written
        }
        return needsNFC ? cleaned.precomposedStringWithCanonicalMapping : cleaned
    }

    /// Decodes the scalar starting at `index` of valid UTF-8.
    @inline(__always)
    static func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> (UInt32, Int) {
        let lead = UInt32(bytes[index])
        if lead < 0x80 { return (lead, 1) }
        if lead < 0xE0 { return ((lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F), 2) }
        if lead < 0xF0 {
            return ((lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F), 3)
        }
        return ((lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
            | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F), 4)
    }

    /// Code points that are unchanged by NFC and never combine with a neighbour: checking this range
    /// list is much cheaper than normalising (checked against Python's unicodedata: no code point in these
    /// ranges changes under NFC or composes with a predecessor; the combining marks U+0300–U+036F,
    /// U+0483–U+0489 and singletons such as U+2126 Ω lie outside).
    @inline(__always)
    static func isNFCStable(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0...0x02FF, 0x0400...0x0482, 0x048A...0x052F, 0x2010...0x2027, 0x2030...0x205E, 0x20A0...0x20C0,
             0x2100...0x2125, 0x2127...0x2129, 0x212C...0x218F, 0x2190...0x2328, 0x232B...0x23FF, 0x2500...0x27BF:
            return true
        default:
            return false
        }
    }
}
