// CorpusStage — the `corpus` kind: the Corpus module's build (CorpusBuilder, as `loom corpus` runs it)
// on the recipe's tiers. Its output directory IS the corpus (manifest.json, documents.jsonl,
// train/TIER-NNNNN.jsonl, validation/TIER-NNNNN.jsonl); later stages open it with
// `UpstreamOutputs.corpus()` and choose tiers there, so one corpus serves every variant.
//
// `tiers` is a LIST of {name, paths} and not a map: its order is the dedupe priority (the first copy
// of a scene in the earliest tier is kept), and a list keeps its order through every layer — recipe
// merging, the canonical JSON of the fingerprint, $LOOM_PARAMS — where map keys are sorted.
import Corpus
import Foundation
import Pipeline

public struct CorpusStage: StageKind {
    public static let descriptor = StageKindDescriptor(
        name: "corpus", version: 1,
        summary: "Build the corpus: tiers of books/fortunes → clean, deduplicated scenes with a train/validation split per tier.",
        executable: .loom,
        schema: ParamSchema([
            .list("tiers", of: .section(ParamSchema([
                .string("name", required: true, doc: "tier name: lower-case letters, digits, '-' or '_', starting with a letter (core, orbit, fractal)"),
                .list("paths", of: .path(.any), default: nil, required: true,
                      doc: "files, directories (walked recursively) and patterns (books/*.fb2, books/**/*.epub) of this tier, relative to the project directory; their content enters the fingerprint"),
            ])), default: nil, required: true,
            doc: "the tiers in dedupe priority order, each {name, paths}: a scene kept in an earlier tier is removed from every later one"),
            .int("scene_max_chars", default: 4000, minimum: 64, doc: "longest scene in characters; scenes end at paragraph boundaries"),
            .float("validation_fraction", default: 0.1, range: ParamRange(minimum: 0, maximum: 0.99),
                   doc: "share of each tier's documents held out for validation (at least one when a tier has two or more)"),
            .int("seed", default: 0, minimum: 0, doc: "seeds near-duplicate hashing and the train/validation assignment"),
            .float("near_duplicate_threshold", default: 0.8, range: ParamRange(minimum: 0, maximum: 1, exclusiveMinimum: true),
                   doc: "estimated Jaccard similarity (word shingles) at which a scene is a near duplicate; 1 keeps near duplicates"),
            .int("shingle_words", default: 5, range: 1...16, doc: "words per shingle for near-duplicate detection"),
            .bool("lowercase", default: false, doc: "lower-case all text"),
            .bool("strict", default: false, doc: "fail the stage when any input is rejected (binary, undecodable, malformed, …)"),
            .int("shard_mb", default: 64, range: 1...4096, doc: "a shard file is closed at this size in MiB"),
            .int("max_file_mb", default: 512, minimum: 1, doc: "larger input files are rejected (a file is processed whole, in memory)"),
            .int("max_zip_entry_mb", default: 256, minimum: 1, doc: "zip bomb guard: most MiB inflated from one EPUB/.fb2.zip entry"),
            .int("max_zip_archive_mb", default: 1024, minimum: 1, doc: "zip bomb guard: most MiB inflated from one archive"),
            .int("max_zip_ratio", default: 100, minimum: 2, doc: "zip bomb guard: highest inflated/compressed ratio beyond an entry's first MiB"),
        ]),
        declaredTiers: { params in ((try? Parameters.load(params))?.tiers ?? []).map(\.name) })

    /// The parameters as the kind reads them.
    public struct Parameters: KindParameters, Sendable, Equatable {
        public struct Tier: Decodable, Sendable, Equatable {
            public var name: String
            public var paths: [String]
        }

        public var tiers: [Tier]
        public var sceneMaxChars: Int
        public var validationFraction: Double
        public var seed: Int
        public var nearDuplicateThreshold: Double
        public var shingleWords: Int
        public var lowercase: Bool
        public var strict: Bool
        public var shardMb: Int
        public var maxFileMb: Int
        public var maxZipEntryMb: Int
        public var maxZipArchiveMb: Int
        public var maxZipRatio: Int

