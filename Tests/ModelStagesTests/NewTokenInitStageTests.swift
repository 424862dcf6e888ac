// NewTokenInitStageTests — extend-vocab's `init: hidden` run as a stage of the miniature (its shared stages
// come from the cache): the rows it wrote are what the initialiser computes from the base model with the
// tokenizer's prefix, its progress and log say what ran; and eval's step-0 measure, the extended model
// without the adapter, equals scoring the held-out windows with that model loaded on its own.
import Corpus
import Foundation
@testable import LLM
@testable import ModelStages
import Pipeline
import Stages
import StageTestSupport
import Testing
import TestSupport
import Tokenizers
import Torch

@Suite struct NewTokenInitStageTests {
    let project: StagesProject

    init() throws { project = try MiniatureRun.shared.get().project }

    /// The bits per byte of the model in `directory` over the validation scenes of core, each scene with the
    /// tokenizer's prefix in eval's windows of 64 tokens.
    func bitsPerByte(_ directory: URL, run: Int64) throws -> Double {
        let corpus = try CorpusReader(directory: project.outputDirectory(run, "corpus"))
        let scenes = try CorpusSelection.texts(of: corpus, split: .validation, tiers: ["core"])
        let tokenizer = try TokenizerLoader.loadHF(directory)
        let windows = TokenizedText.scoringWindows(scenes: scenes, tokenizer: tokenizer, length: 64)
        let bytes = scenes.reduce(0) { $0 + $1.utf8.count }
        return try HeldOutScoring.score(model: DecoderModel.load(from: directory), windows: windows, bytes: bytes, batchSize: 8).bitsPerByte
    }

    @Test func hiddenInitialisationRunsAsAStageAndEvalScoresItsStepZero() throws {
        let recipe = SyntheticBooks.miniatureRecipe.components(separatedBy: "variants:")[0] + """
            variants:
              hidden: {params: {extend: {init: hidden, layer: 1, fit_tokens: 300, batch_size: 16}, train: {tiers: [core]}}}

            """
        try project.write("recipes/hidden-init.yaml", recipe)
        _ = try project.run("recipes/hidden-init.yaml")
        let run = try #require(try project.store().runs(recipe: "hidden-init").first?.id)
        #expect(try project.store().stage(run: run, name: "eval")?.status == .succeeded, "\(project.error(run, "extend") ?? project.error(run, "eval") ?? "")")

        let base = try DecoderModel.load(from: project.outputDirectory(run, "base"))
        let extendedDirectory = try project.outputDirectory(run, "extend")
        let extended = try DecoderModel.load(from: extendedDirectory)
        let tokenizer = try ExtendedTokenizer(contentsOf: extendedDirectory)
        let newTokens = tokenizer.newTokens.sorted { $0.id < $1.id }
        let expected = try base.newTokenRows(decompositions: newTokens.map(\.decomposition), method: .hidden(HiddenStateInitialization(
            layer: 1, fitTokens: 300, ridge: 0.01, prefix: tokenizer.specialTokens.prefix, batchSize: 7)))
        let written = try extended.embedTokens.narrow(dim: 0, start: base.config.vocabSize, length: newTokens.count)
        // Another batching (7 against the stage's 16) pads differently: equal to float32 rounding.
        #expect(try (written - expected.embedding).abs().amax().scalar(Double.self) < 1e-5)
        #expect((extended.lmHead == nil) == (expected.head == nil))
        if let head = extended.lmHead, let expectedHead = expected.head {
            #expect(try head.narrow(dim: 0, start: base.config.vocabSize, length: newTokens.count).equal(expectedHead))
        }
        #expect(try project.log(run, "extend").contains("(hidden initialisation)"))

        // eval's step 0: the extended model scored without the adapter, on the text eval/bits_per_byte reads.
        let metrics = try project.metrics(run, "eval")
        let stepZero = try #require(metrics["eval/extended_bits_per_byte"])
        // The same windows through the same kernels: eval's model with its adapter detached is the extended one.
        let direct = try bitsPerByte(extendedDirectory, run: run)
        #expect(abs(stepZero - direct) < 1e-9, "eval \(stepZero), direct \(direct)")
        #expect(stepZero != metrics["eval/bits_per_byte"], "training moved the score")
        #expect(try project.log(run, "eval").contains("extended before training"))

        // The mean-initialised miniature's step 0 is another number: the initialisation is what it measures.
        let core = try #require(try MiniatureRun.shared.get().runs["core"])
        let meanStepZero = try #require(try project.metrics(core, "eval")["eval/extended_bits_per_byte"])
        #expect(meanStepZero != stepZero)
        #expect(try StageCatalog.registry().declaredGoal(forMetric: "eval/extended_bits_per_byte") == .minimize)
    }
}
