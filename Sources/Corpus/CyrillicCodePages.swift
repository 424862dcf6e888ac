// CyrillicCodePages — the two single-byte encodings older Russian files use (Windows-1251, KOI8-R): byte
// tables for their upper halves, and the score that tells them apart.
//
// Detection heuristic: decode the text both ways and score each reading with a model of Russian:
//   • letter bigrams: the mean natural-log probability of each letter following the previous one (or a
//     word boundary), from a 33 × 33 table counted on Debian's fortunes-ru (1.8 million transitions,
//     ё folded into е, add-½ smoothing, stored as round(2 · ln p)). The wrong table scrambles the
//     alphabet (KOI8-R orders letters after their Latin sounds), so its letter pairs look improbable:
//     real Russian scores about −2.5, the wrong reading about −4.5;
//   • −4 for an upper-case letter right after a lower-case one ("рРИВЕТ": the tables swap the cases of
//     the 0xC0–0xFF block, so the wrong reading capitalises inside words);
//   • −4 for a Cyrillic letter touching a Latin one (Latin-1 "Müller" read as Cyrillic);
//   • −1 for typographic punctuation Russian uses (« » — … № NBSP), −6 for anything else (box drawing,
//     undefined bytes), −7.6 for a non-Russian Cyrillic letter.
// The higher mean wins. When even the better mean is below −3.6 (−5 for a text with fewer than 50
// scored transitions, where the mean is noisy), the text is neither — CP866, ISO-8859-5, Latin-1,
// random bytes — and is rejected as undecodable.
import Foundation

enum CyrillicCodePage: String, Sendable, CaseIterable {
    case windows1251 = "windows-1251"
    case koi8r = "koi8-r"

    /// Unicode scalar for bytes 0x80…0xFF (0xFFFD where the code page defines none).
    var upperHalf: [UInt16] {
        switch self {
        case .windows1251: return Self.windows1251Table
        case .koi8r: return Self.koi8rTable
        }
    }

    static let windows1251Table: [UInt16] = [
        0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021,  // 0x80
        0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,  // 0x88
        0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  // 0x90
        0xFFFD, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,  // 0x98
        0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7,  // 0xA0
        0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,  // 0xA8
        0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7,  // 0xB0
        0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,  // 0xB8
        0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417,  // 0xC0
        0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E, 0x041F,  // 0xC8
        0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427,  // 0xD0
        0x0428, 0x0429, 0x042A, 0x042B, 0x042C, 0x042D, 0x042E, 0x042F,  // 0xD8
        0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437,  // 0xE0
        0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F,  // 0xE8
        0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447,  // 0xF0
        0x0448, 0x0449, 0x044A, 0x044B, 0x044C, 0x044D, 0x044E, 0x044F,  // 0xF8
    ]

    static let koi8rTable: [UInt16] = [
        0x2500, 0x2502, 0x250C, 0x2510, 0x2514, 0x2518, 0x251C, 0x2524,  // 0x80
        0x252C, 0x2534, 0x253C, 0x2580, 0x2584, 0x2588, 0x258C, 0x2590,  // 0x88
        0x2591, 0x2592, 0x2593, 0x2320, 0x25A0, 0x2219, 0x221A, 0x2248,  // 0x90
        0x2264, 0x2265, 0x00A0, 0x2321, 0x00B0, 0x00B2, 0x00B7, 0x00F7,  // 0x98
        0x2550, 0x2551, 0x2552, 0x0451, 0x2553, 0x2554, 0x2555, 0x2556,  // 0xA0
        0x2557, 0x2558, 0x2559, 0x255A, 0x255B, 0x255C, 0x255D, 0x255E,  // 0xA8
        0x255F, 0x2560, 0x2561, 0x0401, 0x2562, 0x2563, 0x2564, 0x2565,  // 0xB0
        0x2566, 0x2567, 0x2568, 0x2569, 0x256A, 0x256B, 0x256C, 0x00A9,  // 0xB8
        0x044E, 0x0430, 0x0431, 0x0446, 0x0434, 0x0435, 0x0444, 0x0433,  // 0xC0
        0x0445, 0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E,  // 0xC8
        0x043F, 0x044F, 0x0440, 0x0441, 0x0442, 0x0443, 0x0436, 0x0432,  // 0xD0
        0x044C, 0x044B, 0x0437, 0x0448, 0x044D, 0x0449, 0x0447, 0x044A,  // 0xD8
        0x042E, 0x0410, 0x0411, 0x0426, 0x0414, 0x0415, 0x0424, 0x0413,  // 0xE0
        0x0425, 0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E,  // 0xE8
        0x041F, 0x042F, 0x0420, 0x0421, 0x0422, 0x0423, 0x0416, 0x0412,  // 0xF0
        0x042C, 0x042B, 0x0417, 0x0428, 0x042D, 0x0429, 0x0427, 0x042A,  // 0xF8
    ]