        /// The corpus builder's options.
        public var options: CorpusOptions {
            var options = CorpusOptions()
            options.sceneMaxChars = sceneMaxChars
            options.validationFraction = validationFraction
            options.seed = UInt64(seed)
            options.nearDuplicateThreshold = nearDuplicateThreshold
            options.shingleWords = shingleWords
            options.lowercase = lowercase
            options.strict = strict
            options.shardBytes = shardMb << 20
            options.maxFileBytes = maxFileMb << 20
            options.maxZipEntryBytes = maxZipEntryMb << 20
            options.maxZipArchiveBytes = maxZipArchiveMb << 20
            options.maxZipCompressionRatio = maxZipRatio
            return options
        }
    }

    public init() {}

    public var descriptor: StageKindDescriptor { Self.descriptor }

    public func run(_ context: StageContext) throws {
        let parameters = try Parameters.load(context.params)
        let tiers = parameters.tiers.map { TierSpec(name: $0.name, inputs: $0.paths) }
        let options = parameters.options

        context.log.info("building the corpus of \(tiers.map(\.name).joined(separator: ", ")) (dedupe in that order)")
        let manifest = try CorpusBuilder(options: options).build(tiers: tiers, output: context.outputDirectory) { event in
            try context.checkCancellation()
            switch event {
            case .progress(let progress):
                context.progress.report(Self.stageProgress(progress))
            case .rejected(let reject):
                context.log.warning("\(reject.tier): \(reject.location): \(reject.reason)")
            }
        }
        context.registerArtifact(name: "manifest", path: CorpusManifest.fileName)
        context.registerArtifact(name: "documents", path: manifest.documentsFile)
        for tier in manifest.tiers {
            context.metrics.log(Self.metrics(tier.counts, prefix: "corpus/\(tier.name)/"), step: 0)
            context.log.info("\(tier.name): \(Self.summary(tier.counts))")
        }
        context.metrics.log(Self.metrics(manifest.total, prefix: "corpus/"), step: 0)
        context.log.info("total: \(Self.summary(manifest.total))")
    }

    static func stageProgress(_ progress: CorpusProgress) -> StageProgress {
        let megabytes = { (bytes: Int) in String(format: "%.1f", Double(bytes) / 1_000_000) }
        return StageProgress(
            step: progress.filesDone, total: progress.filesTotal, etaSeconds: progress.etaSeconds,
            message: "\(progress.phase.rawValue) \(megabytes(progress.bytesDone))/\(megabytes(progress.bytesTotal)) MB, "
                + "\(progress.documents) documents, \(progress.duplicates) duplicates, \(progress.rejects) rejects")
    }

    /// `corpus/core/documents`, … (or `corpus/documents` for the total).
    static func metrics(_ counts: CorpusCounts, prefix: String) -> [String: Double] {
        let values: [String: Int] = [
            "documents": counts.documents, "scenes": counts.scenes, "words": counts.words, "characters": counts.characters,
            "bytes": counts.bytes,
            "duplicates": counts.duplicates.exactScenes + counts.duplicates.nearScenes,
            "near_duplicates": counts.duplicates.nearScenes, "duplicate_documents": counts.duplicates.documents,
            "rejects": counts.rejects, "skipped": counts.skipped,
            "train_documents": counts.train.documents, "train_scenes": counts.train.scenes, "train_words": counts.train.words,
            "validation_documents": counts.validation.documents, "validation_scenes": counts.validation.scenes,
            "validation_words": counts.validation.words,
        ]
        return Dictionary(uniqueKeysWithValues: values.map { (prefix + $0.key, Double($0.value)) })
    }

    static func summary(_ counts: CorpusCounts) -> String {
        "\(counts.documents) documents (\(counts.validation.documents) held out), \(counts.scenes) scenes, \(counts.words) words, "
            + "\(counts.duplicates.exactScenes + counts.duplicates.nearScenes) duplicate scenes dropped, \(counts.rejects) rejects"
    }
}
