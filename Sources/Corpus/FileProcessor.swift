// FileProcessor — the parallel part of a build: for one input file, read → extract → normalise →
// scenes → hashes, and render each scene's JSON line. Nothing here depends on other files, so worker
// threads run it side by side; dedupe and writing happen afterwards, in order (CorpusBuilder).
import Crypto
import Foundation
import LoomCore

struct ProcessedScene: Sendable {
    var index: Int
    var exactKey: ExactKey
    var bandKeys: [UInt64]
    var fingerprint: [UInt8]
    var bytes: Int
    var chars: Int
    var words: Int
    /// The complete JSON Lines record, newline included.
    var line: [UInt8]
}

struct ProcessedDocument: Sendable {
    var id: String
    var entry: String?
    var title: String?
    var author: String?
    var encoding: TextEncoding?
    var format: SourceFormat?
    var scenes: [ProcessedScene]
}

struct ProcessedFile: Sendable {
    var source: SourceFile
    var format: SourceFormat?
    var encoding: TextEncoding?
    var documents: [ProcessedDocument] = []
    var rejects: [CorpusReject] = []
    var skip: CorpusSkip?
}

struct FileProcessor: Sendable {
    let options: CorpusOptions
    let hasher: MinHasher

    init(options: CorpusOptions) {
        self.options = options
        hasher = MinHasher(seed: options.seed, shingleWords: options.shingleWords)
    }

    func process(_ source: SourceFile) -> ProcessedFile {
        var result = ProcessedFile(source: source)
        func reject(_ kind: CorpusReject.Kind, _ reason: String) -> ProcessedFile {
            result.rejects.append(CorpusReject(tier: source.tier, path: source.path, kind: kind, reason: reason))
            return result
        }
        if source.size > options.maxFileBytes {
            return reject(.tooLarge, "\(source.size) bytes, over the \(options.maxFileBytes)-byte limit for one file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: source.path))
        } catch {
            return reject(.unreadable, "cannot read: \(SystemErrorText.reason(error))")
        }
        let extraction = SourceReader.extract(path: source.path, data: data, limits: ZipLimits(options))
        result.format = extraction.format
        result.encoding = extraction.encoding
        result.rejects = extraction.rejects.map {
            CorpusReject(tier: source.tier, path: source.path, entry: $0.entry, kind: $0.kind, reason: $0.reason)
        }
        if let reason = extraction.skipReason {
            result.skip = CorpusSkip(tier: source.tier, path: source.path, reason: reason)
        }
        for document in extraction.documents {
            let text = DocumentText(document.blocks, lowercase: options.lowercase)
            guard !text.isEmpty else { continue }
            result.documents.append(process(document, text, source: source, format: extraction.format))
        }
        return result
    }

    private func process(_ document: ExtractedDocument, _ text: DocumentText, source: SourceFile, format: SourceFormat?) -> ProcessedDocument {
        let id = text.id
        let spans = SceneSplitter.scenes(of: text, maxChars: options.sceneMaxChars)
        let nearDuplicates = options.nearDuplicateThreshold < 1
        // Every line starts with the document id at a fixed offset (the split pass reads it there).
        var prefix = Array("{\"doc\":\"\(id)\",\"tier\":".utf8)
        JSONStringLiteral.append(source.tier, to: &prefix)
        prefix.append(contentsOf: ",\"source\":".utf8)
        JSONStringLiteral.append(source.path, to: &prefix)
        if let entry = document.entry {
            prefix.append(contentsOf: ",\"entry\":".utf8)
            JSONStringLiteral.append(entry, to: &prefix)
        }
        var scenes: [ProcessedScene] = []
        scenes.reserveCapacity(spans.count)
        text.utf8.withUnsafeBufferPointer { all in
            for (index, span) in spans.enumerated() {
                let bytes = UnsafeBufferPointer(rebasing: all[span.byteStart..<span.byteEnd])
                let digest = SHA256.hash(data: bytes)
                let key = digest.withUnsafeBytes { raw in
                    ExactKey(high: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), low: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                }
                let analysis = hasher.analyse(bytes, signature: nearDuplicates)
                var line = prefix
                line.append(contentsOf: ",\"index\":\(index),\"start\":\(span.charStart),\"end\":\(span.charEnd),\"chars\":\(span.chars),\"words\":\(analysis.words),\"text\":".utf8)
                JSONStringLiteral.append(bytes, to: &line)
                line.append(contentsOf: "}\n".utf8)
                scenes.append(ProcessedScene(
                    index: index, exactKey: key, bandKeys: analysis.bandKeys, fingerprint: analysis.fingerprint,
                    bytes: bytes.count, chars: span.chars, words: analysis.words, line: line))
            }
        }
        return ProcessedDocument(
            id: id, entry: document.entry, title: document.title, author: document.author,
            encoding: document.encoding, format: format, scenes: scenes)
    }
}
