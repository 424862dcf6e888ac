// HyperwordsStage — the `hyperwords` kind: learns multi-word tokens (Tokenizers' Hyperwords.learn, a
// second BPE stage over the base segmentation) on the train split of chosen corpus tiers, on top of
// the base tokenizer, and measures base against extended on held-out text.
//
// Inputs (found by kind, see UpstreamOutputs): a `corpus` stage, and the base tokenizer — a
// `base-tokenizer` stage, or else a `pretrain-base` stage's model directory.
//
// Output (the extended tokenizer directory that `extend-vocab` reads):
//   tokenizer.json          base vocabulary + new entries and merges (loads in Hugging Face tokenizers)
//   hyperwords.json         new ids, their base decompositions, counts, and the learning report
//   tokenizer_config.json   the base's (same special tokens), when it has one
//   pieces.tsv              one line per new token, most tokens saved first
//   measures.json           base vs extended on the held-out split, and on the training text
import Corpus
import Foundation
import LoomCore
import Pipeline
import Tokenizers

public struct HyperwordsStage: StageKind {
    public static let descriptor = StageKindDescriptor(
        name: "hyperwords", version: 1,
        summary: "Learn hyperwords (multi-word tokens) on corpus tiers on top of the base tokenizer; write the extended tokenizer.",
        executable: .loom,
        schema: ParamSchema([
            .list("tiers", of: .string, doc: "corpus tiers whose train split the hyperwords are learned from (empty: every tier)"),
            .int("count", default: 1000, range: 1...1_000_000, doc: "new tokens to learn (whole-word tokens that hyperwords build on included)"),
            .int("min_count", default: 8, minimum: 1,
                 doc: "a new token must occur at least this often in the training text, when learned and when the finished tokenizer encodes it (else it is dropped)"),
            .int("max_words", default: 4, range: 2...16, doc: "most words one new token may span"),
            .choice("ranking", ["tokens", "bytes"], default: "tokens",
                    doc: "rank candidate merges by tokens saved (tokens) or by occurrences × bytes (bytes: prefers long phrases)"),
            .bool("word_completions", default: true, doc: "a word of two base tokens may first become one token that hyperwords build on"),
            .int("sample_mb", default: 0, minimum: 0, doc: "learn from a seeded sample of about this many MiB of text (0: all of it)"),
            .int("seed", default: 0, minimum: 0, doc: "seeds the sample (learning itself is deterministic)"),
            .string("heldout_tier", doc: "tier whose validation split measures base vs extended tokenizer (default: the corpus's first tier)"),
        ]),
        metricGoals: [
            "hyperwords/base_tokens_per_word": .none, "hyperwords/base_bytes_per_token": .none,
            "hyperwords/token_reduction": .maximize, "hyperwords/train_token_reduction": .maximize,
            "hyperwords/new_token_share": .none,
        ],
        tierKeys: ["tiers", "heldout_tier"])

    /// The parameters as the kind reads them.
    public struct Parameters: KindParameters, Sendable, Equatable {
        public var tiers: [String]
        public var count: Int
        public var minCount: Int
        public var maxWords: Int
        public var ranking: String
        public var wordCompletions: Bool
        public var sampleMb: Int
        public var seed: Int
        /// nil: the corpus's first tier.
        public var heldoutTier: String?

        public var options: HyperwordOptions {
            var options = HyperwordOptions(targetCount: count)
            options.minCount = minCount
            options.maxWordsPerPiece = maxWords
            options.ranking = HyperwordOptions.Ranking(rawValue: ranking) ?? .tokensSaved
            options.wordCompletions = wordCompletions
            return options
        }
    }

    public init() {}

    public var descriptor: StageKindDescriptor { Self.descriptor }

