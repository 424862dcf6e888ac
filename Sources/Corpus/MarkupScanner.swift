// MarkupScanner — a small XML tokenizer for FB2 and EPUB XHTML that also checks well-formedness (every
// tag closed, in order), so a damaged file is rejected with the line that breaks it. Entities: the five
// of XML, numeric references and the HTML names books use (&nbsp; &mdash; &laquo; …); an unknown name
// stays as written. HTML mode (EPUB) also accepts void elements written without a slash (<br>).
import Foundation

struct MarkupFailure: Error, Equatable {
    var line: Int
    var message: String
    var description: String { "malformed XML: line \(line): \(message)" }
}

enum MarkupToken: Equatable {
    case start(name: String, attributes: [String: String], selfClosing: Bool)
    case end(name: String)
    case text(String)
}

struct MarkupScanner {
    private let bytes: [UInt8]
    private let html: Bool
    private var position = 0
    private var line = 1
    private var open: [(name: String, line: Int)] = []
    private var sawElement = false

    init(_ text: String, html: Bool = false) {
        bytes = Array(text.utf8)
        self.html = html
    }

    /// The next token, nil at a well-formed end; throws at the first structural error.
    mutating func next() throws(MarkupFailure) -> MarkupToken? {
        while position < bytes.count {
            if bytes[position] != UInt8(ascii: "<") {
                let end = bytes[position...].firstIndex(of: UInt8(ascii: "<")) ?? bytes.count
                let text = decodeEntities(position, end)
                advance(to: end)
                if !text.isEmpty { return .text(text) }
                continue
            }
            if starts(with: "<!--") {
                try skip(past: "-->", what: "comment")
            } else if starts(with: "<![CDATA[") {
                let start = position + 9
                try skip(past: "]]>", what: "CDATA section")
                return .text(String(decoding: bytes[start..<(position - 3)], as: UTF8.self))
            } else if starts(with: "<!") {
                try skipDeclaration()
            } else if starts(with: "<?") {
                try skip(past: "?>", what: "processing instruction")
            } else if starts(with: "</") {
                return try endTag()
            } else {
                return try startTag()
            }
        }
        if let unclosed = open.last {
            throw MarkupFailure(line: line, message: "document ends while <\(unclosed.name)> opened on line \(unclosed.line) is still open")
        }
        if !sawElement { throw MarkupFailure(line: line, message: "no element found") }
        return nil
    }

    /// The element name without its namespace prefix (`dc:title` → `title`).
    static func localName(_ name: String) -> Substring {
        if let colon = name.lastIndex(of: ":") { return name[name.index(after: colon)...] }
        return Substring(name)
    }

    private static let voidElements: Set<String> = [
        "br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source", "embed", "param", "track",
    ]

