// DocumentText — a normalised document: its paragraphs joined by a blank line ("\n\n") as UTF-8, with
// each paragraph's byte and code-point range and whether a scene must start at it. Scene offsets and
// the document id (SHA-256 of this text) refer to exactly this string.
import Crypto
import Foundation

struct DocumentText: Sendable {
    struct Paragraph: Equatable, Sendable {
        var byteStart: Int
        var byteEnd: Int
        var charStart: Int
        var charEnd: Int
        /// A chapter, section or "* * *" precedes this paragraph: a scene starts here.
        var breakBefore: Bool
    }

    var utf8: [UInt8] = []
    var paragraphs: [Paragraph] = []

    /// Joins the blocks; lower-cases each paragraph when asked. Empty when no paragraph has text.
    init(_ blocks: [TextBlock], lowercase: Bool) {
        var pendingBreak = false
        var chars = 0
        for block in blocks {
            guard case .paragraph(let raw) = block else {
                pendingBreak = !paragraphs.isEmpty
                continue
            }
            let text = lowercase ? Array(String(decoding: raw, as: UTF8.self).lowercased().utf8) : raw
            guard !text.isEmpty else { continue }
            if !paragraphs.isEmpty {
                utf8.append(0x0A)
                utf8.append(0x0A)
                chars += 2
            }
            let byteStart = utf8.count
            var length = 0
            text.withUnsafeBufferPointer { bytes in
                utf8.append(contentsOf: bytes)
                for byte in bytes where byte & 0xC0 != 0x80 { length += 1 }
            }
            paragraphs.append(Paragraph(
                byteStart: byteStart, byteEnd: utf8.count, charStart: chars, charEnd: chars + length,
                breakBefore: pendingBreak))
            chars += length
            pendingBreak = false
        }
    }

    var isEmpty: Bool { paragraphs.isEmpty }

    /// 16 hex digits of SHA-256 over the normalised text: the same text gets the same id wherever it
    /// lies, so ids survive renaming and reordering of the inputs.
    var id: String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for byte in SHA256.hash(data: utf8).prefix(8) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
