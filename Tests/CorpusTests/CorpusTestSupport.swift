// CorpusTestSupport — builders for the inputs the corpus tests need: zip archives (stored or deflated,
// with any entry name and, for bomb tests, lying sizes), EPUBs, FB2 documents, and a one-call corpus
// build that also collects the events.
import CZlib
import Foundation
import Testing
@testable import Corpus
import TestSupport

/// Writes zip archives in memory, the way a zip tool would (local headers, central directory, EOCD).
struct ZipBuilder {
    struct Entry {
        var name: String
        var data: [UInt8]
        var deflate = true
        /// Overrides the uncompressed size written in the headers (a lying archive).
        var declaredSize: Int?
        var corruptCRC = false
        var encrypted = false
    }

    var entries: [Entry] = []

    mutating func add(_ name: String, _ text: String, deflate: Bool = true) {
        entries.append(Entry(name: name, data: Array(text.utf8), deflate: deflate))
    }

    mutating func add(_ name: String, bytes: [UInt8], deflate: Bool = true) {
        entries.append(Entry(name: name, data: bytes, deflate: deflate))
    }

    func build() -> Data {
        var out = [UInt8]()
        var central = [UInt8]()
        for entry in entries {
            let compressed = entry.deflate ? Self.deflate(entry.data) : entry.data
            var crc = UInt32(truncatingIfNeeded: entry.data.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) })
            if entry.corruptCRC { crc ^= 0xFFFF }
            let size = UInt32(entry.declaredSize ?? entry.data.count)
            let name = Array(entry.name.utf8)
            let flags: UInt16 = (entry.encrypted ? 1 : 0) | 0x0800
            let method: UInt16 = entry.deflate ? 8 : 0
            let offset = UInt32(out.count)
            out += le32(0x0403_4B50) + le16(20) + le16(flags) + le16(method) + le16(0) + le16(0x21)
            out += le32(crc) + le32(UInt32(compressed.count)) + le32(size) + le16(UInt16(name.count)) + le16(0) + name + compressed
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(flags) + le16(method) + le16(0) + le16(0x21)
            central += le32(crc) + le32(UInt32(compressed.count)) + le32(size) + le16(UInt16(name.count))
            central += le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + name
        }
        let directoryOffset = UInt32(out.count)
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(entries.count)) + le16(UInt16(entries.count))
        out += le32(UInt32(central.count)) + le32(directoryOffset) + le16(0)
        return Data(out)
    }

    /// Raw DEFLATE (no zlib header), as zip method 8 stores it.
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        var input = bytes
        let produced = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                CZlib.deflate(&stream, Z_FINISH)
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    private func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    private func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
}

enum BookBuilder {
    /// An EPUB whose spine lists `chapters` in the given order (names may be missing from `files`).
    static func epub(title: String = "Книга", author: String = "Анна Петрова", files: [(String, String)], spine: [String],
                     extra: [(String, String)] = []) -> Data {
        var zip = ZipBuilder()
        zip.add("mimetype", "application/epub+zip", deflate: false)
        zip.add("META-INF/container.xml", """
            <?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\
            <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>
            """)
        let manifest = spine.map { "<item id=\"\($0)\" href=\"\($0).xhtml\" media-type=\"application/xhtml+xml\"/>" }.joined()
        let itemrefs = spine.map { "<itemref idref=\"\($0)\"/>" }.joined()
        zip.add("OEBPS/content.opf", """
            <?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">\
            <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>\(title)</dc:title><dc:creator>\(author)</dc:creator></metadata>\
            <manifest>\(manifest)</manifest><spine>\(itemrefs)</spine></package>
            """)
        for (name, body) in files { zip.add("OEBPS/\(name).xhtml", xhtml(body)) }
        for (name, text) in extra { zip.add(name, text) }
        return zip.build()
    }

    static func xhtml(_ body: String) -> String {
        """
        <?xml version="1.0" encoding="utf-8"?>
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
        <head><title>t</title><style>p { color: red }</style><script>var hidden = "script text";</script></head>
        <body>\(body)</body></html>
        """
    }

    static func fb2(body: String, title: String = "Повесть", encoding: String = "utf-8") -> String {
        """
        <?xml version="1.0" encoding="\(encoding)"?>
        <FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0" xmlns:l="http://www.w3.org/1999/xlink">
        <description><title-info><author><first-name>Антон</first-name><last-name>Чехов</last-name></author>
        <book-title>\(title)</book-title></title-info></description>
        <body>\(body)</body>
        <body name="notes"><section id="n1"><p>Текст сноски, который не должен попасть в корпус.</p></section></body>
        <binary id="cover.jpg" content-type="image/jpeg">AAAA</binary>
        </FictionBook>
        """
    }
}

/// Deterministic prose for dedupe and split tests: `count` distinct sentences made from a seed.
func sentences(_ count: Int, seed: UInt64) -> [String] {
    let words = ["дом", "река", "лес", "поле", "небо", "ветер", "дорога", "книга", "слово", "мысль", "время", "ночь",
                 "утро", "вечер", "город", "море", "гора", "окно", "дверь", "письмо", "голос", "свет", "тень", "сон",
                 "river", "forest", "light", "shadow", "memory", "voice", "window", "letter", "morning", "evening"]
    var state = seed &+ 0x1234_5678
    var result: [String] = []
    for _ in 0..<count {
        var sentence: [String] = []
        for _ in 0..<12 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            sentence.append(words[Int((state >> 33) % UInt64(words.count))])
        }
        result.append(sentence.joined(separator: " ").capitalized(firstOnly: true) + ".")
    }
    return result
}

extension String {
    func capitalized(firstOnly: Bool) -> String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}

/// A text document of `paragraphs` paragraphs of 3 sentences each.
func prose(paragraphs: Int, seed: UInt64) -> String {
    let all = sentences(paragraphs * 3, seed: seed)
    return stride(from: 0, to: all.count, by: 3).map { all[$0..<($0 + 3)].joined(separator: " ") }.joined(separator: "\n\n")
}

/// `text` with its 21st word replaced: a near duplicate (estimated Jaccard well above 0.8).
func oneWordChanged(_ text: String) -> String {
    var words = text.split(separator: " ").map(String.init)
    words[20] = "иначе"
    return words.joined(separator: " ")
}

struct BuildResult {
    var manifest: CorpusManifest
    var reader: CorpusReader
    var rejected: [CorpusReject]
    var progress: [CorpusProgress]
}

/// Builds a corpus of `tiers` into `scratch/out` (or `output`).
func buildCorpus(_ tiers: [TierSpec], in scratch: ScratchDirectory, output: URL? = nil,
                 configure: (inout CorpusOptions) -> Void = { _ in }) throws -> BuildResult {
    var options = CorpusOptions()
    options.threads = 2
    configure(&options)
    var rejected: [CorpusReject] = []
    var progress: [CorpusProgress] = []
    let out = output ?? scratch.path("out")
    let manifest = try CorpusBuilder(options: options).build(tiers: tiers, output: out) { event in
        switch event {
        case .progress(let value): progress.append(value)
        case .rejected(let reject): rejected.append(reject)
        }
    }
    return BuildResult(manifest: manifest, reader: try CorpusReader(directory: out), rejected: rejected, progress: progress)
}

func write(_ text: String, _ url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

func write(_ data: Data, _ url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: url)
}

/// The paragraphs of a text extracted by a reader, as strings (nil for scene breaks shown as "⁂").
func paragraphs(_ blocks: [TextBlock]) -> [String] {
    blocks.map { $0.text ?? "⁂" }
}
