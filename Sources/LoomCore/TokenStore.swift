// TokenStore — the tokens of a corpus under one tokenizer, made once and read by every variant, attempt,
// `train` and `eval` (the shape of nanoGPT's .bin files and Megatron's indexed datasets):
//
//   store.json          the header: format, tokenizer digest, dtype, the documents (books) in corpus order
//                       with their tier, split, source file, scene and token counts and their token file
//   records.bin         one record per scene, in corpus order: document (u32), offset of its first token in
//                       the document's file (u32), tokens (u32) — little-endian
//   docs/<key>.tokens   one file per document: its scenes' token ids back to back, uint16 (vocabularies up to
//                       65 536) or uint32, little-endian, memory-mapped when read
//
// A document's key is a digest of the tokenizer and the document's scenes (id, positions), so its file is
// content-addressed: a store made after one book was added finds every other book's file in an earlier
// store (`reusableFiles`) and links it instead of encoding the book again. Each scene is stored as the
// tokenizer encodes a training document — its prefix (BOS where the tokenizer adds one), the text's
// tokens, and its suffix or else EOS; `suffixTokens` says how many trailing ids are not the prompt.
import Foundation

/// store.json.
public struct TokenStoreHeader: Codable, Sendable, Equatable {
    public static let fileName = "store.json"
    public static let recordsFileName = "records.bin"
    public static let formatName = "loom-token-store"
    public static let currentVersion = 1

    public enum TokenType: String, Codable, Sendable {
        case uint16, uint32

        public var bytes: Int { self == .uint16 ? 2 : 4 }

        /// The narrowest type that holds every id below `vocabularySize`.
        public static func fitting(vocabularySize: Int) -> TokenType { vocabularySize <= 65_536 ? .uint16 : .uint32 }
    }

    public struct Document: Codable, Sendable, Equatable {
        /// The content address: a digest of the tokenizer and the document's scenes.
        public var key: String
        /// The corpus's document id.
        public var doc: String
        public var source: String
        public var tier: String
        public var split: String
        public var scenes: Int
        public var tokens: Int
        /// The scene text's UTF-8 bytes (what bits per byte divide by).
        public var bytes: Int
        /// Relative to the store: `docs/<key>.tokens`.
        public var file: String
        /// The index of its first scene in records.bin.
        public var firstRecord: Int

        public init(key: String, doc: String, source: String, tier: String, split: String, scenes: Int, tokens: Int, bytes: Int,
                    file: String, firstRecord: Int) {
            self.key = key
            self.doc = doc
            self.source = source
            self.tier = tier
            self.split = split
            self.scenes = scenes
            self.tokens = tokens
            self.bytes = bytes
            self.file = file
            self.firstRecord = firstRecord
        }
    }

    public var format = formatName
    public var version = currentVersion
    /// SHA-256 of the tokenizer.json the ids come from.
    public var tokenizer: String
    public var vocabularySize: Int
    public var dtype: TokenType
    /// Ids every stored scene ends with beyond its prompt (the tokenizer's suffix, or the EOS that
    /// separates training documents).
    public var suffixTokens: Int
    public var tiers: [String]
    public var documents: [Document]

    public init(tokenizer: String, vocabularySize: Int, dtype: TokenType, suffixTokens: Int, tiers: [String], documents: [Document]) {
        self.tokenizer = tokenizer
        self.vocabularySize = vocabularySize
        self.dtype = dtype
        self.suffixTokens = suffixTokens
        self.tiers = tiers
        self.documents = documents
    }

    enum CodingKeys: String, CodingKey {
        case format, version, tokenizer, dtype, tiers, documents
        case vocabularySize = "vocab_size"
        case suffixTokens = "suffix_tokens"
    }

    public var tokens: Int { documents.reduce(0) { $0 + $1.tokens } }
    public var scenes: Int { documents.reduce(0) { $0 + $1.scenes } }

    /// The file name of a document's tokens.
    public static func documentFile(key: String) -> String { "docs/\(key).tokens" }
}

/// One scene in records.bin.
public struct TokenStoreRecord: Sendable, Equatable {
    public static let size = 12
    public var document: Int
    /// Of its first token in the document's file.
    public var offset: Int
    public var tokens: Int

    public init(document: Int, offset: Int, tokens: Int) {
        self.document = document
        self.offset = offset
        self.tokens = tokens
    }
}

/// A store on disk, read: the header, the records, and each document's tokens through a read-only
/// memory map (opened when first asked for, kept while the store lives).
public final class TokenStore: @unchecked Sendable {
    public let directory: URL
    public let header: TokenStoreHeader
    private let recordBytes: Data
    private let lock = NSLock()
    /// Each document's token file, mapped read-only (as GGUFReader maps its file) when first read.
    private var mapped: [Int: Data] = [:]

