// CorpusReader — what later stages (hyperwords, train, eval) call to read a corpus directory: the
// manifest, the documents, and the scenes of one split, optionally only some tiers, streamed shard by
// shard in tier priority order and input order (deterministic).
//
//   let corpus = try CorpusReader(directory: url)
//   try corpus.forEachScene(split: .train, tiers: ["core", "orbit"]) { scene in … scene.text … }
//   let heldOut = try corpus.scenes(split: .validation, tiers: ["core"])
import Foundation

/// One line of a shard.
public struct CorpusScene: Codable, Sendable, Equatable {
    /// Document id: 16 hex digits of SHA-256 of the normalised document text.
    public var doc: String
    public var tier: String
    /// The input file, as the tier listed it or the directory walk found it.
    public var source: String
    /// Where inside the file: a zip entry name, "line N" (JSON Lines), "entry N" (fortune).
    public var entry: String?
    /// Position among the document's scenes before dedupe (gaps mark removed duplicates).
    public var index: Int
    /// Code-point offsets of the scene in the normalised document text (Python `str` indexing).
    public var start: Int
    public var end: Int
    public var chars: Int
    public var words: Int
    public var text: String
}

/// One line of documents.jsonl.
public struct CorpusDocument: Codable, Sendable, Equatable {
    public var doc: String
    public var split: CorpusSplit?
    public var tier: String
    public var source: String
    public var entry: String?
    public var title: String?
    public var author: String?
    public var format: String
    public var encoding: String
    /// Kept scenes and their sizes.
    public var scenes: Int
    public var bytes: Int
    public var characters: Int
    public var words: Int

    static func decode(_ line: UnsafeBufferPointer<UInt8>, source path: String) throws -> CorpusDocument {
        let object = try parse(line, path: path)
        return CorpusDocument(
            doc: try field(object, "doc", path), split: (try? field(object, "split", path)).flatMap(CorpusSplit.init(rawValue:)),
            tier: try field(object, "tier", path), source: try field(object, "source", path),
            entry: try? field(object, "entry", path), title: try? field(object, "title", path), author: try? field(object, "author", path),
            format: try field(object, "format", path), encoding: try field(object, "encoding", path),
            scenes: try number(object, "scenes", path), bytes: try number(object, "bytes", path),
            characters: try number(object, "characters", path), words: try number(object, "words", path))
    }
}

extension CorpusScene {
    static func decode(_ line: UnsafeBufferPointer<UInt8>, source path: String) throws -> CorpusScene {
        let object = try parse(line, path: path)
        return CorpusScene(
            doc: try field(object, "doc", path), tier: try field(object, "tier", path), source: try field(object, "source", path),
            entry: try? field(object, "entry", path), index: try number(object, "index", path),
            start: try number(object, "start", path), end: try number(object, "end", path),
            chars: try number(object, "chars", path), words: try number(object, "words", path), text: try field(object, "text", path))
    }
}

private func parse(_ line: UnsafeBufferPointer<UInt8>, path: String) throws -> [String: JSONValue] {
    do {
        return try JSONLine.parseObject(line)
    } catch {
        throw CorpusError.unreadableCorpus(path: path, reason: error.description)
    }
}

private func field(_ object: [String: JSONValue], _ key: String, _ path: String) throws -> String {
    guard case .string(let value)? = object[key] else {
        throw CorpusError.unreadableCorpus(path: path, reason: "record without a string \"\(key)\"")
    }
    return value
}

private func number(_ object: [String: JSONValue], _ key: String, _ path: String) throws -> Int {
    guard case .number(let value)? = object[key], let integer = Int(exactly: value) else {
        throw CorpusError.unreadableCorpus(path: path, reason: "record without an integer \"\(key)\"")
    }
    return integer
}

public struct CorpusReader: Sendable {
    public let directory: URL
    public let manifest: CorpusManifest

    public init(directory: URL) throws {
        self.directory = directory
        let manifestURL = directory.appendingPathComponent(CorpusManifest.fileName)
        let data: Data
        do {
            data = try Data(contentsOf: manifestURL)
        } catch {
            throw CorpusError.unreadableCorpus(path: directory.path, reason: "no \(CorpusManifest.fileName)")
        }
        let manifest: CorpusManifest
        do {
            manifest = try JSONDecoder().decode(CorpusManifest.self, from: data)
        } catch {
            throw CorpusError.unreadableCorpus(path: manifestURL.path, reason: "manifest does not decode: \(error)")
        }
        guard manifest.format == CorpusManifest.formatName, manifest.version == CorpusManifest.currentVersion else {
            throw CorpusError.unreadableCorpus(
                path: manifestURL.path,
                reason: "format \(manifest.format) version \(manifest.version); "
                    + "this Loom reads \(CorpusManifest.formatName) version \(CorpusManifest.currentVersion)")
        }
        self.manifest = manifest
    }

    public var tierNames: [String] { manifest.tiers.map(\.name) }

    /// The shard files of a split, for the given tiers (all when nil), in tier priority order.
    public func shards(split: CorpusSplit, tiers: [String]? = nil) throws -> [ShardInfo] {
        let wanted = try selectedTiers(tiers)
        return manifest.shards.filter { $0.split == split && wanted.contains($0.tier) }
    }

    /// Streams the scenes of a split; stops early when `body` throws.
    public func forEachScene(split: CorpusSplit, tiers: [String]? = nil, _ body: (CorpusScene) throws -> Void) throws {
        for shard in try shards(split: split, tiers: tiers) {
            let path = directory.appendingPathComponent(shard.path).path
            try LineReader(path: path).forEachLine { line in
                guard !line.isEmpty else { return }
                try body(try CorpusScene.decode(line, source: path))
            }
        }
    }

    /// All scenes of a split in memory — for small corpora and tests; large ones use `forEachScene`.
    public func scenes(split: CorpusSplit, tiers: [String]? = nil) throws -> [CorpusScene] {
        var scenes: [CorpusScene] = []
        try forEachScene(split: split, tiers: tiers) { scenes.append($0) }
        return scenes
    }

    /// Every kept document (documents.jsonl), in input order.
    public func documents() throws -> [CorpusDocument] {
        let path = directory.appendingPathComponent(manifest.documentsFile).path
        var documents: [CorpusDocument] = []
        try LineReader(path: path).forEachLine { line in
            guard !line.isEmpty else { return }
            documents.append(try CorpusDocument.decode(line, source: path))
        }
        return documents
    }

    private func selectedTiers(_ tiers: [String]?) throws -> Set<String> {
        guard let tiers else { return Set(tierNames) }
        for tier in tiers where !tierNames.contains(tier) {
            throw CorpusError.unknownTier(tier, known: tierNames)
        }
        return Set(tiers)
    }
}
