// SaturationMiniatureTests — the saturation pipeline in miniature (generated text, toy sizes) run
// in-process with the model kinds' registry, and what each model kind wrote checked against an
// independent computation: the pretrained base loads and beats its initial loss, the extended rows are
// the means of their decompositions, the adapter loads onto the extended model with the new-token rows,
// QLoRA keeps ≈ 0.52 bytes per projection weight, and eval's base figures equal scoring the scenes
// directly.
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

/// The miniature recipe, run once for every test of the suite (its variants: core, core+orbit, core-qlora,
/// core-masked).
final class MiniatureRun: @unchecked Sendable {  // read-only once built; the tests only read it
    static let shared = Result { try MiniatureRun() }

    let project: StagesProject
    let runs: [String: Int64]

    private init() throws {
        project = try StagesProject(registry: ModelStageCatalog.registry())
        try SyntheticBooks.installMiniature(in: project.root)
        _ = try project.run("recipes/mini.yaml")
        var runs: [String: Int64] = [:]
        for record in try project.store().runs(recipe: "mini") {
            guard record.status == .succeeded else {
                let failed = try project.store().stages(ofRun: record.id).filter { $0.error != nil }
                throw ModelError("the miniature run \(record.variant) ended \(record.status): \(failed.map { "\($0.name): \($0.error ?? "")" })")
            }
            runs[record.variant] = record.id
        }
        self.runs = runs
    }
}

@Suite struct SaturationMiniatureTests {
    let project: StagesProject
    let runs: [String: Int64]

    init() throws {
        let miniature = try MiniatureRun.shared.get()
        project = miniature.project
        runs = miniature.runs
    }