    public init(directory: URL) throws {
        self.directory = directory
        let headerURL = directory.appendingPathComponent(TokenStoreHeader.fileName)
        let data: Data
        do {
            data = try Data(contentsOf: headerURL)
        } catch {
            throw TokenStoreError(file: headerURL.path, problem: "missing or unreadable (a token store holds store.json, records.bin and docs/)")
        }
        let header: TokenStoreHeader
        do {
            header = try JSONDecoder().decode(TokenStoreHeader.self, from: data)
        } catch {
            throw TokenStoreError(file: headerURL.path, problem: "does not decode as a token store header (\(error))")
        }
        guard header.format == TokenStoreHeader.formatName, header.version == TokenStoreHeader.currentVersion else {
            throw TokenStoreError(file: headerURL.path, problem: "format \(header.format) version \(header.version); this Loom reads \(TokenStoreHeader.formatName) version \(TokenStoreHeader.currentVersion)")
        }
        let recordsURL = directory.appendingPathComponent(TokenStoreHeader.recordsFileName)
        guard let records = FileManager.default.contents(atPath: recordsURL.path) else {
            throw TokenStoreError(file: recordsURL.path, problem: "missing")
        }
        guard records.count == header.scenes * TokenStoreRecord.size else {
            throw TokenStoreError(file: recordsURL.path, problem: "holds \(records.count) bytes, expected \(header.scenes) records of \(TokenStoreRecord.size)")
        }
        self.header = header
        self.recordBytes = records
    }

    public var documents: [TokenStoreHeader.Document] { header.documents }

    /// Scene `index` of records.bin.
    public func record(_ index: Int) -> TokenStoreRecord {
        recordBytes.withUnsafeBytes { raw in
            let base = index * TokenStoreRecord.size
            func word(_ at: Int) -> Int { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + at, as: UInt32.self))) }
            return TokenStoreRecord(document: word(0), offset: word(4), tokens: word(8))
        }
    }

    /// The scenes of document `index`.
    public func records(ofDocument index: Int) -> [TokenStoreRecord] {
        let document = header.documents[index]
        return (document.firstRecord..<(document.firstRecord + document.scenes)).map(record)
    }

    /// Appends tokens `range` of document `index` to `output` as Int64s.
    public func appendTokens(document index: Int, range: Range<Int>, to output: inout [Int64]) throws {
        let file = try map(index)
        let dtype = header.dtype
        file.withUnsafeBytes { raw in
            switch dtype {
            case .uint16:
                for position in range { output.append(Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * position, as: UInt16.self)))) }
            case .uint32:
                for position in range { output.append(Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * position, as: UInt32.self)))) }
            }
        }
    }

    /// Every token of document `index`.
    public func tokens(ofDocument index: Int) throws -> [Int] {
        var output: [Int64] = []
        try appendTokens(document: index, range: 0..<header.documents[index].tokens, to: &output)
        return output.map { Int($0) }
    }

    private func map(_ index: Int) throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        if let file = mapped[index] { return file }
        let document = header.documents[index]
        let url = directory.appendingPathComponent(document.file)
        let file: Data
        do {
            file = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw TokenStoreError(file: url.path, problem: "cannot read: \(SystemErrorText.reason(error))")
        }
        guard file.count == document.tokens * header.dtype.bytes else {
            throw TokenStoreError(file: url.path, problem: "holds \(file.count) bytes, expected \(document.tokens) \(header.dtype.rawValue) tokens")
        }
        mapped[index] = file
        return file
    }

    /// A document an earlier store holds: its token file and its scenes' token counts.
    public struct ReusableDocument: Sendable {
        public let file: URL
        public let sceneTokens: [Int]
    }

    /// The documents of earlier stores under `root` (each `root/*/store.json`, complete ones only) made
    /// with `tokenizer` in `dtype`, by key: what a new store may link instead of encoding again.
    public static func reusableDocuments(under root: URL, tokenizer: String, dtype: TokenStoreHeader.TokenType) -> [String: ReusableDocument] {
        guard let entries = try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil) else { return [:] }
        var documents: [String: ReusableDocument] = [:]
        for entry in entries.sorted(by: { $0.path < $1.path }) {
            guard let store = try? TokenStore(directory: entry), store.header.tokenizer == tokenizer, store.header.dtype == dtype else { continue }
            for (index, document) in store.documents.enumerated() where documents[document.key] == nil {
                let url = entry.appendingPathComponent(document.file)
                guard FileManager.default.fileExists(atPath: url.path) else { continue }
                documents[document.key] = ReusableDocument(file: url, sceneTokens: store.records(ofDocument: index).map(\.tokens))
            }
        }
        return documents
    }
}
