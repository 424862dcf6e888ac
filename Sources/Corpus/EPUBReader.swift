// EPUBReader — EPUB 2/3: META-INF/container.xml names the package document (OPF); its <spine> gives the
// reading order of XHTML documents, each turned into paragraphs by XHTMLText; <dc:title> and
// <dc:creator> give title and author. Spine items marked linear="no" (notes, covers) are left out. A
// spine item missing from the archive rejects the whole book: a book with a hole is not kept.
import Foundation

enum EPUBReader {
    static func extract(_ archive: inout ZipArchive) -> Result<ExtractedDocument, EntryReject> {
        func fail(_ entry: String?, _ kind: CorpusReject.Kind, _ reason: String) -> Result<ExtractedDocument, EntryReject> {
            .failure(EntryReject(entry: entry, kind: kind, reason: reason))
        }
        let containerName = "META-INF/container.xml"
        guard let container = archive.entry(named: containerName) else {
            return fail(nil, .missingPart, "EPUB has no \(containerName)")
        }
        let containerText: String
        switch readText(&archive, container) {
        case .success(let decoded): containerText = decoded.text
        case .failure(let failure): return .failure(failure)
        }
        var packagePath: String?
        var scanner = MarkupScanner(containerText)
        do {
            while let token = try scanner.next() {
                if case .start(let name, let attributes, _) = token, MarkupScanner.localName(name) == "rootfile", packagePath == nil {
                    packagePath = attributes["full-path"]
                }
            }
        } catch {
            return fail(containerName, .malformed, error.description)
        }
        guard let packagePath, !packagePath.isEmpty else {
            return fail(containerName, .missingPart, "container.xml names no <rootfile full-path=…>")
        }
        guard let packageEntry = archive.entry(named: packagePath) else {
            return fail(packagePath, .missingPart, "EPUB package document \(packagePath) is missing from the archive")
        }
        let package: Package
        switch readText(&archive, packageEntry).flatMap({ parsePackage($0.text, entry: packagePath) }) {
        case .success(let parsed): package = parsed
        case .failure(let failure): return .failure(failure)
        }
        let base = packagePath.contains("/") ? String(packagePath[...packagePath.lastIndex(of: "/")!]) : ""
        var builder = BlockBuilder()
        var encoding: TextEncoding?
        for itemref in package.spine where itemref.linear {
            guard let item = package.manifest[itemref.idref] else {
                return fail(packagePath, .missingPart, "spine item '\(itemref.idref)' is not in the manifest")
            }
            guard item.mediaType.contains("html") else { continue }
            let path = resolve(item.href, base: base)
            guard let entry = archive.entry(named: path) else {
                return fail(path, .missingPart, "spine item '\(itemref.idref)' (\(path)) is missing from the archive")
            }
            let xhtml: String
            switch readText(&archive, entry) {
            case .success(let decoded):
                xhtml = decoded.text
                encoding = encoding ?? decoded.encoding
            case .failure(let failure):
                return .failure(failure)
            }
            builder.sceneBreak()
            do {
                try XHTMLText.append(xhtml, to: &builder)
            } catch {
                return fail(path, .malformed, error.description)
            }
        }
        let blocks = builder.finish()
        guard !blocks.isEmpty else { return fail(nil, .empty, "EPUB spine holds no text") }
        return .success(ExtractedDocument(title: package.title, author: package.author, blocks: blocks, encoding: encoding))
    }

    private struct Package {
        var manifest: [String: (href: String, mediaType: String)] = [:]
        var spine: [(idref: String, linear: Bool)] = []
        var title: String?
        var author: String?
    }

