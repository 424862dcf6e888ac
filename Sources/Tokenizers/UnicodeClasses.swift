// UnicodeClasses — the character classes the pre-tokenizer patterns test (\p{L}, \p{N}, \s, \w),
// looked up from a table built once for the Basic Multilingual Plane, and a UTF-8 scalar decoder.
// The split patterns run on every byte of the text, so these must be table lookups, not
// `Unicode.Scalar.Properties` queries.
import Foundation

enum UnicodeClasses {
    static let letter: UInt8 = 1  // \p{L}: general category Lu, Ll, Lt, Lm, Lo
    static let number: UInt8 = 2  // \p{N}: Nd, Nl, No
    static let space: UInt8 = 4  // \s: the White_Space property
    static let word: UInt8 = 8  // \w of Rust's regex crate: Alphabetic, M, Nd, Pc, Join_Control

    /// Class bits of every BMP scalar.
    static let bmp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for value in 0..<0x10000 {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
            table[value] = compute(scalar)
        }
        return table
    }()

    static func compute(_ scalar: Unicode.Scalar) -> UInt8 {
        let properties = scalar.properties
        var bits: UInt8 = 0
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: bits |= letter
        case .decimalNumber, .letterNumber, .otherNumber: bits |= number
        default: break
        }
        if properties.isWhitespace { bits |= space }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: bits |= word
        default: if properties.isAlphabetic || properties.isJoinControl { bits |= word }
        }
        return bits
    }

    @inline(__always)
    static func classes(of value: UInt32) -> UInt8 {
        if value < 0x10000 { return bmp[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        return compute(scalar)
    }

    /// The BMP table as an object a scanner keeps, so hot loops do not go through the lazy global.
    static let shared = ClassTable(bmp: bmp)
}

final class ClassTable: Sendable {
    let bmp: [UInt8]

    init(bmp: [UInt8]) { self.bmp = bmp }

    @inline(__always)
    func classes(of value: UInt32) -> UInt8 {
        if value < 0x10000 { return bmp.withUnsafeBufferPointer { $0[Int(value)] } }
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        return UnicodeClasses.compute(scalar)
    }
}

/// Decodes the scalar at `index` of valid UTF-8 (`bytes` always come from a Swift String or from
/// joining valid pieces): its value and length in bytes.
@inline(__always)
func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> (value: UInt32, length: Int) {
    let lead = bytes[index]
    if lead < 0x80 { return (UInt32(lead), 1) }
    if lead < 0xE0 { return (UInt32(lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F), 2) }
    if lead < 0xF0 {
        return (UInt32(lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F), 3)
    }
    return (
        UInt32(lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12 | UInt32(bytes[index + 2] & 0x3F) << 6
            | UInt32(bytes[index + 3] & 0x3F), 4
    )
}

/// Length in bytes of the UTF-8 sequence a lead byte starts.
@inline(__always)
func scalarLength(lead: UInt8) -> Int {
    lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
}
