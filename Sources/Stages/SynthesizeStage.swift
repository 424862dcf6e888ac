// SynthesizeStage — the `synthesize` kind: a synthetic corpus made of hyperword combinations. A seeded
// n-gram model (Corpus' SceneSynthesizer) is learned on the train split of chosen corpus tiers, cut into
// units that are the learned hyperwords wherever the text spells one and words elsewhere; it composes
// `scenes` scenes of up to `max_words` words, which become a new tier beside the corpus's own.
//
// Inputs (found by kind, see UpstreamOutputs): a `corpus` stage, and a `hyperwords` stage (its
// hyperwords.json gives the hyperword texts).
//
// Output: a corpus (CorpusWithAddedTier) — the upstream corpus's shards hard-linked, plus the tier
// `tier_name` (train split only: held-out text stays real) — and synthesis.json (how it was made, with
// the digests of the inputs). Downstream `tokenize`, `train` and `eval` read it as their corpus
// (UpstreamOutputs prefers a `synthesize` output), so a variant trains on `tiers: [core, synthetic]`.
import Corpus
import Foundation
import LoomCore
import Pipeline
import Tokenizers

public struct SynthesizeStage: StageKind {
    public static let descriptor = StageKindDescriptor(
        name: "synthesize", version: 1,
        summary: "Compose synthetic scenes of hyperwords and words under a seeded n-gram model of corpus tiers: the corpus plus a train-only synthetic tier.",
        executable: .loom,
        schema: ParamSchema([
            .list("tiers", of: .string, doc: "corpus tiers whose train split the n-gram model is learned from (empty: every tier)"),
            .int("scenes", default: 1000, range: 1...10_000_000, doc: "synthetic scenes to compose"),
            .int("max_words", default: 64, range: 1...100_000,
                 doc: "most words in a scene: a scene ends at a drawn scene end, or before the unit that would pass this (a hyperword counts its words)"),
            .int("order", default: 3, range: SceneSynthesizerBuilder.orders,
                 doc: "n-gram order: a unit is drawn given up to order − 1 units before it, backing off (Witten–Bell) to shorter contexts, never below one unit"),
            .int("seed", default: 0, minimum: 0, doc: "seeds the draws (and the sample): the same seed gives the same scenes, byte for byte"),
            .bool("novel_only", default: true, doc: "draw again a scene that equals a training scene, so the tier holds only new text"),
            .int("sample_mb", default: 0, minimum: 0, doc: "learn the model from a seeded sample of about this many MiB of the tiers' text (0: all of it)"),
            .int("document_scenes", default: 100, range: 1...1_000_000,
                 doc: "synthetic scenes per document (a document is a 'book' for train's `books` subsets)"),
            .string("tier_name", default: "synthetic",
                    doc: "name of the new tier: lower-case letters, digits, '-' or '_', starting with a letter, and not a tier the corpus has"),
        ]),
        metricGoals: [
            "synthesize/scenes": .none, "synthesize/words": .none, "synthesize/bytes": .none, "synthesize/hyperword_share": .none,
            "synthesize/unit_types": .none, "synthesize/hyperword_types": .none, "synthesize/copy_draws": .none,
            "synthesize/empty_draws": .none, "synthesize/backoff_share": .none, "synthesize/scenes_per_second": .maximize,
        ],
        checkParameters: Parameters.check,
        tierKeys: ["tiers"],
        declaredTiers: { params in [(try? Parameters.load(params))?.tierName ?? "synthetic"] })

    /// The parameters as the kind reads them.
    public struct Parameters: KindParameters, Sendable, Equatable {
        public var tiers: [String]
        public var scenes: Int
        public var maxWords: Int
        public var order: Int
        public var seed: Int
        public var novelOnly: Bool
        public var sampleMb: Int
        public var documentScenes: Int
        public var tierName: String

