// PlainTextReaders — the line-based formats: plain text (one document), Markdown (one document, markup
// stripped), fortune files (`%` lines separate entries; each entry is a document) and JSON Lines
// (each line's `text` field is a document; a bad line is a reject, the others still count).
import Foundation

struct ExtractedDocument: Sendable {
    /// Where in the file: a zip entry name, "line N" (JSON Lines), "entry N" (fortune).
    var entry: String?
    var title: String?
    var author: String?
    var blocks: [TextBlock]
    /// How the text was stored; set by SourceReader (EPUB: the encoding of its first spine document).
    var encoding: TextEncoding?
}

struct EntryReject: Error, Sendable, Equatable {
    var entry: String?
    var kind: CorpusReject.Kind
    var reason: String
}

enum PlainTextReader {
    static func extract(_ text: String) -> ExtractedDocument {
        ExtractedDocument(blocks: TextLayout.blocks(fromPlainText: TextCleanup.clean(text)))
    }
}

enum FortuneReader {
    static func separatorCount(_ text: String) -> Int {
        var count = 0
        var input = text
        input.withUTF8 { bytes in
            var lineStart = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x0A {
                var end = index
                if end > lineStart && bytes[end - 1] == 0x0D { end -= 1 }
                if end - lineStart == 1 && bytes[lineStart] == UInt8(ascii: "%") { count += 1 }
                lineStart = index + 1
            }
        }
        return count
    }

    /// Entries are numbered from 1 in file order; empty entries (e.g. a leading `%`) are passed over.
    static func extract(_ text: String) -> [ExtractedDocument] {
        var cleaned = TextCleanup.clean(text)
        let width = TextLayout.wrapWidth(of: cleaned)
        var documents: [ExtractedDocument] = []
        var entryNumber = 0
        cleaned.withUTF8 { bytes in
            var entryStart = 0
            var lineStart = 0
            func finishEntry(_ end: Int) {
                let entry = UnsafeBufferPointer(rebasing: bytes[entryStart..<max(entryStart, end)])
                guard entry.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 }) else { return }
                entryNumber += 1
                let blocks = TextLayout.blocks(fromPlainText: entry, wrapWidth: width)
                if !blocks.isEmpty { documents.append(ExtractedDocument(entry: "entry \(entryNumber)", blocks: blocks)) }
            }
            for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x0A {
                if index - lineStart == 1 && bytes[lineStart] == UInt8(ascii: "%") {
                    finishEntry(lineStart)
                    entryStart = min(index + 1, bytes.count)
                }
                lineStart = index + 1
            }
            finishEntry(bytes.count)
        }
        return documents
    }
}

enum JSONLinesReader {
    static func extract(_ text: String) -> (documents: [ExtractedDocument], rejects: [EntryReject]) {
        var documents: [ExtractedDocument] = []
        var rejects: [EntryReject] = []
        var input = text
        input.withUTF8 { bytes in
            var lineNumber = 0
            var lineStart = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x0A {
                lineNumber += 1
                defer { lineStart = index + 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<index])
                guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
                let entry = "line \(lineNumber)"
                let object: [String: JSONValue]
                do throws(JSONLineError) {
                    object = try JSONLine.parseObject(line)
                } catch {
                    rejects.append(EntryReject(entry: entry, kind: .malformed, reason: "not a JSON object: \(error.description)"))
                    continue
                }
                guard case .string(let value)? = object["text"] else {
                    let found = object["text"] == nil ? "missing" : "not a string"
                    rejects.append(EntryReject(entry: entry, kind: .malformed, reason: "field \"text\" is \(found) (expected a string)"))
                    continue
                }
                let blocks = TextLayout.blocks(fromPlainText: TextCleanup.clean(value))
                if blocks.isEmpty {
                    rejects.append(EntryReject(entry: entry, kind: .empty, reason: "field \"text\" holds no text"))
                    continue
                }
                var title: String?
                if case .string(let value)? = object["title"] { title = value }
                var author: String?
                if case .string(let value)? = object["author"] { author = value }
                documents.append(ExtractedDocument(entry: entry, title: title, author: author, blocks: blocks))
            }
        }
        return (documents, rejects)
    }
}

