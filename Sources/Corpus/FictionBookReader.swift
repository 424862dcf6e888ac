// FictionBookReader — FB2 (FictionBook 2, XML): title and authors from <description><title-info>, text
// from every <body> except the footnote bodies (name="notes" or "comments"); inline note references
// (<a type="note">), images and <binary> attachments are dropped. Paragraphs come from <p>, <subtitle>,
// <text-author> and table cells; a <stanza> of <v> lines is one paragraph with line breaks; each
// <section> starts a new scene. The encoding comes from the XML declaration.
import Foundation

enum FictionBookReader {
    /// `encoding="…"` of the XML declaration, if any.
    static func declaredEncoding(_ data: Data) -> String? {
        let head = String(decoding: data.prefix(200), as: UTF8.self)
        guard head.hasPrefix("<?xml") || head.drop(while: { $0 == "\u{FEFF}" }).hasPrefix("<?xml"),
              let close = head.range(of: "?>") else { return nil }
        let declaration = head[..<close.lowerBound]
        guard let key = declaration.range(of: "encoding") else { return nil }
        let rest = declaration[key.upperBound...].drop { $0 == " " || $0 == "=" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix { $0 != quote })
    }

    static func extract(_ text: String) -> Result<ExtractedDocument, DecodeFailure> {
        var scanner = MarkupScanner(text)
        var builder = BlockBuilder()
        var path: [Substring] = []
        var skipDepth: Int?
        var title = ""
        var authors: [String] = []
        var authorParts: [String] = []
        var sawRoot = false
        do {
            while let token = try scanner.next() {
                switch token {
                case .start(let name, let attributes, let selfClosing):
                    let local = MarkupScanner.localName(name)
                    if !sawRoot {
                        sawRoot = true
                        guard local == "FictionBook" else {
                            return .failure(DecodeFailure(kind: .malformed, reason: "not a FictionBook document (root element <\(name)>)"))
                        }
                    }
                    if selfClosing {
                        if skipDepth == nil && local == "empty-line" { builder.flush() }
                        continue
                    }
                    path.append(local)
                    guard skipDepth == nil else { continue }
                    let isNotesBody = local == "body" && ["notes", "comments"].contains(attributes["name"] ?? "")
                    let isNoteLink = local == "a" && attributes.first { MarkupScanner.localName($0.key) == "type" }?.value == "note"
                    if isNotesBody || isNoteLink || local == "binary" || local == "image" {
                        skipDepth = path.count
                        continue
                    }
                    if local == "section" { builder.sceneBreak() }
                    if Self.blockElements.contains(local) { builder.flush() }
                    if local == "author" && path.dropLast().last == "title-info" { authorParts = [] }
                case .end:
                    let local = path.removeLast()
                    if let depth = skipDepth {
                        if path.count < depth { skipDepth = nil }
                        continue
                    }
                    if local == "v" {
                        builder.lineBreak()
                    } else if Self.blockElements.contains(local) {
                        builder.flush()
                    }
                    if local == "author" && path.last == "title-info" {
                        let name = authorParts.joined(separator: " ")
                        if !name.isEmpty { authors.append(name) }
                    }
                case .text(let content):
                    guard skipDepth == nil else { continue }
                    if path.contains("description") {
                        let parent = path.last ?? ""
                        if parent == "book-title" && path.contains("title-info") { title += content }
                        if ["first-name", "middle-name", "last-name"].contains(parent) && path.dropLast().last == "author"
                            && path.contains("title-info") {
                            let part = content.trimmingCharacters(in: .whitespacesAndNewlines)
                            if !part.isEmpty { authorParts.append(part) }
                        }
                    } else if path.contains("body") {
                        builder.append(content)
                    }
                }
            }
        } catch {
            return .failure(DecodeFailure(kind: .malformed, reason: error.description))
        }
        let blocks = builder.finish()
        guard !blocks.isEmpty else { return .failure(DecodeFailure(kind: .empty, reason: "FictionBook has no text in <body>")) }
        let cleanTitle = String(decoding: TextLayout.collapse(TextCleanup.clean(title)), as: UTF8.self)
        return .success(ExtractedDocument(
            title: cleanTitle.isEmpty ? nil : cleanTitle,
            author: authors.isEmpty ? nil : authors.joined(separator: ", "),
            blocks: blocks))
    }

    private static let blockElements: Set<Substring> = [
        "p", "subtitle", "text-author", "title", "epigraph", "cite", "poem", "stanza", "section", "body", "annotation",
        "td", "th", "tr", "table", "date",
    ]
}