    private mutating func startTag() throws(MarkupFailure) -> MarkupToken {
        let tagLine = line
        var cursor = position + 1
        let name = readName(&cursor)
        guard !name.isEmpty else { throw MarkupFailure(line: line, message: "'<' that does not start a tag (write &lt; in text)") }
        var attributes: [String: String] = [:]
        while true {
            skipSpace(&cursor)
            guard cursor < bytes.count else {
                throw MarkupFailure(line: tagLine, message: "tag <\(name)> is not closed with '>'")
            }
            let byte = bytes[cursor]
            if byte == UInt8(ascii: ">") || (byte == UInt8(ascii: "/") && cursor + 1 < bytes.count && bytes[cursor + 1] == UInt8(ascii: ">")) {
                let selfClosing = byte == UInt8(ascii: "/")
                advance(to: cursor + (selfClosing ? 2 : 1))
                sawElement = true
                let isVoid = html && Self.voidElements.contains(name.lowercased())
                if !selfClosing && !isVoid { open.append((name, tagLine)) }
                return .start(name: name, attributes: attributes, selfClosing: selfClosing || isVoid)
            }
            let attribute = readName(&cursor)
            guard !attribute.isEmpty else {
                throw MarkupFailure(line: tagLine, message: "unexpected '\(Unicode.Scalar(byte))' in tag <\(name)>")
            }
            skipSpace(&cursor)
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "=") else {
                if html { attributes[attribute] = ""; continue }
                throw MarkupFailure(line: tagLine, message: "attribute '\(attribute)' of <\(name)> has no value")
            }
            cursor += 1
            skipSpace(&cursor)
            guard cursor < bytes.count else { continue }
            let quote = bytes[cursor]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                guard let close = bytes[(cursor + 1)...].firstIndex(of: quote) else {
                    throw MarkupFailure(line: tagLine, message: "attribute '\(attribute)' of <\(name)> is not closed with \(Unicode.Scalar(quote))")
                }
                attributes[attribute] = decodeEntities(cursor + 1, close)
                cursor = close + 1
            } else if html {
                let start = cursor
                while cursor < bytes.count, !isSpace(bytes[cursor]), bytes[cursor] != UInt8(ascii: ">") { cursor += 1 }
                attributes[attribute] = decodeEntities(start, cursor)
            } else {
                throw MarkupFailure(line: tagLine, message: "attribute '\(attribute)' of <\(name)> needs a quoted value")
            }
        }
    }

    private mutating func endTag() throws(MarkupFailure) -> MarkupToken? {
        var cursor = position + 2
        let name = readName(&cursor)
        skipSpace(&cursor)
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: ">") else {
            throw MarkupFailure(line: line, message: "closing tag </\(name)> is not closed with '>'")
        }
        let tagLine = line
        advance(to: cursor + 1)
        if html && Self.voidElements.contains(name.lowercased()) { return try next() }
        guard let top = open.last else {
            throw MarkupFailure(line: tagLine, message: "closing tag </\(name)> but no element is open")
        }
        guard top.name == name else {
            throw MarkupFailure(line: tagLine, message: "closing tag </\(name)> does not match <\(top.name)> opened on line \(top.line)")
        }
        open.removeLast()
        return .end(name: name)
    }

    private mutating func skipDeclaration() throws(MarkupFailure) {
        let startLine = line
        var cursor = position + 2
        var bracketDepth = 0
        while cursor < bytes.count {
            switch bytes[cursor] {
            case UInt8(ascii: "["): bracketDepth += 1
            case UInt8(ascii: "]"): bracketDepth -= 1
            case UInt8(ascii: ">") where bracketDepth <= 0:
                advance(to: cursor + 1)
                return
            default: break
            }
            cursor += 1
        }
        throw MarkupFailure(line: startLine, message: "unterminated <! declaration")
    }

    private mutating func skip(past terminator: String, what: String) throws(MarkupFailure) {
        let pattern = Array(terminator.utf8)
        let startLine = line
        var cursor = position + 2
        while cursor + pattern.count <= bytes.count {
            if bytes[cursor] == pattern[0] && bytes[cursor..<(cursor + pattern.count)].elementsEqual(pattern) {
                advance(to: cursor + pattern.count)
                return
            }
            cursor += 1
        }
        throw MarkupFailure(line: startLine, message: "unterminated \(what)")
    }

    private func starts(with prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return prefix.withUTF8Buffer { bytes[position..<(position + count)].elementsEqual($0) }
    }

    private func readName(_ cursor: inout Int) -> String {
        let start = cursor
        while cursor < bytes.count {
            let byte = bytes[cursor]
            if isSpace(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "=")
                || byte == UInt8(ascii: "<") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") { break }
            cursor += 1
        }
        return String(decoding: bytes[start..<cursor], as: UTF8.self)
    }

    private func skipSpace(_ cursor: inout Int) {
        while cursor < bytes.count, isSpace(bytes[cursor]) { cursor += 1 }
    }

    private func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }

    private mutating func advance(to end: Int) {
        for index in position..<end where bytes[index] == 0x0A { line += 1 }
        position = end
    }

    /// The text of bytes[start..<end] with entity and character references replaced.
    private func decodeEntities(_ start: Int, _ end: Int) -> String {
        guard bytes[start..<end].contains(UInt8(ascii: "&")) else {
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        var out = String.UnicodeScalarView()
        var text = String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars[...]
        while let ampersand = text.firstIndex(of: "&") {
            out.append(contentsOf: text[..<ampersand])
            let rest = text[text.index(after: ampersand)...]
            if let semicolon = rest.prefix(12).firstIndex(of: ";"),
               let scalar = Self.resolve(String(String.UnicodeScalarView(rest[..<semicolon]))) {
                out.append(scalar)
                text = rest[rest.index(after: semicolon)...]
            } else {
                out.append("&")
                text = rest
            }
        }
        out.append(contentsOf: text)
        return String(out)
    }

    private static func resolve(_ reference: String) -> Unicode.Scalar? {
        if reference.hasPrefix("#x") || reference.hasPrefix("#X") {
            return UInt32(reference.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
        }
        if reference.hasPrefix("#") {
            return UInt32(reference.dropFirst()).flatMap(Unicode.Scalar.init)
        }
        return namedEntities[reference]
    }

    private static let namedEntities: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'",
        "nbsp": "\u{00A0}", "shy": "\u{00AD}", "mdash": "\u{2014}", "ndash": "\u{2013}", "hellip": "\u{2026}",
        "laquo": "\u{00AB}", "raquo": "\u{00BB}", "bdquo": "\u{201E}", "ldquo": "\u{201C}", "rdquo": "\u{201D}",
        "lsquo": "\u{2018}", "rsquo": "\u{2019}", "sbquo": "\u{201A}", "copy": "\u{00A9}", "reg": "\u{00AE}",
        "trade": "\u{2122}", "deg": "\u{00B0}", "middot": "\u{00B7}", "bull": "\u{2022}", "thinsp": "\u{2009}",
        "ensp": "\u{2002}", "emsp": "\u{2003}", "zwnj": "\u{200C}", "zwj": "\u{200D}", "times": "\u{00D7}",
        "minus": "\u{2212}", "sect": "\u{00A7}", "para": "\u{00B6}", "euro": "\u{20AC}", "numero": "\u{2116}",
        "prime": "\u{2032}", "Prime": "\u{2033}", "frac12": "\u{00BD}", "frac14": "\u{00BC}", "frac34": "\u{00BE}",
    ]
}
