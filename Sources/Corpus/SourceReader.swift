// SourceReader — one input file's bytes → its documents (or the reasons it was rejected). Binary
// files are rejected; zip archives are EPUB (mimetype or container.xml) or hold .fb2 entries; text
// is decoded (TextEncoding), its format found (SourceFormat) and handed to that format's reader.
import Foundation

struct FileExtraction: Sendable {
    var format: SourceFormat?
    var encoding: TextEncoding?
    var documents: [ExtractedDocument] = []
    var rejects: [EntryReject] = []
    var skipReason: String?
}

enum SourceReader {
    static func extract(path: String, data: Data, limits: ZipLimits) -> FileExtraction {
        var result = FileExtraction()
        func reject(_ kind: CorpusReject.Kind, _ reason: String, entry: String? = nil) -> FileExtraction {
            result.rejects.append(EntryReject(entry: entry, kind: kind, reason: reason))
            return result
        }
        if data.isEmpty { return reject(.empty, "empty file") }
        switch FormatDetection.sniff(data, path: path) {
        case .binary(let reason):
            return reject(.binary, reason)
        case .fortuneIndex(let text):
            result.skipReason = "strfile index of the fortune file \(text) (binary; the text itself is read)"
            return result
        case .zip:
            return extractZip(path: path, data: data, limits: limits)
        case .text:
            break
        }
        let lowerPath = path.lowercased()
        if [".html", ".htm", ".xhtml"].contains(where: { lowerPath.hasSuffix($0) }) {
            return reject(.unsupported, "HTML pages are not a supported format (package them as EPUB, or convert to text)")
        }
        let declared = FictionBookReader.declaredEncoding(data)
        let decoded: DecodedText
        switch TextDecoder.decode(data, declared: declared) {
        case .success(let text): decoded = text
        case .failure(let failure): return reject(failure.kind, failure.reason)
        }
        result.encoding = decoded.encoding
        let format = FormatDetection.textFormat(decoded.text, path: path)
        result.format = format
        switch format {
        case .fictionBook:
            switch FictionBookReader.extract(decoded.text) {
            case .success(let document): result.documents = [document]
            case .failure(let failure): return reject(failure.kind, failure.reason)
            }
        case .jsonLines:
            let (documents, rejects) = JSONLinesReader.extract(decoded.text)
            result.documents = documents
            result.rejects = rejects
        case .fortune:
            result.documents = FortuneReader.extract(decoded.text)
        case .markdown:
            result.documents = [MarkdownReader.extract(decoded.text)]
        case .text, .fictionBookZip, .epub:
            result.documents = [PlainTextReader.extract(decoded.text)]
        }
        result.documents.removeAll { $0.blocks.isEmpty }
        for index in result.documents.indices { result.documents[index].encoding = decoded.encoding }
        if result.documents.isEmpty && result.rejects.isEmpty {
            return reject(.empty, "no text after normalisation (only whitespace, markup or control characters)")
        }
        return result
    }

    private static func extractZip(path: String, data: Data, limits: ZipLimits) -> FileExtraction {
        var result = FileExtraction()
        var archive: ZipArchive
        do {
            archive = try ZipArchive(data, limits: limits)
        } catch {
            result.rejects.append(EntryReject(entry: nil, kind: error.kind, reason: error.reason))
            return result
        }
        // Unsafe names are rejects whatever the rest of the archive holds; they are never opened.
        for entry in archive.entries {
            if let reason = ZipArchive.unsafeNameReason(entry.name) {
                result.rejects.append(EntryReject(entry: entry.name, kind: .unsafePath, reason: reason))
            }
        }
        let isEPUB = archive.entry(named: "META-INF/container.xml") != nil
            || archive.entry(named: "mimetype").flatMap { entry in try? archive.read(entry).get() }
                .map { String(decoding: $0, as: UTF8.self).hasPrefix("application/epub+zip") } == true
        if isEPUB {
            result.format = .epub
            switch EPUBReader.extract(&archive) {
            case .success(let document):
                result.documents = [document]
                result.encoding = document.encoding
            case .failure(let failure):
                result.rejects.append(failure)
            }
            return result
        }
        let books = archive.entries.filter { $0.name.lowercased().hasSuffix(".fb2") && ZipArchive.unsafeNameReason($0.name) == nil }
        guard !books.isEmpty else {
            if result.rejects.isEmpty {
                result.rejects.append(EntryReject(entry: nil, kind: .unsupported, reason: "zip archive holds neither an EPUB nor .fb2 files"))
            }
            return result
        }
        result.format = .fictionBookZip
        for entry in books {
            let bytes: [UInt8]
            switch archive.read(entry) {
            case .success(let read): bytes = read
            case .failure(let failure):
                result.rejects.append(EntryReject(entry: entry.name, kind: failure.kind, reason: failure.reason))
                continue
            }
            let data = Data(bytes)
            let decoded: DecodedText
            switch TextDecoder.decode(data, declared: FictionBookReader.declaredEncoding(data)) {
            case .success(let text): decoded = text
            case .failure(let failure):
                result.rejects.append(EntryReject(entry: entry.name, kind: failure.kind, reason: failure.reason))
                continue
            }
            result.encoding = result.encoding ?? decoded.encoding
            switch FictionBookReader.extract(decoded.text) {
            case .success(var document):
                document.entry = entry.name
                document.encoding = decoded.encoding
                result.documents.append(document)
            case .failure(let failure):
                result.rejects.append(EntryReject(entry: entry.name, kind: failure.kind, reason: failure.reason))
            }
        }
        return result
    }
}
