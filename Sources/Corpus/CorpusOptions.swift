// CorpusOptions — every knob of a corpus build, with the defaults the README documents. The `corpus`
// stage kind maps its recipe parameters onto these fields one to one.
import Foundation

public struct CorpusOptions: Sendable, Equatable {
    /// Longest scene, in Unicode code points. Scenes end at paragraph boundaries; only a paragraph longer
    /// than this is cut inside, at a sentence end (else a space, else a hard cut).
    public var sceneMaxChars: Int = 4000
    /// Share of each tier's documents held out for validation (rounded; at least one document when the
    /// tier has two or more documents and the fraction is positive).
    public var validationFraction: Double = 0.1
    /// Seeds the MinHash permutations and the train/validation assignment.
    public var seed: UInt64 = 0
    /// A scene whose estimated Jaccard similarity (word 5-shingles) to an already kept scene is at least
    /// this is a near duplicate and is dropped. 1.0 turns near-duplicate removal off (exact still runs).
    public var nearDuplicateThreshold: Double = 0.8
    /// Words per shingle for near-duplicate detection.
    public var shingleWords: Int = 5
    /// Lower-case all text (off by default: case carries information a model should learn).
    public var lowercase: Bool = false
    /// Any reject fails the build (nothing is published).
    public var strict: Bool = false
    /// A shard file is closed once it holds this many bytes (one scene never spans two shards).
    public var shardBytes: Int = 64 << 20
    /// Worker threads for reading, decoding, normalising and hashing; dedupe and writing stay in order on
    /// the calling thread. Defaults to the number of active cores.
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Larger input files are rejected instead of read (a file is processed whole, in memory).
    public var maxFileBytes: Int = 512 << 20
    /// Zip limits (EPUB, .fb2.zip): bytes inflated per entry, per archive, and the largest ratio of
    /// inflated to compressed size tolerated beyond the first MiB of an entry.
    public var maxZipEntryBytes: Int = 256 << 20
    public var maxZipArchiveBytes: Int = 1 << 30
    public var maxZipCompressionRatio: Int = 100

    public init() {}

    /// Checks the values a recipe or a command line could get wrong; the message names the option.
    public func validate() throws {
        func fail(_ option: String, _ expected: String, _ got: Any) throws -> Never {
            throw CorpusError.invalidOption("\(option): expected \(expected), got \(got)")
        }
        if sceneMaxChars < 64 { try fail("sceneMaxChars", "at least 64", sceneMaxChars) }
        if !(validationFraction >= 0 && validationFraction < 1) {
            try fail("validationFraction", "a number in [0, 1)", validationFraction)
        }
        if !(nearDuplicateThreshold > 0 && nearDuplicateThreshold <= 1) {
            try fail("nearDuplicateThreshold", "a number in (0, 1]", nearDuplicateThreshold)
        }
        if !(1...16).contains(shingleWords) { try fail("shingleWords", "1…16", shingleWords) }
        if shardBytes < 1024 { try fail("shardBytes", "at least 1024", shardBytes) }
        if threads < 1 { try fail("threads", "at least 1", threads) }
        if maxFileBytes < 1 { try fail("maxFileBytes", "at least 1", maxFileBytes) }
        if maxZipEntryBytes < 1 { try fail("maxZipEntryBytes", "at least 1", maxZipEntryBytes) }
        if maxZipArchiveBytes < 1 { try fail("maxZipArchiveBytes", "at least 1", maxZipArchiveBytes) }
        if maxZipCompressionRatio < 2 { try fail("maxZipCompressionRatio", "at least 2", maxZipCompressionRatio) }
    }
}
