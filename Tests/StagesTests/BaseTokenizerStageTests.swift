// BaseTokenizerStageTests — the `base-tokenizer` kind run for real: SentencePiece BPE trained on chosen
// tiers of a corpus stage (found by kind, whatever its name), its tokenizer.json encoding exactly as
// the model, its metrics, its place in the cache (model sizes never retrain it); and `path` taking an
// existing tokenizer as is; and the errors of both modes.
import Corpus
import Foundation
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing
import Tokenizers

@Suite struct BaseTokenizerStageTests {
    let project: StagesProject

    init() throws {
        project = try StagesProject()
        try project.addFortuneTiers()
    }

    @Test func trainsSentencePieceOnTheChosenTiers() throws {
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage(named: "books") + """
              tokenizer:
                kind: base-tokenizer
                after: [books]
                params: {tiers: [fractal, orbit], vocab_size: 500}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded, "\(project.error(result.id, "tokenizer") ?? "")")
        let output = try project.outputDirectory(result.id, "tokenizer")
        let model = try SentencePieceModel(contentsOf: output.appendingPathComponent("tokenizer.model"))
        let runtime = try TokenizerLoader.loadHF(output)
        #expect(model.vocabularySize == 500)
        #expect(runtime.vocabularySize == 500)
        #expect(runtime.specialTokens.bos == 1 && runtime.specialTokens.eos == 2 && runtime.specialTokens.unk == 0)

        let corpus = try CorpusReader(directory: try project.outputDirectory(result.id, "books"))
        let heldOut = try CorpusSelection.texts(of: corpus, split: .validation, tiers: ["orbit", "fractal"])
        for text in try CorpusSelection.texts(of: corpus, split: .validation, tiers: ["core"]) {
            #expect(runtime.encode(text) == model.encode(text))
        }
        let metrics = try project.metrics(result.id, "tokenizer")
        #expect(metrics["tokenizer/vocab_size"] == 500)
        let stats = TokenizerMeasures.measure(runtime, texts: heldOut)
        #expect(metrics["tokenizer/tokens_per_word"] == stats.tokensPerWord)
        #expect(metrics["tokenizer/bytes_per_token"] == stats.bytesPerToken)
        // One line per paragraph of the train split of orbit and fractal, and nothing of core.
        var trainBytes = 0
        try corpus.forEachScene(split: .train, tiers: ["orbit", "fractal"]) { scene in
            for paragraph in scene.text.split(separator: "\n") { trainBytes += paragraph.utf8.count + 1 }
        }
        #expect(metrics["tokenizer/train_bytes"] == Double(trainBytes))
    }

    @Test func onlyItsOwnInputsRetrainIt() throws {
        func fingerprints(vocabulary: Int, hyperwords: Int) throws -> [String: String] {
            try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
                  tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: \(vocabulary)}}
                  base: {kind: pretrain-base, after: [corpus, tokenizer], params: {model: {hidden_size: 64}}}
                  hyperwords: {kind: hyperwords, after: [corpus, tokenizer], params: {count: \(hyperwords)}}
                """)
            let plan = try #require(try project.plans("recipes/r.yaml").first)
            return Dictionary(uniqueKeysWithValues: plan.stages.map { ($0.name, $0.fingerprint) })
        }
        let first = try fingerprints(vocabulary: 500, hyperwords: 40)
        let moreHyperwords = try fingerprints(vocabulary: 500, hyperwords: 80)
        #expect(moreHyperwords["tokenizer"] == first["tokenizer"])
        #expect(moreHyperwords["base"] == first["base"])
        #expect(moreHyperwords["hyperwords"] != first["hyperwords"])
        let biggerVocabulary = try fingerprints(vocabulary: 800, hyperwords: 40)
        #expect(biggerVocabulary["corpus"] == first["corpus"])
        #expect(biggerVocabulary["tokenizer"] != first["tokenizer"])
        #expect(biggerVocabulary["hyperwords"] != first["hyperwords"])
    }

    @Test func pathTakesAModelDirectoryOrATokenizerFileAsIs() throws {
        try project.copyFixture("tokenizers/spm-llama2", to: "models/llama2")
        try project.write("models/llama2/tokenizer_config.json", #"{"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}"#)
        try project.copyFixture("tokenizers/bytelevel-llama3/tokenizer.json", to: "models/llama3.json")
        try project.copyFixture("tokenizers/spm-llama2/tokenizer.model", to: "models/spm.model")
        try project.write("recipes/r.yaml", """
            stages:
              directory: {kind: base-tokenizer, params: {path: models/llama2}}
              file: {kind: base-tokenizer, params: {path: models/llama3.json}}
              model: {kind: base-tokenizer, params: {path: models/spm.model}}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded)
        let directory = try project.outputDirectory(result.id, "directory")
        for name in ["tokenizer.json", "tokenizer.model", "tokenizer_config.json"] {
            #expect(try Data(contentsOf: directory.appendingPathComponent(name))
                == Data(contentsOf: project.root.appendingPathComponent("models/llama2/\(name)")))
        }
        let file = try project.outputDirectory(result.id, "file")
        #expect(try Data(contentsOf: file.appendingPathComponent("tokenizer.json")) == Data(contentsOf: TestPaths.fixture("tokenizers/bytelevel-llama3/tokenizer.json")))
        // A lone .model gets its tokenizer.json beside it, encoding as the fixture's own.
        let converted = try TokenizerLoader.loadHF(try project.outputDirectory(result.id, "model"))
        let reference = try TokenizerLoader.loadHF(TestPaths.fixture("tokenizers/spm-llama2/tokenizer.json"))
        let sample = "Мужчина и женщина — hello, world! 42"
        #expect(converted.encode(sample) == reference.encode(sample))
        #expect(try project.metrics(result.id, "directory")["tokenizer/vocab_size"] == Double(reference.vocabularySize))
    }

    @Test func itsErrorsNameWhatIsMissing() throws {
        try FileManager.default.createDirectory(at: project.root.appendingPathComponent("models/empty"), withIntermediateDirectories: true)
        try project.write("models/notes.txt", "not a tokenizer")
        try project.write("recipes/r.yaml", """
            stages:
              nothing: {kind: base-tokenizer}
              empty: {kind: base-tokenizer, params: {path: models/empty}}
              text: {kind: base-tokenizer, params: {path: models/notes.txt}}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .failed)
        let root = project.root.standardizedFileURL.path
        #expect(project.error(result.id, "nothing")
            == "stage nothing needs the output of a `corpus` stage: add that stage to its `after:` list (its inputs: none)")
        #expect(project.error(result.id, "empty") == "path: \(root)/models/empty holds neither tokenizer.json nor tokenizer.model")
        #expect(project.error(result.id, "text")
            == "path: \(root)/models/notes.txt is not a tokenizer (expected a model directory, a tokenizer.json or a SentencePiece .model)")

        try project.write("recipes/bad.yaml", """
            stages:
              tokenizer: {kind: base-tokenizer, params: {vocab_size: 100, vocab: 3, character_coverage: 0}}
            """)
        let errors = try project.recipeErrors("recipes/bad.yaml").replacingOccurrences(of: root + "/", with: "")
        #expect(errors == """
            recipes/bad.yaml:2:58: stages.tokenizer.params.vocab_size: 100 is out of range: must be ≥ 300 and ≤ 1048576
            recipes/bad.yaml:2:63: stages.tokenizer.params.vocab: unknown key (valid keys: path, tiers, vocab_size, character_coverage, byte_fallback, max_piece_length, split_digits, user_defined_symbols, sample_mb, seed, threads)
            recipes/bad.yaml:2:93: stages.tokenizer.params.character_coverage: 0 is out of range: must be > 0 and ≤ 1
            """)
    }
}
