// HyperwordsStage — the `hyperwords` kind: learns multi-word tokens (Tokenizers' Hyperwords.learn, a
// second BPE stage over the base segmentation) on the train split of chosen corpus tiers, on top of
// the base tokenizer, and measures base against extended on held-out text.
//
// Inputs (found by kind, see UpstreamOutputs): a `corpus` stage, and the base tokenizer — a
// `base-tokenizer` stage, or else a `pretrain-base` stage's model directory. `ranking: surprisal` also
// reads the base model (`pretrain-base`): it scores the training text with it once (every token's
// surprisal in context, in windows of `score_seq_len`, `score_batch_size` windows per forward pass) and
// ranks each candidate merge a + b by its occurrences, each weighted by how much more predictable b is
// after a than b usually is (the formula: Tokenizers' HyperwordSurprisal).
//
// Why the kind runs in `loom-torch`: that ranking needs the model, and a kind has one executable. Its
// code here is torch-free — the model's scoring is plugged in (TokenSurprisalScoring, implemented in
// ModelStages) — so the frequency rankings (`tokens`, `bytes`) give exactly what they gave before, and
// one kind serves both sides of the ablation (variants that differ only in `ranking`).
//
// Output (the extended tokenizer directory that `extend-vocab` reads):
//   tokenizer.json          base vocabulary + new entries and merges (loads in Hugging Face tokenizers)
//   hyperwords.json         new ids, their base decompositions, counts, and the learning report
//   tokenizer_config.json   the base's (same special tokens), when it has one
//   pieces.tsv              one line per new token, most tokens saved first
//   measures.json           base vs extended on the held-out split, and on the training text (with
//                           `ranking: surprisal`, also how the base model scored the training text)
import Corpus
import Foundation
import LoomCore
import Pipeline
import Tokenizers

public struct HyperwordsStage: StageKind {
    public static let descriptor = StageKindDescriptor(
        name: "hyperwords", version: 1,
        summary: "Learn hyperwords (multi-word tokens) on corpus tiers on top of the base tokenizer, ranked by frequency or by the base model's surprisal; write the extended tokenizer.",
        executable: .loomTorch,
        schema: ParamSchema([
            .list("tiers", of: .string, doc: "corpus tiers whose train split the hyperwords are learned from (empty: every tier)"),
            .int("count", default: 1000, range: 1...1_000_000, doc: "new tokens to learn (whole-word tokens that hyperwords build on included)"),
            .int("min_count", default: 8, minimum: 1,
                 doc: "a new token must occur at least this often in the training text, when learned and when the finished tokenizer encodes it (else it is dropped)"),
            .int("max_words", default: 4, range: 2...16, doc: "most words one new token may span"),
            .choice("ranking", ["tokens", "bytes", "surprisal"], default: "tokens",
                    doc: "rank candidate merges by tokens saved (tokens), by occurrences × bytes (bytes: prefers long phrases), or by occurrences each weighted by exp(how much more predictable the base model finds the second part there than it usually finds those tokens) (surprisal: prefers collocations; needs a `pretrain-base` stage in `after:`)"),
            .bool("word_completions", default: true, doc: "a word of two base tokens may first become one token that hyperwords build on"),
            .int("sample_mb", default: 0, minimum: 0, doc: "learn from a seeded sample of about this many MiB of text (0: all of it)"),
            .int("seed", default: 0, minimum: 0, doc: "seeds the sample (learning itself is deterministic)"),
            .string("heldout_tier", doc: "tier whose validation split measures base vs extended tokenizer (default: the corpus's first tier)"),
            .int("score_seq_len", default: 256, range: 8...131_072,
                 doc: "ranking surprisal: the base model scores each training scene in windows of this many tokens (a token's context is the window before it)"),
            .int("score_batch_size", default: 8, range: 1...65536, doc: "ranking surprisal: windows per forward pass"),
            DeviceParameter.spec,
        ]),
        metricGoals: [
            "hyperwords/base_tokens_per_word": .none, "hyperwords/base_bytes_per_token": .none,
            "hyperwords/token_reduction": .maximize, "hyperwords/train_token_reduction": .maximize,
            "hyperwords/new_token_share": .none, "hyperwords/train_surprisal": .none, "hyperwords/scored_tokens": .none,
            "hyperwords/learning_seconds": .none,
        ],
        checkParameters: Parameters.check,
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
        public var scoreSeqLen: Int
        public var scoreBatchSize: Int
        /// auto, cpu, cuda or cuda:N (DeviceParameter; not in the fingerprint).
        public var device: String

        public var usesModel: Bool { ranking == HyperwordOptions.Ranking.surprisal.rawValue }

        public func validate() throws { try DeviceParameter.check(device) }

        public var options: HyperwordOptions {
            var options = HyperwordOptions(targetCount: count)
            options.minCount = minCount
            options.maxWordsPerPiece = maxWords
            options.ranking = HyperwordOptions.Ranking(rawValue: ranking) ?? .tokensSaved
            options.wordCompletions = wordCompletions
            return options
        }
    }

    /// How `ranking: surprisal` scores the training text with the base model; nil where no model can
    /// be loaded (the torch-free registry, which runs the frequency rankings only).
    let scoring: (any TokenSurprisalScoring)?

    public init(scoring: (any TokenSurprisalScoring)? = nil) {
        self.scoring = scoring
    }

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
        let model = try parameters.usesModel ? baseModel(upstream) : nil

