// TextLayout — the line-level half of normalisation: plain text (txt, Markdown, fortune entries, JSON
// `text`) becomes paragraphs, with whitespace normalised but paragraphs preserved.
//   • A blank line ends a paragraph. So does an indented line (≥ 2 columns) that is deeper than the line
//     before or follows a line that did not fill the wrap width — the lib.ru style, where paragraphs
//     start with an indent and have no blank line between them.
//   • A line of only `* - _ = ~ #` (three or more, spaces allowed: "* * *", "***") is a scene break.
//   • Line-end dehyphenation: "пере-\nход" → "переход". The hyphen stays when the next line starts with a
//     capital ("Санкт-\nПетербург") or when the parts form a hyphenated Russian word ("кто-\nнибудь",
//     "что-\nто", "кое-\nкак").
//   • Other line breaks inside a paragraph: in hard-wrapped text (the 95th percentile of line lengths is
//     30…120 characters) a line filled to within max(10, width/5) of that width continues with a space;
//     a shorter line keeps its break (verse, dialogue, addresses).
//   • Spaces and tabs collapse to one space; lines are trimmed; paragraphs are joined by "\n\n" later.
import Foundation

enum TextBlock: Equatable, Sendable {
    /// A paragraph's text as valid UTF-8 (kept as bytes: no String is built and re-validated per paragraph).
    case paragraph([UInt8])
    /// A forced scene boundary: a chapter or section start, or a "* * *" line.
    case sceneBreak

    static func paragraph(_ text: String) -> TextBlock { .paragraph(Array(text.utf8)) }