enum MarkdownReader {
    /// Markdown → plain text, then the plain-text layout. Headings and list items become paragraphs,
    /// thematic breaks become scene breaks, fenced code and front matter are dropped, links keep their
    /// text, images and inline HTML tags go, emphasis and code markers are removed.
    static func extract(_ text: String) -> ExtractedDocument {
        var lines = TextCleanup.clean(text).utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(Substring($0)) }
        if lines.first?.trimmedSpaces == "---",
           let close = lines.dropFirst().firstIndex(where: { $0.trimmedSpaces == "---" }) {
            lines.removeSubrange(0...close)
        }
        var out: [String] = []
        var inFence = false
        for raw in lines {
            var line = raw
            let trimmed = line.trimmedSpaces
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle(); continue }
            if inFence { continue }
            while line.trimmedSpaces.hasPrefix(">") {
                let afterMarker = line.drop { $0 == " " }.dropFirst()
                line = String(afterMarker.first == " " ? afterMarker.dropFirst() : afterMarker)
            }
            let content = line.trimmedSpaces
            if isSetextUnderline(content), let last = out.last, !last.trimmedSpaces.isEmpty {
                out.append("")
                continue
            }
            if let heading = atxHeading(content) {
                out += ["", inline(heading), ""]
                continue
            }
            if let item = listItem(content) {
                out += ["", inline(item)]
                continue
            }
            out.append(isThematicBreak(content) ? "* * *" : inline(line))
        }
        return ExtractedDocument(blocks: TextLayout.blocks(fromPlainText: out.joined(separator: "\n")))
    }

    private static func atxHeading(_ line: String) -> String? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let rest = line.dropFirst(hashes)
        guard rest.isEmpty || rest.first == " " else { return nil }
        var heading = String(rest).trimmedSpaces
        while heading.hasSuffix("#") { heading.removeLast() }
        return heading.trimmedSpaces
    }

    private static func listItem(_ line: String) -> String? {
        for marker in ["- ", "* ", "+ "] where line.hasPrefix(marker) && !isThematicBreak(line) {
            return String(line.dropFirst(2))
        }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        let rest = line.dropFirst(digits.count)
        guard rest.hasPrefix(". ") || rest.hasPrefix(") ") else { return nil }
        return String(rest.dropFirst(2))
    }

    private static func isSetextUnderline(_ line: String) -> Bool {
        guard let first = line.utf8.first, first == UInt8(ascii: "=") || first == UInt8(ascii: "-") else { return false }
        return line.utf8.count >= 2 && line.utf8.allSatisfy { $0 == first }
    }

    private static func isThematicBreak(_ line: String) -> Bool {
        guard let first = line.utf8.first, first == UInt8(ascii: "*") || first == UInt8(ascii: "-") || first == UInt8(ascii: "_") else {
            return false
        }
        let symbols = line.filter { $0 != " " }
        guard symbols.count >= 3, let first = symbols.first, "*-_".contains(first) else { return false }
        return symbols.allSatisfy { $0 == first }
    }

    /// Inline markup: images dropped, links and autolinks keep their text, tags and emphasis removed,
    /// backslash escapes resolved.
    static func inline(_ line: String) -> String {
        let hasMarkup = line.utf8.contains { byte in
            byte == UInt8(ascii: "[") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "`") || byte == UInt8(ascii: "\\")
        }
        guard hasMarkup else { return line }
        var chars = Array(line.unicodeScalars)
        let count = chars.count
        chars.append("\0")  // one look-ahead past the end is always safe
        var out = String.UnicodeScalarView()
        var index = 0
        func isWord(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isAlphabetic || scalar.properties.numericType != nil
        }
        func closing(_ bracket: Unicode.Scalar, from: Int) -> Int? {
            var depth = 0
            var cursor = from
            while cursor < count {
                if chars[cursor] == "[" { depth += 1 }
                if chars[cursor] == bracket {
                    depth -= 1
                    if depth == 0 || bracket == ")" { return cursor }
                }
                cursor += 1
            }
            return nil
        }
        while index < count {
            let char = chars[index]
            switch char {
            case "\\" where index + 1 < count && chars[index + 1].isASCII && !isWord(chars[index + 1]) && chars[index + 1] != " ":
                out.append(chars[index + 1])
                index += 2
            case "!" where chars[index + 1] == "[":
                if let close = closing("]", from: index + 1), chars[close + 1] == "(", let paren = closing(")", from: close + 1) {
                    index = paren + 1
                } else {
                    out.append(char)
                    index += 1
                }
            case "[":
                if let close = closing("]", from: index), chars[close + 1] == "(", let paren = closing(")", from: close + 1) {
                    out.append(contentsOf: inline(String(String.UnicodeScalarView(chars[(index + 1)..<close]))).unicodeScalars)
                    index = paren + 1
                } else {
                    out.append(char)
                    index += 1
                }
            case "<":
                if let close = chars[index..<count].firstIndex(of: ">"), index + 1 < close,
                   chars[index + 1].properties.isAlphabetic || chars[index + 1] == "/" {
                    let inside = String(String.UnicodeScalarView(chars[(index + 1)..<close]))
                    if inside.hasPrefix("http://") || inside.hasPrefix("https://") || inside.hasPrefix("mailto:") {
                        out.append(contentsOf: inside.unicodeScalars)
                    }
                    index = close + 1
                } else {
                    out.append(char)
                    index += 1
                }
            case "*", "`":
                index += 1
            case "_":
                if index > 0 && isWord(chars[index - 1]) && isWord(chars[index + 1]) { out.append(char) }
                index += 1
            default:
                out.append(char)
                index += 1
            }
        }
        return String(out)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (cheaper than Foundation's character-set trim).
    var trimmedSpaces: String {
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return String(self[first...last])
    }
}
