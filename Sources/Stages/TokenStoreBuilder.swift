// TokenStoreBuilder — encodes a corpus into a token store (LoomCore's TokenStore): every split and tier,
// each scene as a training document (the tokenizer's prefix, the text's ids, its suffix or else EOS), one
// token file per corpus document. One pass over the corpus: scenes are grouped into documents as they
// stream; a document whose key an earlier store already holds is linked (hard link, else copied), the
// others are encoded in batches of about `batchBytes` of text on `threads` threads, one document per task,
// so the bytes written do not depend on the thread count. Memory holds one batch of text and the records
// (12 bytes a scene), never the corpus.
import Corpus
import Foundation
import LoomCore
import Pipeline
import Tokenizers

public enum TokenStoreBuilder {
    /// What a build did.
    public struct Summary: Sendable, Equatable {
        public var documents = 0
        public var scenes = 0
        public var tokens = 0
        /// UTF-8 bytes of scene text.
        public var bytes = 0
        /// Documents encoded here / linked from an earlier store.
        public var encoded = 0
        public var reused = 0
        /// Bytes of text encoded here (not linked), and the seconds encoding and writing took.
        public var encodedBytes = 0
        public var seconds = 0.0

        /// MiB of text encoded here per second.
        public var encodedMegabytesPerSecond: Double { seconds > 0 ? Double(encodedBytes) / 1_048_576 / seconds : 0 }
    }

    /// Progress as the build goes: scenes done of all, text bytes done, tokens, documents reused.
    public struct Progress: Sendable {
        public var scenes: Int
        public var totalScenes: Int
        public var bytes: Int
        public var totalBytes: Int
        public var tokens: Int
        public var reused: Int
        public var seconds: Double
    }