    /// The paragraph's text; nil for a scene break.
    var text: String? {
        guard case .paragraph(let bytes) = self else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

enum TextLayout {
    struct Line {
        var start: Int
        var end: Int
        var indent: Int
        var length: Int
        var isBlank: Bool { start == end }
    }

    static func blocks(fromPlainText text: String, wrapWidth: Int? = nil) -> [TextBlock] {
        var input = text
        return input.withUTF8 { blocks(fromPlainText: $0, wrapWidth: wrapWidth) }
    }

    /// The same for valid UTF-8 bytes (a slice of a larger cleaned text, such as one fortune entry).
    static func blocks(fromPlainText bytes: UnsafeBufferPointer<UInt8>, wrapWidth: Int? = nil) -> [TextBlock] {
        let lines = splitLines(bytes)
        let width = wrapWidth ?? detectWrapWidth(lines)
        return assemble(bytes, lines, width: width)
    }

    /// The wrap width of hard-wrapped text, or nil when lines are not wrapped (or too few to tell).
    static func wrapWidth(of text: String) -> Int? {
        var input = text
        return input.withUTF8 { detectWrapWidth(splitLines($0)) }
    }

    /// Whitespace normalisation of a paragraph that markup delimited: runs of spaces and tabs → one
    /// space, lines trimmed, empty lines dropped (line breaks from <br/> or verse lines are kept).
    static func collapse(_ paragraph: String) -> [UInt8] {
        var input = paragraph
        return input.withUTF8 { bytes in
            var out = [UInt8]()
            out.reserveCapacity(bytes.count)
            for line in splitLines(bytes) where !line.isBlank {
                if !out.isEmpty { out.append(0x0A) }
                appendCollapsed(bytes, line, to: &out)
            }
            return out
        }
    }

    static func splitLines(_ bytes: UnsafeBufferPointer<UInt8>) -> [Line] {
        var lines: [Line] = []
        var lineStart = 0
        let count = bytes.count
        guard let base = bytes.baseAddress else { return [] }
        while lineStart <= count {
            let newline = lineStart < count ? memchr(base + lineStart, 0x0A, count - lineStart) : nil
            let lineEnd = newline.map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? count
            var start = lineStart, indent = 0
            while start < lineEnd && (bytes[start] == 0x20 || bytes[start] == 0x09) {
                indent += bytes[start] == 0x09 ? 4 : 1
                start += 1
            }
            var end = lineEnd
            while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
            var length = 0
            for index in start..<end where bytes[index] & 0xC0 != 0x80 { length += 1 }
            if lineEnd < count || start < end { lines.append(Line(start: start, end: end, indent: indent, length: length)) }
            lineStart = lineEnd + 1
        }
        return lines
    }

    static func detectWrapWidth(_ lines: [Line]) -> Int? {
        let lengths = lines.filter { !$0.isBlank }.map(\.length).sorted()
        guard lengths.count >= 8 else { return nil }
        let p95 = lengths[min(lengths.count - 1, lengths.count * 95 / 100)]
        return (30...120).contains(p95) ? p95 : nil
    }

    private static func assemble(_ bytes: UnsafeBufferPointer<UInt8>, _ lines: [Line], width: Int?) -> [TextBlock] {
        var blocks: [TextBlock] = []
        var paragraph: [UInt8] = []
        var previous: Line?
        func flush() {
            if !paragraph.isEmpty { blocks.append(.paragraph(paragraph)) }
            paragraph.removeAll(keepingCapacity: true)
            previous = nil
        }
        let slack = width.map { max(10, $0 / 5) } ?? 0
        for line in lines {
            if line.isBlank { flush(); continue }
            if isSceneBreakMarker(bytes, line) {
                flush()
                if let last = blocks.last, last != .sceneBreak { blocks.append(.sceneBreak) }
                continue
            }
            if let prev = previous {
                let prevFilled = width.map { prev.length >= $0 - slack } ?? false
                if line.indent >= 2 && (line.indent > prev.indent || !prevFilled) {
                    flush()
                } else if !joinHyphenated(&paragraph, bytes, line) {
                    let wrapped = width.map { prev.length >= $0 - slack } ?? false
                    paragraph.append(wrapped ? 0x20 : 0x0A)
                }
            }
            appendCollapsed(bytes, line, to: &paragraph)
            previous = line
        }
        flush()
        if blocks.last == .sceneBreak { blocks.removeLast() }
        return blocks
    }

    /// Joins a word hyphenated across the line end; returns false when the paragraph does not end in
    /// a letter and a hyphen or the next line does not start with a letter.
    private static func joinHyphenated(_ paragraph: inout [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, _ line: Line) -> Bool {
        let hyphenWidth: Int
        if paragraph.last == UInt8(ascii: "-") {
            hyphenWidth = 1
        } else if paragraph.count >= 3 && paragraph[(paragraph.count - 3)...].elementsEqual([0xE2, 0x80, 0x90]) {
            hyphenWidth = 3  // U+2010 HYPHEN
        } else {
            return false
        }
        let before = trailingWord(paragraph, end: paragraph.count - hyphenWidth)
        guard !before.isEmpty, let first = String(decoding: UnsafeBufferPointer(rebasing: bytes[line.start..<line.end]), as: UTF8.self).unicodeScalars.first,
              first.properties.isAlphabetic else { return false }
        if first.properties.isUppercase { return true }
        let after = leadingWord(bytes, line)
        if !isHyphenatedWord(before: before.lowercased(), after: after.lowercased()) {
            paragraph.removeLast(hyphenWidth)
        }
        return true
    }

    private static let hyphenSuffixes: Set<String> = ["нибудь", "либо", "таки"]
    private static let toPronouns: Set<String> = [
        "кто", "что", "где", "куда", "когда", "как", "какой", "какая", "какое", "какие", "какого", "какую", "каким",
        "чей", "чья", "чьё", "чье", "чьи", "почему", "зачем", "откуда", "кого", "чего", "кому", "чему", "кем", "чем",
        "сколько", "так", "такой", "тот", "оттуда",
    ]

    private static func isHyphenatedWord(before: String, after: String) -> Bool {
        hyphenSuffixes.contains(after) || before == "кое" || (after == "то" && toPronouns.contains(before))
    }

    private static func trailingWord(_ bytes: [UInt8], end: Int) -> String {
        let scalars = String(decoding: bytes[..<end].suffix(64), as: UTF8.self).unicodeScalars
        return String(String.UnicodeScalarView(scalars.reversed().prefix { $0.properties.isAlphabetic }.reversed()))
    }

    private static func leadingWord(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Line) -> String {
        let scalars = String(decoding: UnsafeBufferPointer(rebasing: bytes[line.start..<min(line.end, line.start + 64)]), as: UTF8.self).unicodeScalars
        return String(String.UnicodeScalarView(scalars.prefix { $0.properties.isAlphabetic }))
    }

    private static func isSceneBreakMarker(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Line) -> Bool {
        var symbols = 0
        for index in line.start..<line.end {
            switch bytes[index] {
            case UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "="), UInt8(ascii: "~"), UInt8(ascii: "#"):
                symbols += 1
            case 0x20, 0x09:
                continue
            default:
                return false
            }
        }
        return symbols >= 3
    }

    /// Appends the line's text with every run of spaces and tabs collapsed to one space.
    private static func appendCollapsed(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Line, to out: inout [UInt8]) {
        let content = UnsafeBufferPointer(rebasing: bytes[line.start..<line.end])
        var previousWasSpace = false
        var needsCollapsing = false
        for byte in content {
            if byte == 0x09 || (byte == 0x20 && previousWasSpace) {
                needsCollapsing = true
                break
            }
            previousWasSpace = byte == 0x20
        }
        guard needsCollapsing else {
            out.append(contentsOf: content)
            return
        }
        var inSpace = false
        for index in line.start..<line.end {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 {
                inSpace = true
                continue
            }
            if inSpace { out.append(0x20); inSpace = false }
            out.append(byte)
        }
    }
}