    private static func parsePackage(_ text: String, entry: String) -> Result<Package, EntryReject> {
        var package = Package()
        var scanner = MarkupScanner(text)
        var current: Substring?
        var title = "", creators: [String] = [], creator = ""
        do {
            while let token = try scanner.next() {
                switch token {
                case .start(let name, let attributes, let selfClosing):
                    let local = MarkupScanner.localName(name)
                    switch local {
                    case "item":
                        if let id = attributes["id"], let href = attributes["href"] {
                            package.manifest[id] = (href, attributes["media-type"] ?? "")
                        }
                    case "itemref":
                        if let idref = attributes["idref"] { package.spine.append((idref, attributes["linear"] != "no")) }
                    default:
                        if !selfClosing { current = local }
                        if local == "creator" { creator = "" }
                    }
                case .end(let name):
                    let local = MarkupScanner.localName(name)
                    if local == "creator" {
                        let trimmed = creator.trimmingCharacters(in: .whitespacesAndNewlines)
                        if !trimmed.isEmpty { creators.append(trimmed) }
                    }
                    current = nil
                case .text(let content):
                    if current == "title" && title.isEmpty { title = content }
                    if current == "creator" { creator += content }
                }
            }
        } catch {
            return .failure(EntryReject(entry: entry, kind: .malformed, reason: error.description))
        }
        let cleanTitle = title.trimmingCharacters(in: .whitespacesAndNewlines)
        package.title = cleanTitle.isEmpty ? nil : cleanTitle
        package.author = creators.isEmpty ? nil : creators.joined(separator: ", ")
        return .success(package)
    }

    /// A manifest href relative to the package document: percent-decoded, fragment dropped, `.`/`..`
    /// resolved inside the archive (a `..` above the root stays and will not match any entry).
    static func resolve(_ href: String, base: String) -> String {
        let withoutFragment = href.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? href
        let decoded = withoutFragment.removingPercentEncoding ?? withoutFragment
        var parts: [Substring] = []
        for part in (base + decoded).split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    private static func readText(_ archive: inout ZipArchive, _ entry: ZipArchive.Entry) -> Result<DecodedText, EntryReject> {
        switch archive.read(entry) {
        case .success(let bytes):
            return bytes.withUnsafeBufferPointer { TextDecoder.decode($0) }
                .mapError { EntryReject(entry: entry.name, kind: $0.kind, reason: $0.reason) }
        case .failure(let failure):
            return .failure(EntryReject(entry: entry.name, kind: failure.kind, reason: failure.reason))
        }
    }
}

/// XHTML → paragraphs: <head>, <script>, <style>, <svg>, <nav> and footnote asides (epub:type
/// footnote/endnote/rearnote) are dropped, as are note references (epub:type="noteref"); block
/// elements end paragraphs, <br> breaks the line, <hr> breaks the scene.
enum XHTMLText {
    static func append(_ xhtml: String, to builder: inout BlockBuilder) throws(MarkupFailure) {
        var scanner = MarkupScanner(xhtml, html: true)
        var depth = 0
        var skipDepth: Int?
        while let token = try scanner.next() {
            switch token {
            case .start(let name, let attributes, let selfClosing):
                let local = MarkupScanner.localName(name).lowercased()
                if selfClosing {
                    guard skipDepth == nil else { continue }
                    if local == "br" { builder.lineBreak() }
                    if local == "hr" { builder.sceneBreak() }
                    if blockElements.contains(local) { builder.flush() }
                    continue
                }
                depth += 1
                guard skipDepth == nil else { continue }
                let epubType = attributes.first { MarkupScanner.localName($0.key) == "type" && $0.key.contains(":") }?.value ?? ""
                if droppedElements.contains(local) || ["footnote", "endnote", "rearnote", "noteref"].contains(epubType) {
                    skipDepth = depth
                    continue
                }
                if blockElements.contains(local) { builder.flush() }
            case .end(let name):
                depth -= 1
                if let skip = skipDepth {
                    if depth < skip { skipDepth = nil }
                    continue
                }
                if blockElements.contains(MarkupScanner.localName(name).lowercased()) { builder.flush() }
            case .text(let content):
                if skipDepth == nil && depth > 0 { builder.append(content) }
            }
        }
        builder.flush()
    }

    private static let droppedElements: Set<String> = ["head", "script", "style", "svg", "nav", "math", "noscript", "template"]
    private static let blockElements: Set<String> = [
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dd", "dt", "blockquote", "section",
        "article", "header", "footer", "aside", "tr", "td", "th", "table", "caption", "pre", "figure", "figcaption",
        "address", "body", "main",
    ]
}