        let texts = try CorpusSelection.texts(
            of: corpus, split: .train, tiers: tiers, sampleBytes: parameters.sampleMb << 20, seed: parameters.seed)
        guard !texts.isEmpty else {
            throw UpstreamError("tiers: the train split of \(tiers.joined(separator: ", ")) holds no text to learn hyperwords from")
        }
        var surprisal: HyperwordSurprisal? = nil
        if let model {
            surprisal = try score(texts, base: base, with: model.scoring, modelDirectory: model.directory, parameters: parameters, context: context)
        }
        context.log.info("learning \(options.targetCount) hyperwords on \(texts.count) scenes of \(tiers.joined(separator: ", ")) over \(base.source), ranked by \(parameters.ranking)")
        try context.checkCancellation()
        // Learning reports progress but cannot be interrupted; it takes seconds on a fortune-sized
        // corpus, and cancellation is checked before and after it.
        let extended = try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: surprisal) { progress in
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
        let scoring = surprisal.map { ScoringMeasures(scoredTokens: $0.scoredTokens, meanSurprisal: $0.meanSurprisal) }
        try AtomicFile.writeJSON(
            Measures(heldoutTier: heldOutTier, heldout: comparison, training: extended.training, surprisal: scoring),
            to: output.appendingPathComponent("measures.json"))
        try logMetrics(context, extended: extended, heldOut: comparison, heldOutTier: heldOutTier)
        if let scoring {
            context.metrics.log(["hyperwords/train_surprisal": scoring.meanSurprisal, "hyperwords/scored_tokens": Double(scoring.scoredTokens)], step: 0)
        }
    }

    /// The base model `ranking: surprisal` reads, and how to score with it; an error naming the key when
    /// there is none upstream or this executable cannot load one.
    private func baseModel(_ upstream: UpstreamOutputs) throws -> (directory: URL, scoring: any TokenSurprisalScoring) {
        let kind = PretrainBaseKind.descriptor.name
        guard try upstream.optionalDirectory(ofKind: kind) != nil else {
            let inputs = upstream.inputs.map { "\($0.stage) (\($0.kind ?? "unknown kind"))" }.joined(separator: ", ")
            throw ParameterConstraintError(
                "ranking",
                "surprisal ranks merges with the base model, but stage \(upstream.stage) has no `\(kind)` stage in its `after:` list (its inputs: \(inputs.isEmpty ? "none" : inputs)): add the base, or rank by tokens or bytes")
        }
        guard let scoring else {
            throw ParameterConstraintError("ranking", "surprisal needs the base model, which only `loom-torch exec-stage` loads; this executable ranks by tokens or bytes only")
        }
        return (try upstream.baseModelDirectory(), scoring)
    }

    /// The base model's surprisal of every id of `texts` (their `encode`), each text given to the model
    /// after the tokenizer's prefix (its BOS, as eval scores text).
    private func score(
        _ texts: [String], base: HFTokenizer, with scoring: any TokenSurprisalScoring, modelDirectory: URL, parameters: Parameters,
        context: StageContext
    ) throws -> HyperwordSurprisal {
        let prefix = base.specialTokens.prefix
        let encoded = texts.map { base.encode($0) }
        let tokens = encoded.reduce(0) { $0 + $1.count }
        context.log.info("scoring \(tokens) tokens of \(texts.count) scenes with the base model \(modelDirectory.path) (windows of \(parameters.scoreSeqLen))")
        let started = Date()
        let values = try scoring.surprisal(
            of: encoded.map { prefix + $0 }, modelDirectory: modelDirectory, vocabularySize: base.vocabularySize, parameters: parameters, context: context)
        let scored = zip(encoded, values).map { ids, surprisal in
            ScoredText(ids: ids.map(Int32.init), surprisal: Array(surprisal.dropFirst(prefix.count)))
        }
        let result = HyperwordSurprisal(texts: scored)
        context.log.info(String(format: "scored in %.1f s: %.3f nats per token on the training text", Date().timeIntervalSince(started), result.meanSurprisal))
        return result
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
            values["hyperwords/learning_seconds"] = training.learningSeconds
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
        /// `ranking: surprisal` only.
        let surprisal: ScoringMeasures?

        enum CodingKeys: String, CodingKey {
            case heldoutTier = "heldout_tier"
            case heldout, training, surprisal
        }
    }

    /// How the base model scored the training text.
    struct ScoringMeasures: Encodable {
        let scoredTokens: Int
        /// Mean surprisal per token, in nats.
        let meanSurprisal: Double

        enum CodingKeys: String, CodingKey {
            case scoredTokens = "scored_tokens"
            case meanSurprisal = "mean_nats"
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

/// What `ranking: surprisal` needs from the base model: implemented in ModelStages, where a model can be
/// loaded (`loom-torch`).
public protocol TokenSurprisalScoring: Sendable {
    /// −ln p, in nats, of every id of each of `sequences` given the ids before it in its window of
    /// `parameters.scoreSeqLen` ids, under the model in `modelDirectory` (whose vocabulary must be the
    /// tokenizer's `vocabularySize`); NaN for each sequence's first id, which nothing predicts.
    func surprisal(
        of sequences: [[Int]], modelDirectory: URL, vocabularySize: Int, parameters: HyperwordsStage.Parameters, context: StageContext
    ) throws -> [[Float]]
}