    /// Decodes the whole buffer to a native (UTF-8) string.
    func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let table = upperHalf
        var utf8 = [UInt8]()
        utf8.reserveCapacity(bytes.count + bytes.count / 2)
        for byte in bytes {
            if byte < 0x80 {
                utf8.append(byte)
                continue
            }
            let scalar = UInt32(table[Int(byte) - 0x80])
            if scalar < 0x800 {
                utf8.append(UInt8(0xC0 | (scalar >> 6)))
                utf8.append(UInt8(0x80 | (scalar & 0x3F)))
            } else {
                utf8.append(UInt8(0xE0 | (scalar >> 12)))
                utf8.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                utf8.append(UInt8(0x80 | (scalar & 0x3F)))
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Mean score per scored transition (see the header) and the number of transitions; nil when the
    /// text has no byte ≥ 0x80 to judge.
    func meanScore(_ bytes: UnsafeBufferPointer<UInt8>) -> (score: Double, transitions: Int)? {
        let table = upperHalf
        var total = 0.0
        var count = 0
        var sawHighByte = false
        var previous = CharacterClass.other
        var previousLetter = 0
        for byte in bytes {
            var current: CharacterClass
            var letter = 0
            if byte < 0x80 {
                current = CharacterClass.ascii(byte)
                if current.isLatinLetter && previous.isCyrillicLetter { total -= 4 }
            } else {
                sawHighByte = true
                let scalar = table[Int(byte) - 0x80]
                if let cyrillic = CyrillicLetter(scalar) {
                    letter = cyrillic.bigramIndex
                    if letter == 0 {
                        total -= 7.6
                        count += 1
                    }
                    if cyrillic.isUpper && previous.isLowerLetter { total -= 4 }
                    if previous.isLatinLetter { total -= 4 }
                    current = cyrillic.isUpper ? .cyrillicUpper : .cyrillicLower
                } else {
                    total -= Self.russianPunctuation.contains(scalar) ? 1 : 6
                    count += 1
                    current = .other
                }
            }
            if letter != 0 || previousLetter != 0 {
                total += Double(Self.bigramLogProbability[previousLetter * 33 + letter]) / 2
                count += 1
            }
            previous = current
            previousLetter = letter
        }
        guard sawHighByte, count > 0 else { return nil }
        return (total / Double(count), count)
    }

    /// Picks the code page whose reading scores best; nil when neither reads as Russian text. The
    /// first 256 KiB decide (a book does not change its encoding halfway).
    static func detect(_ bytes: UnsafeBufferPointer<UInt8>) -> (page: CyrillicCodePage, score: Double)? {
        let sample = UnsafeBufferPointer(rebasing: bytes.prefix(256 << 10))
        var best: (page: CyrillicCodePage, score: Double, transitions: Int)?
        for page in allCases {
            guard let (score, transitions) = page.meanScore(sample) else { continue }
            if best == nil || score > best!.score { best = (page, score, transitions) }
        }
        guard let best, best.score >= (best.transitions >= 50 ? -3.6 : -5.0) else { return nil }
        return (best.page, best.score)
    }

    private static let russianPunctuation: [UInt16] = [
        0x00A0, 0x00AB, 0x00BB, 0x2013, 0x2014, 0x2026, 0x2116, 0x201E, 0x201C, 0x201D, 0x2018, 0x2019,
        0x201A, 0x00B7, 0x00A9, 0x00B0, 0x2022, 0x00A7, 0x00B1, 0x00AD, 0x2122, 0x00AE, 0x20AC,
    ]

    private enum CharacterClass {
        case latinUpper, latinLower, cyrillicUpper, cyrillicLower, other

        static func ascii(_ byte: UInt8) -> CharacterClass {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return .latinUpper
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return .latinLower
            default: return .other
            }
        }

        var isLatinLetter: Bool { self == .latinUpper || self == .latinLower }
        var isCyrillicLetter: Bool { self == .cyrillicUpper || self == .cyrillicLower }
        var isLowerLetter: Bool { self == .latinLower || self == .cyrillicLower }
    }

    /// A Cyrillic letter with its case and its row in the bigram table (а = 1 … я = 32, ё as е; 0 for a
    /// letter Russian does not use).
    private struct CyrillicLetter {
        var isUpper: Bool
        var bigramIndex: Int

        init?(_ scalar: UInt16) {
            let lower: UInt16
            switch scalar {
            case 0x0410...0x042F: lower = scalar + 0x20; isUpper = true
            case 0x0400...0x040F: lower = scalar + 0x50; isUpper = true
            case 0x0430...0x045F: lower = scalar; isUpper = false
            case 0x0490, 0x0491: lower = 0x0491; isUpper = scalar == 0x0490
            default: return nil
            }
            switch lower {
            case 0x0430...0x044F: bigramIndex = Int(lower - 0x0430) + 1
            case 0x0451: bigramIndex = 6
            default: bigramIndex = 0
            }
        }
    }

    /// round(2 · ln P(column | row)); row and column 0 are "not a Russian letter" (a word boundary).
    private static let bigramLogProbability: [Int8] = [
        -15, -8, -6, -5, -8, -6, -7, -7, -7, -6, -15, -5, -7, -6, -5, -6, -5, -7, -5, -6, -7, -10, -9, -11, -7, -11, -15, -15, -15, -15, -9, -13, -10,
        -3, -15, -8, -6, -9, -7, -6, -8, -7, -12, -8, -6, -6, -6, -6, -15, -9, -6, -6, -5, -11, -12, -9, -11, -8, -9, -7, -15, -15, -15, -15, -8, -6,
        -8, -6, -13, -8, -15, -14, -4, -14, -15, -5, -15, -9, -6, -11, -8, -3, -15, -5, -9, -15, -5, -15, -11, -15, -15, -15, -9, -10, -4, -12, -12, -13, -6,
        -3, -4, -15, -14, -6, -10, -4, -15, -10, -5, -15, -11, -8, -12, -7, -4, -12, -8, -5, -9, -8, -15, -15, -14, -14, -11, -15, -15, -6, -8, -15, -15, -10,
        -6, -5, -15, -14, -15, -5, -4, -15, -15, -6, -15, -10, -6, -15, -9, -2, -15, -6, -15, -14, -7, -15, -15, -15, -11, -15, -15, -15, -15, -15, -15, -12, -15,
        -6, -4, -14, -8, -15, -12, -3, -9, -14, -5, -15, -9, -7, -12, -6, -4, -11, -6, -8, -12, -5, -15, -14, -10, -13, -12, -15, -15, -7, -8, -15, -13, -9,
        -3, -13, -8, -5, -7, -7, -6, -9, -9, -11, -7, -7, -6, -6, -4, -11, -10, -5, -6, -5, -14, -14, -10, -11, -9, -9, -10, -15, -15, -15, -15, -13, -12,
        -7, -5, -11, -14, -15, -5, -2, -14, -15, -4, -15, -10, -12, -13, -5, -9, -15, -13, -11, -15, -8, -15, -15, -15, -6, -15, -15, -15, -15, -10, -15, -14, -15,
        -4, -3, -8, -6, -9, -6, -7, -13, -14, -7, -15, -10, -7, -6, -4, -6, -15, -7, -12, -15, -7, -15, -15, -15, -14, -15, -15, -14, -7, -9, -15, -13, -8,
        -3, -11, -9, -7, -9, -8, -6, -11, -6, -9, -5, -7, -6, -6, -5, -11, -11, -8, -6, -5, -15, -13, -7, -8, -8, -9, -11, -15, -15, -15, -15, -11, -7,
        0, -15, -15, -14, -15, -8, -10, -15, -14, -15, -15, -11, -9, -10, -7, -14, -15, -13, -6, -7, -15, -15, -15, -12, -12, -10, -15, -15, -15, -15, -15, -15, -12,
        -4, -3, -15, -11, -15, -15, -8, -15, -15, -5, -15, -13, -8, -15, -10, -3, -15, -5, -8, -6, -6, -15, -15, -13, -15, -12, -15, -15, -15, -15, -15, -15, -15,
        -6, -4, -14, -15, -11, -12, -4, -9, -15, -4, -15, -9, -9, -14, -9, -4, -14, -15, -9, -13, -6, -15, -15, -15, -12, -15, -15, -15, -9, -4, -15, -5, -6,
        -3, -5, -12, -15, -15, -15, -4, -15, -15, -5, -15, -12, -10, -10, -6, -4, -10, -13, -10, -15, -5, -13, -15, -15, -14, -15, -15, -15, -6, -12, -14, -14, -8,
        -5, -3, -13, -15, -11, -10, -4, -15, -15, -4, -15, -10, -15, -15, -6, -4, -15, -11, -8, -8, -7, -13, -15, -11, -12, -15, -8, -15, -5, -8, -15, -13, -8,
        -3, -15, -6, -5, -6, -6, -7, -8, -9, -9, -7, -8, -6, -6, -6, -13, -9, -6, -5, -5, -13, -13, -10, -12, -8, -9, -12, -15, -15, -15, -13, -12, -10,
        -8, -6, -15, -15, -15, -15, -5, -15, -15, -6, -15, -11, -6, -15, -11, -2, -12, -3, -13, -11, -7, -15, -15, -12, -13, -13, -15, -15, -8, -10, -15, -15, -10,
        -6, -3, -11, -9, -9, -8, -4, -10, -14, -4, -15, -9, -12, -9, -8, -3, -11, -13, -9, -8, -5, -12, -11, -12, -12, -10, -15, -15, -7, -9, -15, -11, -8,
        -6, -7, -13, -7, -15, -11, -5, -15, -15, -7, -15, -5, -5, -8, -8, -6, -7, -10, -8, -3, -8, -15, -11, -14, -9, -13, -15, -15, -10, -8, -15, -13, -5,
        -3, -5, -15, -6, -15, -13, -5, -15, -15, -6, -15, -9, -10, -15, -8, -3, -15, -6, -6, -13, -8, -15, -15, -15, -13, -15, -15, -15, -8, -4, -15, -14, -10,
        -3, -9, -8, -8, -6, -5, -8, -5, -9, -12, -10, -7, -8, -6, -9, -14, -7, -7, -6, -6, -15, -14, -8, -13, -6, -7, -8, -15, -15, -15, -12, -7, -12,
        -4, -4, -15, -15, -14, -15, -4, -15, -15, -3, -15, -13, -8, -12, -12, -3, -15, -5, -11, -9, -5, -9, -15, -15, -15, -14, -15, -15, -10, -15, -15, -11, -15,
        -2, -5, -15, -7, -15, -15, -9, -15, -15, -7, -15, -15, -9, -12, -8, -2, -15, -8, -11, -9, -7, -15, -15, -15, -15, -15, -15, -15, -15, -14, -15, -15, -15,
        -5, -2, -15, -7, -14, -14, -3, -15, -10, -4, -15, -8, -14, -15, -15, -6, -15, -15, -13, -15, -7, -15, -15, -11, -15, -10, -15, -15, -6, -15, -15, -15, -15,
        -9, -4, -15, -14, -15, -15, -2, -15, -15, -3, -15, -8, -13, -15, -6, -12, -15, -14, -15, -3, -6, -15, -15, -15, -15, -7, -15, -15, -15, -8, -14, -15, -15,
        -8, -4, -15, -11, -15, -15, -3, -15, -15, -3, -15, -5, -7, -13, -6, -6, -11, -14, -15, -9, -7, -9, -15, -15, -15, -15, -15, -15, -15, -4, -15, -15, -15,
        -12, -5, -15, -15, -15, -15, -1, -15, -15, -2, -15, -15, -15, -15, -10, -15, -15, -14, -15, -15, -8, -15, -15, -15, -15, -15, -15, -15, -15, -9, -15, -15, -15,
        -9, -13, -13, -13, -13, -13, -1, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -13, -2,
        -2, -15, -9, -6, -10, -10, -5, -14, -11, -14, -4, -9, -6, -5, -9, -15, -10, -9, -6, -6, -15, -15, -6, -15, -9, -8, -14, -15, -15, -15, -15, -15, -14,
        -1, -15, -10, -12, -10, -10, -7, -15, -8, -11, -15, -6, -15, -9, -5, -14, -15, -15, -5, -9, -15, -13, -15, -13, -13, -6, -15, -15, -15, -15, -15, -7, -8,
        -6, -15, -11, -10, -9, -10, -15, -15, -9, -15, -9, -6, -7, -8, -7, -15, -8, -6, -10, -1, -15, -11, -11, -14, -15, -10, -15, -15, -15, -15, -15, -15, -14,
        -3, -15, -3, -13, -10, -5, -13, -14, -10, -14, -10, -11, -12, -9, -9, -15, -12, -8, -8, -3, -15, -15, -13, -11, -8, -12, -6, -15, -15, -15, -13, -11, -15,
        -1, -15, -13, -9, -10, -8, -7, -10, -8, -13, -10, -8, -9, -8, -7, -15, -12, -12, -9, -5, -15, -15, -9, -12, -10, -14, -8, -15, -15, -15, -15, -9, -11,
    ]
}