    /// The digest a store records for the tokenizer in `directory`: SHA-256 over tokenizer.json and, when
    /// present, tokenizer_config.json (both decide the ids and the special tokens around them).
    public static func tokenizerDigest(directory: URL) throws -> String {
        var parts: [String] = []
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            parts.append("\(name):\(try Digest.sha256Hex(fileAt: url))")
        }
        guard !parts.isEmpty else { throw UpstreamError("\(directory.path) holds no tokenizer.json to build a token store with") }
        return Digest.sha256Hex(parts.joined(separator: "\n"))
    }

    /// Builds the store of `corpus` under `tokenizer` (whose files digest to `tokenizerDigest`) into
    /// `directory` (which must be empty or absent). `reuse`: documents of earlier stores by key
    /// (`TokenStore.reusableDocuments`).
    public static func build(
        corpus: CorpusReader, tokenizer: any Tokenizer, tokenizerDigest: String, into directory: URL,
        reuse: [String: TokenStore.ReusableDocument] = [:],
        threads: Int = 0, batchBytes: Int = 16 << 20, progress: (Progress) -> Void = { _ in }, checkCancellation: () throws -> Void = {}
    ) throws -> Summary {
        let started = Date()
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory.appendingPathComponent("docs"), withIntermediateDirectories: true)
        let dtype = TokenStoreHeader.TokenType.fitting(vocabularySize: tokenizer.vocabularySize)
        let suffixTokens = tokenizer.encodeDocument("a").count - tokenizer.encodePrompt("a").count
        let workers = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        let totalScenes = corpus.manifest.shards.reduce(0) { $0 + $1.scenes }
        let totalBytes = corpus.manifest.shards.reduce(0) { $0 + $1.bytes }

        var summary = Summary()
        var documents: [TokenStoreHeader.Document] = []
        var records = Data()
        var pending: [PendingDocument] = []
        var pendingBytes = 0

        func report() {
            progress(Progress(scenes: summary.scenes, totalScenes: totalScenes, bytes: summary.bytes, totalBytes: totalBytes,
                              tokens: summary.tokens, reused: summary.reused, seconds: Date().timeIntervalSince(started)))
        }

        /// Writes the batch: encodes the documents no earlier store holds, in parallel, then records all in order.
        func flush() throws {
            guard !pending.isEmpty else { return }
            try checkCancellation()
            let batch = pending
            let toEncode = batch.indices.filter { reuse[batch[$0].key] == nil }
            var results: [Int: [[Int]]] = [:]
            try OrderedWorkPool.run(
                count: toEncode.count, threads: workers, window: 4 * workers,
                work: { slot in batch[toEncode[slot]].texts.map { tokenizer.encodeDocument($0) } },
                consume: { slot, ids in results[toEncode[slot]] = ids })
            for (index, document) in batch.enumerated() {
                let file = TokenStoreHeader.documentFile(key: document.key)
                let target = directory.appendingPathComponent(file)
                var sceneTokens: [Int]
                if let scenes = results[index] {
                    sceneTokens = scenes.map(\.count)
                    try writeTokens(scenes, dtype: dtype, to: target)
                    summary.encoded += 1
                    summary.encodedBytes += document.bytes
                } else {
                    let source = reuse[document.key]!
                    if fileManager.fileExists(atPath: target.path) == false {
                        if (try? fileManager.linkItem(at: source.file, to: target)) == nil { try fileManager.copyItem(at: source.file, to: target) }
                    }
                    sceneTokens = source.sceneTokens
                    summary.reused += 1
                }
                var offset = 0
                let firstRecord = summary.scenes
                for count in sceneTokens {
                    appendRecord(&records, document: documents.count, offset: offset, tokens: count)
                    offset += count
                }
                documents.append(TokenStoreHeader.Document(
                    key: document.key, doc: document.doc, source: document.source, tier: document.tier, split: document.split,
                    scenes: sceneTokens.count, tokens: offset, bytes: document.bytes, file: file, firstRecord: firstRecord))
                summary.scenes += sceneTokens.count
                summary.tokens += offset
                summary.bytes += document.bytes
            }
            summary.documents = documents.count
            pending = []
            pendingBytes = 0
            report()
        }

        var current: PendingDocument?
        func close() throws {
            guard var document = current else { return }
            document.key = Digest.sha256Hex("loom-token-store:\(tokenizerDigest):\(document.doc):\(document.positions)")
            current = nil
            pending.append(document)
            pendingBytes += document.bytes
            if pendingBytes >= batchBytes { try flush() }
        }
        for split in CorpusSplit.allCases {
            try corpus.forEachScene(split: split) { scene in
                if let open = current, open.doc != scene.doc || open.tier != scene.tier || open.split != split.rawValue { try close() }
                if current == nil {
                    current = PendingDocument(doc: scene.doc, source: scene.source, tier: scene.tier, split: split.rawValue)
                }
                current!.texts.append(scene.text)
                current!.positions += "\(scene.index):\(scene.start):\(scene.end);"
                current!.bytes += scene.text.utf8.count
            }
            try close()
        }
        try flush()

        let header = TokenStoreHeader(
            tokenizer: tokenizerDigest, vocabularySize: tokenizer.vocabularySize, dtype: dtype, suffixTokens: suffixTokens,
            tiers: corpus.tierNames, documents: documents)
        try AtomicFile.write(records, to: directory.appendingPathComponent(TokenStoreHeader.recordsFileName))
        try AtomicFile.writeJSON(header, to: directory.appendingPathComponent(TokenStoreHeader.fileName))
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// A document being gathered from the scene stream.
    private struct PendingDocument: Sendable {
        var doc: String
        var source: String
        var tier: String
        var split: String
        var texts: [String] = []
        var positions = ""
        var bytes = 0
        var key = ""
    }

    private static func appendRecord(_ records: inout Data, document: Int, offset: Int, tokens: Int) {
        for word in [document, offset, tokens] {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: word).littleEndian) { records.append(contentsOf: $0) }
        }
    }

    /// The scenes' ids back to back in `dtype`, little-endian.
    private static func writeTokens(_ scenes: [[Int]], dtype: TokenStoreHeader.TokenType, to url: URL) throws {
        let count = scenes.reduce(0) { $0 + $1.count }
        var bytes = [UInt8](repeating: 0, count: count * dtype.bytes)
        bytes.withUnsafeMutableBytes { raw in
            var position = 0
            for scene in scenes {
                for id in scene {
                    switch dtype {
                    case .uint16: raw.storeBytes(of: UInt16(truncatingIfNeeded: id).littleEndian, toByteOffset: 2 * position, as: UInt16.self)
                    case .uint32: raw.storeBytes(of: UInt32(truncatingIfNeeded: id).littleEndian, toByteOffset: 4 * position, as: UInt32.self)
                    }
                    position += 1
                }
            }
        }
        guard FileManager.default.createFile(atPath: url.path, contents: Data(bytes)) else {
            throw TokenStoreError(file: url.path, problem: "cannot write the document's tokens")
        }
    }
}
