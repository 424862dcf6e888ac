// RandomText — seeded random strings for property tests: words in several scripts, every kind of
// whitespace the split patterns treat specially, emoji sequences, combining marks, controls,
// noncharacters, private-use and astral scalars, and random scalars from the whole code space.
import Foundation
import TestSupport

enum RandomText {
    static let atoms: [String] = [
        "в", "том", "числе", "не", "было", "и", "Привет", "мир", "ЁЖИК", "ещё", "the", "cat", "It", "'s", "'LL", "'ſ", "x'", "don't",
        " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u{00A0}", "\u{3000}", "\u{2003}", "\u{2028}", "\u{0085}",
        "\u{200B}", "\u{FEFF}", "\u{00AD}", "\u{0000}", "\u{0007}", "\u{001B}", "\u{007F}", "\u{0080}", "\u{009F}",
        "👨‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "🇷🇺", "1️⃣", "❤️", "😀", "\u{0301}", "e\u{0301}", "é", "ÿ", "ß", "İ", "ǅ", "ﬁ",
        "你好", "東京", "مرحبا", "שלום", "नमस्ते", "สวัสดี", "𝔘𝔫𝔦", "\u{10FFFF}", "\u{FFFD}", "\u{FFFE}", "\u{FFFF}", "\u{E000}",
        "0", "12", "1234567", "٣", "²", "½", "...", "—", "«", "»", "!?", "(", ")", ",", ".", "-", "_", "~", "$", "#", "<", ">", "|",
    ]

    static func scalar(_ generator: inout SeededGenerator) -> Character {
        while true {
            let value: UInt32
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: value = UInt32.random(in: 0x20..<0x80, using: &generator)
            case 1: value = UInt32.random(in: 0x80..<0x800, using: &generator)
            case 2: value = UInt32.random(in: 0x800..<0x10000, using: &generator)
            default: value = UInt32.random(in: 0x10000...0x10FFFF, using: &generator)
            }
            if let scalar = Unicode.Scalar(value) { return Character(scalar) }
        }
    }

    /// A string of up to `maxParts` atoms and random scalars.
    static func string(_ generator: inout SeededGenerator, maxParts: Int = 24) -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0...maxParts, using: &generator) {
            if Int.random(in: 0..<5, using: &generator) == 0 {
                text.append(scalar(&generator))
            } else {
                text += atoms.randomElement(using: &generator)!
            }
            if Bool.random(using: &generator) { text += " " }
        }
        return text
    }
}