    public func run(_ context: StageContext) throws {
        let parameters = try Parameters.load(context.params)
        let upstream = UpstreamOutputs(context)
        let corpus = try upstream.corpus()
        let baseDirectory = try upstream.baseTokenizerDirectory()
        let base = try TokenizerLoader.loadHF(baseDirectory)
        let tiers = try CorpusSelection.tiers(parameters.tiers, in: corpus, parameter: "tiers")
        let heldOutTier = parameters.heldoutTier ?? corpus.tierNames.first ?? ""
        _ = try CorpusSelection.tiers([heldOutTier], in: corpus, parameter: "heldout_tier")

        let options = parameters.options

        let texts = try CorpusSelection.texts(
            of: corpus, split: .train, tiers: tiers, sampleBytes: parameters.sampleMb << 20, seed: parameters.seed)
        guard !texts.isEmpty else {
            throw UpstreamError("tiers: the train split of \(tiers.joined(separator: ", ")) holds no text to learn hyperwords from")
        }
        context.log.info("learning \(options.targetCount) hyperwords on \(texts.count) scenes of \(tiers.joined(separator: ", ")) over \(base.source)")
        try context.checkCancellation()
        // Learning reports progress but cannot be interrupted; it takes seconds on a fortune-sized
        // corpus, and cancellation is checked before and after it.
        let extended = try Hyperwords.learn(base: base, texts: texts, options: options) { progress in
            switch progress {
            case .segmenting(let done, let total):
                context.progress.report(step: done, total: total, message: "segmenting the training text")
            case .learning(let tokens, let target, let latest):
                context.progress.report(step: tokens, total: target, message: "learning (latest token seen \(latest) times)")
            case .verifying(let round):
                context.progress.report(message: "checking every new token on the training text (round \(round))")
            }
        }
        try context.checkCancellation()

        let output = context.outputDirectory
        try extended.save(to: output)
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            let file = baseDirectory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: file.path) {
                try FileManager.default.copyItem(at: file, to: output.appendingPathComponent(name))
            }
        }
        try AtomicFile.write(Self.piecesTable(extended.newTokens), to: output.appendingPathComponent("pieces.tsv"))
        context.registerArtifact(name: "tokenizer", path: ExtendedTokenizer.tokenizerFile)
        context.registerArtifact(name: "hyperwords", path: ExtendedTokenizer.hyperwordsFile)
        context.registerArtifact(name: "pieces", path: "pieces.tsv")

        let heldOut = try CorpusSelection.texts(of: corpus, split: .validation, tiers: [heldOutTier], sampleBytes: CorpusSelection.measuredBytes)
        let comparison = TokenizerMeasures.compare(base: base, extended: extended, texts: heldOut)
        try AtomicFile.writeJSON(Measures(heldoutTier: heldOutTier, heldout: comparison, training: extended.training), to: output.appendingPathComponent("measures.json"))
        try logMetrics(context, extended: extended, heldOut: comparison, heldOutTier: heldOutTier)
    }

    private func logMetrics(_ context: StageContext, extended: ExtendedTokenizer, heldOut: TokenizerComparison, heldOutTier: String) throws {
        var values: [String: Double] = [
            "hyperwords/new_tokens": Double(extended.newTokens.count),
            "hyperwords/multiword_tokens": Double(extended.newTokens.filter { $0.words >= 2 }.count),
            "hyperwords/base_tokens_per_word": heldOut.base.tokensPerWord,
            "hyperwords/tokens_per_word": heldOut.extended.tokensPerWord,
            "hyperwords/base_bytes_per_token": heldOut.base.bytesPerToken,
            "hyperwords/bytes_per_token": heldOut.extended.bytesPerToken,
            "hyperwords/token_reduction": heldOut.tokenReduction,
            "hyperwords/new_token_share": heldOut.newTokenShare,
        ]
        if let training = extended.training {
            values["hyperwords/pruned"] = Double(training.pruned)
            values["hyperwords/train_base_tokens"] = Double(training.baseTokens)
            values["hyperwords/train_tokens"] = Double(training.extendedTokens)
            values["hyperwords/train_token_reduction"] = training.baseTokens == 0 ? 0 : Double(training.baseTokens - training.extendedTokens) / Double(training.baseTokens)
        }
        context.metrics.log(values, step: 0)
        context.log.info(String(
            format: "%d new tokens (%d span several words); held-out %@: %.3f → %.3f tokens per word, %.2f → %.2f bytes per token (%.1f%% fewer tokens)",
            extended.newTokens.count, extended.newTokens.filter { $0.words >= 2 }.count, heldOutTier,
            heldOut.base.tokensPerWord, heldOut.extended.tokensPerWord, heldOut.base.bytesPerToken, heldOut.extended.bytesPerToken,
            100 * heldOut.tokenReduction))
    }

    /// measures.json: what `loom show` users and the report read besides the metrics.
    struct Measures: Encodable {
        let heldoutTier: String
        let heldout: TokenizerComparison
        let training: HyperwordTraining?

        enum CodingKeys: String, CodingKey {
            case heldoutTier = "heldout_tier"
            case heldout, training
        }
    }

    /// `id  text  words  base_tokens  count  tokens_saved`, most tokens saved first (ties by id).
    static func piecesTable(_ tokens: [HyperwordToken]) -> String {
        var table = "id\ttext\twords\tbase_tokens\tcount\ttokens_saved\n"
        for token in tokens.sorted(by: { ($0.tokensSaved, -$0.id) > ($1.tokensSaved, -$1.id) }) {
            let text = token.text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\n", with: "\\n")
            table += "\(token.id)\t\(text)\t\(token.words)\t\(token.baseTokens)\t\(token.count)\t\(token.tokensSaved)\n"
        }
        return table
    }
}