        public func validate() throws {
            let scalars = tierName.unicodeScalars
            guard let first = scalars.first, ("a"..."z").contains(first),
                  scalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }) else {
                throw ParameterConstraintError(
                    "tier_name", "'\(tierName)' is not a tier name: lower-case letters, digits, '-' or '_', starting with a letter")
            }
        }
    }

    /// synthesis.json: how the tier was made.
    struct Synthesis: Encodable {
        let tier: String
        let modelTiers: [String]
        let order: Int
        let seed: Int
        let novelOnly: Bool
        let sampleMb: Int
        let maxWords: Int
        let scenesRequested: Int
        let scenes: Int
        let trainingScenes: Int
        let trainingUnits: Int
        let unitTypes: Int
        let hyperwords: Int
        let hyperwordsUsable: Int
        let hyperwordTypes: Int
        let hyperwordShare: Double
        let copyDraws: Int
        let emptyDraws: Int
        let backoffShare: Double
        let corpusManifestSha256: String
        let hyperwordsSha256: String

        enum CodingKeys: String, CodingKey {
            case tier, order, seed, scenes, hyperwords
            case modelTiers = "model_tiers"
            case novelOnly = "novel_only"
            case sampleMb = "sample_mb"
            case maxWords = "max_words"
            case scenesRequested = "scenes_requested"
            case trainingScenes = "training_scenes"
            case trainingUnits = "training_units"
            case unitTypes = "unit_types"
            case hyperwordsUsable = "hyperwords_usable"
            case hyperwordTypes = "hyperword_types"
            case hyperwordShare = "hyperword_share"
            case copyDraws = "copy_draws"
            case emptyDraws = "empty_draws"
            case backoffShare = "backoff_share"
            case corpusManifestSha256 = "corpus_manifest_sha256"
            case hyperwordsSha256 = "hyperwords_sha256"
        }
    }

    public static let synthesisFile = "synthesis.json"

    public init() {}

    public var descriptor: StageKindDescriptor { Self.descriptor }

    public func run(_ context: StageContext) throws {
        let parameters = try Parameters.load(context.params)
        let upstream = UpstreamOutputs(context)
        // The corpus stage's own output: a synthesized corpus upstream is not modelled again.
        let corpus = try CorpusReader(directory: upstream.directory(ofKind: CorpusStage.descriptor.name))
        let hyperwordsDirectory = try upstream.extendedTokenizerDirectory()
        let tiers = try CorpusSelection.tiers(parameters.tiers, in: corpus, parameter: "tiers")
        guard !corpus.tierNames.contains(parameters.tierName) else {
            throw UpstreamError(
                "tier_name: '\(parameters.tierName)' is already a tier of the corpus (\(corpus.tierNames.joined(separator: ", "))); name the synthetic tier something new")
        }
        let extended = try ExtendedTokenizer(contentsOf: hyperwordsDirectory)
        let phrases = extended.newTokens.filter { $0.words >= 2 }.map(\.text)

        let started = Date()
        var builder = SceneSynthesizerBuilder(order: parameters.order, phrases: phrases)
        if builder.phraseCount == 0 {
            context.log.warning("the hyperwords stage learned no multi-word hyperword the text can spell: the units are words only")
        }
        let total = try corpus.shards(split: .train, tiers: tiers).reduce(0) { $0 + $1.scenes }
        context.log.info("learning an order-\(parameters.order) model of \(tiers.joined(separator: ", ")) (train split) over words and \(builder.phraseCount) hyperwords")
        try CorpusSelection.forEachText(of: corpus, split: .train, tiers: tiers, sampleBytes: parameters.sampleMb << 20, seed: parameters.seed) { text in
            builder.add(text)
            if builder.scenes % 1000 == 0 {
                try context.checkCancellation()
                context.progress.report(step: builder.scenes, total: total, message: "learning the n-gram model")
            }
        }
        guard builder.unitCount > 0 else {
            throw UpstreamError("tiers: the train split of \(tiers.joined(separator: ", ")) holds no text to learn the n-gram model from")
        }
        let model = builder.build()
        guard model.hasWords else {
            throw UpstreamError("tiers: the train split of \(tiers.joined(separator: ", ")) holds no word (only punctuation), so no scene can be composed")
        }
        try context.checkCancellation()
        context.log.info("\(builder.unitCount) units in \(builder.scenes) scenes, \(model.unitTypes) distinct (\(model.phraseTypes) of them hyperwords, \(builder.phraseOccurrences) occurrences)")

        let generationStarted = Date()
        let generation = model.generate(
            count: parameters.scenes, maxWords: parameters.maxWords, seed: UInt64(parameters.seed), novelOnly: parameters.novelOnly
        ) { done in
            context.progress.report(step: done, total: parameters.scenes, message: "composing scenes")
        }
        let generationSeconds = Date().timeIntervalSince(generationStarted)
        if generation.scenes.count < parameters.scenes {
            context.log.warning(
                "composed \(generation.scenes.count) of \(parameters.scenes) scenes: \(generation.copyDraws) draws repeated a training scene and \(generation.emptyDraws) held no word (20 draws a scene at most)")
        }
        try context.checkCancellation()

        let output = context.outputDirectory
        let written = try CorpusWithAddedTier.write(
            base: corpus, tier: parameters.tierName, inputs: [Self.synthesisFile], scenes: generation.scenes.map(\.text),
            scenesPerDocument: parameters.documentScenes, into: output)
        if written.copiedShards > 0 {
            context.log.warning("\(written.copiedShards) corpus shards were copied: the file system could not hard-link them")
        }
        let units = generation.scenes.reduce(0) { $0 + $1.units.count }
        let hyperwordUnits = generation.scenes.reduce(0) { $0 + $1.units.filter(model.isPhrase).count }
        let counts = written.manifest.tier(named: parameters.tierName)!.counts
        let synthesis = Synthesis(
            tier: parameters.tierName, modelTiers: tiers, order: parameters.order, seed: parameters.seed, novelOnly: parameters.novelOnly,
            sampleMb: parameters.sampleMb, maxWords: parameters.maxWords, scenesRequested: parameters.scenes, scenes: generation.scenes.count,
            trainingScenes: builder.scenes, trainingUnits: builder.unitCount, unitTypes: model.unitTypes, hyperwords: extended.newTokens.count,
            hyperwordsUsable: builder.phraseCount, hyperwordTypes: model.phraseTypes,
            hyperwordShare: units > 0 ? Double(hyperwordUnits) / Double(units) : 0,
            copyDraws: generation.copyDraws, emptyDraws: generation.emptyDraws,
            backoffShare: units > 0 ? Double(generation.backoffs) / Double(units) : 0,
            corpusManifestSha256: try Digest.sha256Hex(fileAt: corpus.directory.appendingPathComponent(CorpusManifest.fileName)),
            hyperwordsSha256: try Digest.sha256Hex(fileAt: hyperwordsDirectory.appendingPathComponent(ExtendedTokenizer.hyperwordsFile)))
        try AtomicFile.writeJSON(synthesis, to: output.appendingPathComponent(Self.synthesisFile))
        context.registerArtifact(name: "manifest", path: CorpusManifest.fileName)
        context.registerArtifact(name: "documents", path: written.manifest.documentsFile)
        context.registerArtifact(name: "synthesis", path: Self.synthesisFile)

        context.metrics.log([
            "synthesize/scenes": Double(counts.scenes), "synthesize/words": Double(counts.words), "synthesize/bytes": Double(counts.bytes),
            "synthesize/hyperword_share": synthesis.hyperwordShare, "synthesize/unit_types": Double(model.unitTypes),
            "synthesize/hyperword_types": Double(model.phraseTypes), "synthesize/copy_draws": Double(generation.copyDraws),
            "synthesize/empty_draws": Double(generation.emptyDraws), "synthesize/backoff_share": synthesis.backoffShare,
            "synthesize/scenes_per_second": generationSeconds > 0 ? Double(generation.scenes.count) / generationSeconds : 0,
        ], step: 0)
        for scene in generation.scenes.prefix(3) { context.log.info("e.g. \(JSONStringLiteral.literal(scene.text))") }
        context.log.info(String(
            format: "%@: %d scenes, %d words, %.1f%% of units hyperwords; %d shards of the corpus linked; %.1f s (composing %.2f s)",
            parameters.tierName, counts.scenes, counts.words, 100 * synthesis.hyperwordShare, written.linkedShards,
            Date().timeIntervalSince(started), generationSeconds))
    }
}
