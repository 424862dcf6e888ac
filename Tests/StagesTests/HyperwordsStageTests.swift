// HyperwordsStageTests — the `hyperwords` kind run for real after a corpus and a base tokenizer (trained
// SentencePiece, or a Hugging Face byte-level tokenizer taken by `path`): the extended tokenizer it
// writes (every new id expands to exactly the base ids), the held-out measures against an independent
// computation, the per-piece report, and the errors for bad tiers, missing inputs and bad parameters.
import Corpus
import Foundation
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing
import Tokenizers

@Suite struct HyperwordsStageTests {
    let project: StagesProject

    init() throws {
        project = try StagesProject()
        try project.addFortuneTiers()
    }

    /// Checks the extended tokenizer of a succeeded hyperwords stage against its base on held-out text.
    func checkExtension(run: Int64, base: any Tokenizer, heldOutTier: String, minCount: Int) throws {
        let output = try project.outputDirectory(run, "hyperwords")
        let extended = try ExtendedTokenizer(contentsOf: output)
        let corpus = try CorpusReader(directory: try project.outputDirectory(run, "corpus"))
        let heldOut = try CorpusSelection.texts(of: corpus, split: .validation, tiers: [heldOutTier])
        #expect(!extended.newTokens.isEmpty)
        #expect(extended.baseVocabularySize == base.vocabularySize)
        #expect(extended.newTokens.allSatisfy { $0.count >= minCount })
        for text in heldOut {
            #expect(extended.expandToBase(extended.encode(text)) == base.encode(text))
        }
        let metrics = try project.metrics(run, "hyperwords")
        let comparison = TokenizerMeasures.compare(base: base, extended: extended, texts: heldOut)
        #expect(metrics["hyperwords/new_tokens"] == Double(extended.newTokens.count))
        #expect(metrics["hyperwords/multiword_tokens"] == Double(extended.newTokens.filter { $0.words >= 2 }.count))
        #expect(metrics["hyperwords/base_tokens_per_word"] == comparison.base.tokensPerWord)
        #expect(metrics["hyperwords/tokens_per_word"] == comparison.extended.tokensPerWord)
        #expect(metrics["hyperwords/base_bytes_per_token"] == comparison.base.bytesPerToken)
        #expect(metrics["hyperwords/bytes_per_token"] == comparison.extended.bytesPerToken)
        #expect(metrics["hyperwords/token_reduction"] == comparison.tokenReduction)
        #expect(comparison.extended.tokensPerWord <= comparison.base.tokensPerWord)
        let training = try #require(extended.training)
        #expect(metrics["hyperwords/train_base_tokens"] == Double(training.baseTokens))
        #expect(metrics["hyperwords/train_tokens"] == Double(training.extendedTokens))
        #expect((metrics["hyperwords/learning_seconds"] ?? -1) >= 0)
        #expect(training.extendedTokens < training.baseTokens)

        let pieces = try #require(try project.output(run, "hyperwords", "pieces.tsv")).split(separator: "\n")
        #expect(pieces.first == "id\ttext\twords\tbase_tokens\tcount\ttokens_saved")
        #expect(pieces.count == extended.newTokens.count + 1)
        let best = try #require(extended.newTokens.map(\.tokensSaved).max())
        #expect(pieces[1].split(separator: "\t").last.map(String.init) == String(best))
        let measures = try JSONValue.parse(try #require(try project.output(run, "hyperwords", "measures.json")))
        #expect(measures["heldout_tier"] == .string(heldOutTier))
        #expect(measures.value(atKeyPath: "heldout.extended.tokens")?.intValue == comparison.extended.tokens)
    }

    @Test func learnsOnTrainedSentencePieceAndMeasuresOnHeldOutCore() throws {
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 500}}
              hyperwords:
                kind: hyperwords
                after: [corpus, tokenizer]
                params: {tiers: [core, orbit], count: 40, min_count: 3, heldout_tier: core}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded, "\(project.error(result.id, "hyperwords") ?? "")")
        let baseDirectory = try project.outputDirectory(result.id, "tokenizer")
        try checkExtension(run: result.id, base: try TokenizerLoader.loadHF(baseDirectory), heldOutTier: "core", minCount: 3)
        let output = try project.outputDirectory(result.id, "hyperwords")
        #expect(try Data(contentsOf: output.appendingPathComponent("tokenizer_config.json"))
            == Data(contentsOf: baseDirectory.appendingPathComponent("tokenizer_config.json")))
        let artifacts = try #require(try project.store().artifacts(ofRun: result.id).first { $0.stage == "hyperwords" }).artifacts
        #expect(Set(artifacts.map(\.name)).isSuperset(of: ["tokenizer", "hyperwords", "pieces"]))
    }

    @Test func learnsOnAHuggingFaceByteLevelTokenizerTakenByPath() throws {
        try project.copyFixture("tokenizers/bytelevel-llama3", to: "models/llama3")
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, params: {path: models/llama3}}
              hyperwords:
                kind: hyperwords
                after: [corpus, tokenizer]
                params: {count: 30, min_count: 3, ranking: bytes, sample_mb: 1}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded, "\(project.error(result.id, "hyperwords") ?? "")")
        let base = try TokenizerLoader.loadHF(project.root.appendingPathComponent("models/llama3"))
        // Without `heldout_tier`, the corpus's first tier is measured.
        try checkExtension(run: result.id, base: base, heldOutTier: "core", minCount: 3)
    }

    @Test func aSampleIsSeededAndSmallerThanTheWhole() throws {
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + "")
        let result = try project.run("recipes/r.yaml")
        let corpus = try CorpusReader(directory: try project.outputDirectory(result.id, "corpus"))
        let all = try CorpusSelection.texts(of: corpus, split: .train, tiers: corpus.tierNames)
        let sample = try CorpusSelection.texts(of: corpus, split: .train, tiers: corpus.tierNames, sampleBytes: 20_000, seed: 1)
        let bytes = sample.reduce(0) { $0 + $1.utf8.count }
        #expect(bytes >= 20_000 && bytes < all.reduce(0) { $0 + $1.utf8.count })
        #expect(try CorpusSelection.texts(of: corpus, split: .train, tiers: corpus.tierNames, sampleBytes: 20_000, seed: 1) == sample)
        #expect(try CorpusSelection.texts(of: corpus, split: .train, tiers: corpus.tierNames, sampleBytes: 20_000, seed: 2) != sample)
        // Scenes keep their corpus order.
        let positions = sample.map { text in all.firstIndex(of: text)! }
        #expect(positions == positions.sorted())
    }

    @Test func wrongTiersAreRecipeErrors() throws {
        // Checked against the corpus stage's tiers when the recipe is validated: no stage runs first.
        try project.write("recipes/tiers.yaml", "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
              typo: {kind: hyperwords, after: [corpus, tokenizer], params: {tiers: [cor]}}
              heldout: {kind: hyperwords, after: [corpus, tokenizer], params: {heldout_tier: orbt}}
            """)
        let errors = try project.recipeErrors("recipes/tiers.yaml")
        #expect(errors.contains("stages.typo.params.tiers: unknown tier 'cor' — did you mean core? (the corpus has core, orbit, fractal)"), "\(errors)")
        #expect(errors.contains("stages.heldout.params.heldout_tier: unknown tier 'orbt' — did you mean orbit? (the corpus has core, orbit, fractal)"), "\(errors)")
    }

    @Test func missingInputsFailTheStageByName() throws {
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
              lonely: {kind: hyperwords, after: [tokenizer]}
              untokenized: {kind: hyperwords, after: [corpus]}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .failed)
        #expect(project.error(result.id, "lonely")
            == "stage lonely needs the output of a `corpus` stage: add that stage to its `after:` list (its inputs: tokenizer (base-tokenizer))")
        #expect(project.error(result.id, "untokenized")
            == "stage untokenized needs a base tokenizer: add a `base-tokenizer` (or `pretrain-base`) stage to its `after:` list (its inputs: corpus (corpus))")
    }

    @Test func badParametersAreRefusedBeforeAnythingRuns() throws {
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              hyperwords:
                kind: hyperwords
                after: [corpus]
                params: {count: 0, max_word: 3, ranking: byte, min_count: -1}
            """)
        let root = project.root.standardizedFileURL.path
        let errors = try project.recipeErrors("recipes/r.yaml").replacingOccurrences(of: root + "/", with: "")
        #expect(errors == """
            recipes/r.yaml:12:21: stages.hyperwords.params.count: 0 is out of range: must be ≥ 1 and ≤ 1000000
            recipes/r.yaml:12:24: stages.hyperwords.params.max_word: unknown key — did you mean max_words?
            recipes/r.yaml:12:46: stages.hyperwords.params.ranking: 'byte' is not one of tokens, bytes, surprisal — did you mean bytes?
            recipes/r.yaml:12:63: stages.hyperwords.params.min_count: -1 is out of range: must be ≥ 1
            """)
    }
}
