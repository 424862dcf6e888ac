// CorpusManifest — manifest.json of a corpus output: the settings that shaped it, per-tier and total
// counts (documents, scenes, bytes, characters, words, duplicates removed, rejects, encodings and
// formats of the kept documents, train/validation split), every shard with its digest, every source
// file with its format and encoding, every reject and skip with its reason.
import Foundation

public struct CorpusManifest: Codable, Sendable, Equatable {
    public static let formatName = "loom-corpus"
    public static let currentVersion = 1
    public static let fileName = "manifest.json"
    public static let documentsFileName = "documents.jsonl"

    public var format: String
    public var version: Int
    public var loomVersion: String
    public var settings: CorpusSettings
    /// In priority order (dedupe: an earlier tier wins).
    public var tiers: [TierSummary]
    public var total: CorpusCounts
    public var shards: [ShardInfo]
    /// One line per kept document: see `CorpusDocument`.
    public var documentsFile: String
    public var sources: [SourceInfo]
    public var rejects: [CorpusReject]
    public var skipped: [CorpusSkip]

    public func tier(named name: String) -> TierSummary? { tiers.first { $0.name == name } }
}

/// The options that shape the output (threads and limits do not, so they are not recorded).
public struct CorpusSettings: Codable, Sendable, Equatable {
    public var sceneMaxChars: Int
    public var validationFraction: Double
    public var seed: UInt64
    public var nearDuplicateThreshold: Double
    public var shingleWords: Int
    public var lowercase: Bool
    public var minhashPermutations: Int
    public var lshBands: Int
    public var lshRows: Int
    public var shardBytes: Int

    init(_ options: CorpusOptions) {
        sceneMaxChars = options.sceneMaxChars
        validationFraction = options.validationFraction
        seed = options.seed
        nearDuplicateThreshold = options.nearDuplicateThreshold
        shingleWords = options.shingleWords
        lowercase = options.lowercase
        minhashPermutations = MinHasher.permutations
        lshBands = MinHasher.bands
        lshRows = MinHasher.rows
        shardBytes = options.shardBytes
    }
}

public struct TierSummary: Codable, Sendable, Equatable {
    public var name: String
    public var inputs: [String]
    public var counts: CorpusCounts
}

public struct CorpusCounts: Codable, Sendable, Equatable {
    /// Files read (rejected files included; skipped ones not) and their size on disk.
    public var sourceFiles = 0
    public var sourceBytes = 0
    /// Documents with at least one kept scene.
    public var documents = 0
    public var scenes = 0
    /// UTF-8 bytes, code points and words of the kept scene texts.
    public var bytes = 0
    public var characters = 0
    public var words = 0
    public var duplicates = DuplicateCounts()
    public var rejects = 0
    public var skipped = 0
    /// Kept documents per source encoding ("utf-8", "windows-1251", …) and per format ("fb2", …).
    public var encodings: [String: Int] = [:]
    public var formats: [String: Int] = [:]
    public var train = SplitCounts()
    public var validation = SplitCounts()

    public init() {}

    /// Documents, scenes, bytes, characters and words of the kept text, as one value.
    var kept: SplitCounts {
        get { SplitCounts(documents: documents, scenes: scenes, bytes: bytes, characters: characters, words: words) }
        set {
            (documents, scenes, bytes, characters, words)
                = (newValue.documents, newValue.scenes, newValue.bytes, newValue.characters, newValue.words)
        }
    }

    mutating func add(_ other: CorpusCounts) {
        sourceFiles += other.sourceFiles
        sourceBytes += other.sourceBytes
        kept.add(other.kept)
        duplicates.exactScenes += other.duplicates.exactScenes
        duplicates.nearScenes += other.duplicates.nearScenes
        duplicates.documents += other.duplicates.documents
        rejects += other.rejects
        skipped += other.skipped
        encodings.merge(other.encodings, uniquingKeysWith: +)
        formats.merge(other.formats, uniquingKeysWith: +)
        train.add(other.train)
        validation.add(other.validation)
    }
}

public struct DuplicateCounts: Codable, Sendable, Equatable {
    /// Scenes dropped because the same normalised text was kept before.
    public var exactScenes = 0
    /// Scenes dropped as near duplicates (estimated Jaccard ≥ threshold) of a kept scene.
    public var nearScenes = 0
    /// Documents all of whose scenes were duplicates (not counted in `documents`).
    public var documents = 0

    public init() {}
}

public struct SplitCounts: Codable, Sendable, Equatable {
    public var documents = 0
    public var scenes = 0
    public var bytes = 0
    public var characters = 0
    public var words = 0

    public init() {}

    init(documents: Int, scenes: Int, bytes: Int, characters: Int, words: Int) {
        (self.documents, self.scenes, self.bytes, self.characters, self.words) = (documents, scenes, bytes, characters, words)
    }

    mutating func add(_ other: SplitCounts) {
        documents += other.documents
        scenes += other.scenes
        bytes += other.bytes
        characters += other.characters
        words += other.words
    }
}

public enum CorpusSplit: String, Codable, Sendable, CaseIterable {
    case train
    case validation
}

public struct ShardInfo: Codable, Sendable, Equatable {
    /// Relative to the corpus directory: `train/core-00000.jsonl`.
    public var path: String
    public var split: CorpusSplit
    public var tier: String
    public var scenes: Int
    public var bytes: Int
    public var sha256: String
}

public struct SourceInfo: Codable, Sendable, Equatable {
    public var path: String
    public var tier: String
    public var format: SourceFormat?
    public var encoding: TextEncoding?
    public var bytes: Int
    /// Kept documents and scenes that came from this file.
    public var documents: Int
    public var scenes: Int
}