    func run(_ variant: String) throws -> Int64 { try #require(runs[variant], "variants: \(runs.keys.sorted())") }

    @Test func thePretrainedBaseIsAHuggingFaceDirectoryThatLearned() throws {
        let run = try run("core")
        let base = try project.outputDirectory(run, "base")
        for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer.model", "training.json"] {
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent(file).path), "\(file)")
        }
        let model = try DecoderModel.load(from: base)
        let tokenizer = try TokenizerLoader.loadHF(base)
        #expect(model.config.vocabSize == tokenizer.vocabularySize)
        #expect(model.config.hiddenSize == 48 && model.config.numKeyValueHeads == 2 && model.config.maxPositionEmbeddings == 64)
        let metrics = try project.metrics(run, "base")
        #expect(metrics["pretrain/parameters"] == Double(model.parameterCount))
        let curve = try project.store().metricSeries(run: run, stage: "base", key: "pretrain/loss")
        #expect(curve.count == 40)
        #expect(curve.last!.value < curve.first!.value - 1, "pretraining loss \(curve.first!.value) → \(curve.last!.value)")
        #expect(try project.store().metricSeries(run: run, stage: "base", key: "pretrain/val_loss").map(\.step) == [20, 40])
    }

    @Test func theExtendedModelsNewRowsAreTheMeansOfTheirDecompositions() throws {
        let run = try run("core")
        let base = try DecoderModel.load(from: project.outputDirectory(run, "base"))
        let extendedDirectory = try project.outputDirectory(run, "extend")
        let extended = try DecoderModel.load(from: extendedDirectory)
        let tokenizer = try ExtendedTokenizer(contentsOf: extendedDirectory)
        #expect(!FileManager.default.fileExists(atPath: extendedDirectory.appendingPathComponent("tokenizer.model").path))
        #expect(extended.config.vocabSize == base.config.vocabSize + tokenizer.newTokens.count)
        #expect(tokenizer.vocabularySize == extended.config.vocabSize)
        let baseRows = try base.embedTokens.to(.float64)
        for token in tokenizer.newTokens {
            let expected = try baseRows.indexSelect(dim: 0, index: Tensor(token.decomposition.map { Int64($0) })).mean(dims: [0])
            let actual = try extended.embedTokens.select(dim: 0, index: token.id).to(.float64)
            #expect(try (expected - actual).abs().amax().scalar(Double.self) < 1e-6, "row of \(token.text)")
        }
        let metrics = try project.metrics(run, "extend")
        #expect(metrics["extend/new_tokens"] == Double(tokenizer.newTokens.count))
        #expect(metrics["extend/embedding_new_norm"]! < metrics["extend/embedding_base_norm"]!)
    }

    @Test func theAdapterLoadsOntoTheExtendedModelWithTheNewTokenRows() throws {
        let run = try run("core")
        let adapter = try project.outputDirectory(run, "train")
        let extendedDirectory = try project.outputDirectory(run, "extend")
        let model = try DecoderModel.load(from: extendedDirectory)
        try model.loadAdapter(from: adapter)
        let configuration = try #require(model.loraConfiguration)
        let newIds = try ExtendedTokenizer(contentsOf: extendedDirectory).newTokens.map(\.id).sorted()
        #expect(configuration.rank == 4 && configuration.targets == model.config.projectionTargets)
        #expect(configuration.trainableTokenIndices == newIds)
        #expect(configuration.baseModelNameOrPath == extendedDirectory.path)
        #expect(FileManager.default.fileExists(atPath: adapter.appendingPathComponent("tokenizer.json").path))

        let summary = try #require(try TrainingSummary.read(from: adapter))
        let metrics = try project.metrics(run, "train")
        #expect(summary.steps == 60 && summary.method == "lora")
        #expect(metrics["train/corpus_tokens"] == Double(summary.corpusTokens))
        #expect(metrics["train/tokens_seen"] == Double(60 * 4 * 64))
        #expect(metrics["train/trainable_params"] == Double(model.trainableParameterCount))
        #expect(try project.store().metricSeries(run: run, stage: "train", key: "train/loss").count == 60)
        #expect(try project.store().metricSeries(run: run, stage: "train", key: "train/val_loss").map(\.step) == [20, 40, 60])

        // A variant on more tiers trains on more tokens; the shared stages ran once.
        let wider = try project.metrics(try self.run("core+orbit"), "train")
        #expect(wider["train/corpus_tokens"]! > metrics["train/corpus_tokens"]!)
        #expect(try project.outputDirectory(self.run("core+orbit"), "extend") == extendedDirectory)
    }

    @Test func qloraStoresTheProjectionsInFourBitsAndEvaluatesOnThem() throws {
        let run = try run("core-qlora")
        let metrics = try project.metrics(run, "train")
        let bytesPerParameter = try #require(metrics["train/nf4_bytes_per_parameter"])
        #expect(abs(bytesPerParameter - 0.52) < 0.03, "\(bytesPerParameter) bytes per NF4 weight")
        #expect(try TrainingSummary.read(from: project.outputDirectory(run, "train"))?.method == "qlora")
        let eval = try project.metrics(run, "eval")
        #expect(eval["eval/bits_per_byte"]! < eval["eval/base_bits_per_byte"]! + 0.5)
        #expect(try project.log(run, "eval").contains("bits per byte"))
    }

    @Test func maskedPackingTrainsOnTheSameWindowsWithTheirScenesApart() throws {
        // The same token store, windows and steps as `core`; only the packing differs, and so the losses.
        let (plain, masked) = (try run("core"), try run("core-masked"))
        #expect(try project.outputDirectory(plain, "tokens") == project.outputDirectory(masked, "tokens"))
        let (plainTrain, maskedTrain) = (try project.metrics(plain, "train"), try project.metrics(masked, "train"))
        #expect(try #require(plainTrain["train/corpus_tokens"]) == maskedTrain["train/corpus_tokens"])
        #expect(plainTrain["train/loss"] != maskedTrain["train/loss"])
        #expect(try project.metrics(masked, "eval")["eval/bits_per_byte"] != nil)
    }

    @Test func evalsBaseFiguresEqualScoringTheScenesDirectly() throws {
        let run = try run("core")
        let baseDirectory = try project.outputDirectory(run, "base")
        let corpus = try CorpusReader(directory: project.outputDirectory(run, "corpus"))
        let scenes = try CorpusSelection.texts(of: corpus, split: .validation, tiers: ["core"])
        let tokenizer = try TokenizerLoader.loadHF(baseDirectory)
        let bos = try #require(tokenizer.specialTokens.bos)
        // Windows of 64 with one token of overlap predict each token once; score the same tokens as
        // whole sequences where they fit, and compare the per-token loss where all scenes fit.
        let sequences = scenes.map { [bos] + tokenizer.encode($0) }
        let metrics = try project.metrics(run, "eval")
        let tokens = sequences.reduce(0) { $0 + $1.count - 1 }
        let bytes = scenes.reduce(0) { $0 + $1.utf8.count }
        let base = try DecoderModel.load(from: baseDirectory)
        if sequences.allSatisfy({ $0.count <= 64 }) {
            let direct = try base.score(sequences: sequences)
            #expect(abs(metrics["eval/base_loss"]! - direct.meanLoss) < 1e-5)
        }
        let expectedBitsPerByte = metrics["eval/base_loss"]! * Double(tokens) / log(2) / Double(bytes)
        #expect(abs(metrics["eval/base_bits_per_byte"]! - expectedBitsPerByte) < 1e-9)
        #expect(abs(metrics["eval/base_perplexity"]! - exp(metrics["eval/base_loss"]!)) < 1e-9)
        let measures = TokenizerMeasures.measure(tokenizer, texts: scenes)
        #expect(metrics["eval/base_tokens_per_word"] == measures.tokensPerWord)
        #expect(metrics["eval/tokens_per_word"]! < measures.tokensPerWord, "hyperwords shorten the held-out text")
        #expect(metrics["eval/kl_base_tuned"]! > 0 && (0...1).contains(metrics["eval/top1_agreement"]!))
        // Compute per scene: the base tokenizer's tokens per scene are those scored above; hyperwords
        // make scenes shorter, so they cost fewer FLOPs per MB and a smaller activation batch.
        #expect(abs(metrics["eval/base_tokens_per_scene"]! - Double(sequences.reduce(0) { $0 + $1.count }) / Double(scenes.count)) < 1e-9)
        #expect(metrics["eval/tokens_per_scene"]! < metrics["eval/base_tokens_per_scene"]!)
        #expect(metrics["eval/activation_mb_per_batch"]! < metrics["eval/base_activation_mb_per_batch"]!)
        #expect(metrics["eval/train_gflops_per_mb"]! > 0 && metrics["eval/base_train_gflops_per_mb"]! > 0)

        let generations = try #require(try project.output(run, "eval", "generations.json"))
        let decoded = try JSONDecoder().decode([EvalStage.Generation].self, from: Data(generations.utf8))
        #expect(decoded.map(\.prompt) == ["Любовь всегда", "Жена говорит"] && decoded.map(\.seed) == [0, 1])
        #expect(decoded.allSatisfy { !$0.base.contains("<s>") && !$0.tuned.contains("<s>") })
    }
}
