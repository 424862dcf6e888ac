// VocabularyResizeTests — new token rows (mean, first/last as mergekit's tokensurgeon, seeded random),
// old logits untouched, the resized base saved as a Hugging Face directory, and the trap of adapters
// trained on a resized vocabulary: they load onto the resized base (or as a merged model), and onto the
// stock base only with an error that says so — unless they carry the whole matrices, as PEFT saves them.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct VocabularyResizeTests {
    private let decompositions = [[10, 20, 30], [7, 300]]

    private func row(_ matrix: Tensor, _ index: Int) throws -> Tensor { try matrix.select(dim: 0, index: index) }

    @Test func initialisationMethods() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let head = try #require(model.lmHead)
        let mean = try model.newTokenRows(decompositions: decompositions, method: .mean)
        let expected = try (row(model.embedTokens, 10) + row(model.embedTokens, 20) + row(model.embedTokens, 30)) / 3
        #expect(try maxAbsDifference(row(mean.embedding, 0), expected) < 1e-6)
        #expect(try maxAbsDifference(row(#require(mean.head), 1), (row(head, 7) + row(head, 300)) / 2) < 1e-6)

        let firstLast = try model.newTokenRows(decompositions: decompositions, method: .firstLast)
        #expect(try row(firstLast.embedding, 0).equal(row(model.embedTokens, 30)))
        #expect(try row(#require(firstLast.head), 0).equal(row(head, 10)))
        #expect(try row(firstLast.embedding, 1).equal(row(model.embedTokens, 300)))
        #expect(try row(#require(firstLast.head), 1).equal(row(head, 7)))

        let random = try model.newTokenRows(decompositions: Array(repeating: [1], count: 200), method: .random(seed: 3))
        let spread = try model.embedTokens.standardDeviation().scalar(Double.self)
        #expect(abs(try random.embedding.standardDeviation().scalar(Double.self) / spread - 1) < 0.05)
        #expect(try random.embedding.equal(model.newTokenRows(decompositions: Array(repeating: [1], count: 200), method: .random(seed: 3)).embedding))
    }

    @Test func resizingKeepsTheOldLogitsAndSavesABaseDirectory() throws {
        let scratch = try ScratchDirectory("loom-resize")
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let tokens = try TinyLlamaFixture.inputIds()
        let before = try withNoGrad { try model.logits(tokens: tokens) }
        try model.extendVocabulary(decompositions: decompositions)
        #expect(model.config.vocabSize == 514 && model.embedTokens.shape == [514, 64] && model.lmHead?.shape == [514, 64])
        let after = try withNoGrad { try model.logits(tokens: tokens) }
        #expect(after.shape == [2, 17, 514])
        // The head's GEMM has 514 columns now, not 512: BLAS may block the sums differently for another N,
        // so the old logits come back to within a few float32 ulps (they peak near 4; K is 64), not bit for bit.
        #expect(try maxAbsDifference(after.narrow(dim: 2, start: 0, length: 512), before) < 1e-5)

        try model.saveModel(to: scratch.path("resized"), mergeAdapter: false)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.path("resized/config.json"))) as! [String: Any]
        #expect(config["vocab_size"] as? Int == 514 && config["rope_parameters"] != nil && config["transformers_version"] as? String == "5.23.0")
        let reloaded = try DecoderModel.load(from: scratch.path("resized"))
        #expect(try withNoGrad { try reloaded.logits(tokens: tokens) }.equal(after))
    }

    @Test func anAdapterOnAResizedVocabularyLoadsWhereItWasTrained() throws {
        let scratch = try ScratchDirectory("loom-resized-adapter")
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.extendVocabulary(decompositions: decompositions, method: .firstLast)
        try model.saveModel(to: scratch.path("resized"), mergeAdapter: false)
        let base = try DecoderModel.load(from: scratch.path("resized"))
        try base.applyLoRA(LoRAConfiguration(rank: 4, targets: [.query, .up], trainableTokenIndices: [512, 513]), seed: 2)
        try withNoGrad { for (_, tensor) in base.trainableParameters { try tensor.addInPlace(Tensor.randn(tensor.shape, generator: Generator(seed: 5)) * 0.05) } }
        try base.saveAdapter(to: scratch.path("adapter"))
        let adapterConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.path("adapter/adapter_config.json"))) as! [String: Any]
        #expect(adapterConfig["base_model_name_or_path"] as? String == scratch.path("resized").path)

        let tokens = try Tensor([Int64(512), 4, 513, 9], shape: [1, 4])
        let expected = try withNoGrad { try base.logits(tokens: tokens) }
        let onResized = try DecoderModel.load(from: scratch.path("resized"))
        try onResized.loadAdapter(from: scratch.path("adapter"))
        #expect(try withNoGrad { try onResized.logits(tokens: tokens) }.equal(expected))

        let stock = try DecoderModel.load(from: TinyLlamaFixture.directory)
        #expect(errorMessage { try stock.loadAdapter(from: scratch.path("adapter")) }
            == "\(scratch.path("adapter/adapter_config.json").path): trainable_token_indices: token id 512 is outside the model's vocabulary (0..<512): the adapter was trained on a resized vocabulary, so load it onto the resized base directory its training used (or use the merged model)")

        try base.saveModel(to: scratch.path("merged"))
        #expect(try withNoGrad { try maxAbsDifference(DecoderModel.load(from: scratch.path("merged")).logits(tokens: tokens), expected) } < 1e-5)
    }

    @Test func peftAdaptersCarryingWholeMatricesResizeTheStockBase() throws {
        // PEFT saves embed_tokens/lm_head whole when the vocabulary was resized before training.
        let scratch = try ScratchDirectory("loom-peft-resized")
        let resized = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try resized.extendVocabulary(decompositions: decompositions)
        try resized.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        let directory = scratch.path("adapter")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TinyLlamaFixture.adapterDirectory.appendingPathComponent("adapter_config.json"), to: directory.appendingPathComponent("adapter_config.json"))
        var tensors = try SafeTensorsFile(url: TinyLlamaFixture.adapterDirectory.appendingPathComponent("adapter_model.safetensors")).tensors()
        tensors["base_model.model.model.embed_tokens.weight"] = resized.embedTokens
        tensors["base_model.model.lm_head.weight"] = resized.lmHead
        try SafeTensors.write(tensors, to: directory.appendingPathComponent("adapter_model.safetensors"))

        let stock = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try stock.loadAdapter(from: directory)
        #expect(stock.config.vocabSize == 514)
        let tokens = try Tensor([Int64(513), 4, 512], shape: [1, 3])
        #expect(try withNoGrad { try stock.logits(tokens: tokens).equal(resized.logits(tokens: tokens)) })
    }

    @Test func badResizesAreRefused() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        #expect(errorMessage { try model.resizeVocabulary(newSize: 512, embeddingRows: Tensor.zeros([0, 64]), headRows: nil) }
            == "the new vocabulary size 512 must exceed the current 512 (shrinking is not supported)")
        #expect(errorMessage { try model.resizeVocabulary(newSize: 514, embeddingRows: Tensor.zeros([2, 64]), headRows: nil) }
            == "the head is untied: new head rows [2, 64] are needed")
        #expect(errorMessage { _ = try model.newTokenRows(decompositions: [[1], []]) } == "new token 1 has an empty decomposition")
        #expect(errorMessage { _ = try model.newTokenRows(decompositions: [[1, 600]]) } == "new token 0: piece id 600 is outside the vocabulary (0..<512)")
        let tied = try TinyConfigs.model(TinyConfigs.qwen2)
        #expect(errorMessage { try tied.resizeVocabulary(newSize: 97, embeddingRows: Tensor.zeros([1, 32]), headRows: Tensor.zeros([1, 32])) }
            == "the head is tied to the embedding: pass no separate head rows")
        try tied.extendVocabulary(decompositions: [[4, 5]], method: .firstLast)
        #expect(try tied.embedTokens.select(dim: 0, index: 96).equal(tied.embedTokens.select(dim: 0, index: 5)))
        try tied.applyLoRA(LoRAConfiguration())
        #expect(errorMessage { try tied.extendVocabulary(decompositions: [[1]]) } == "resize the vocabulary before attaching an adapter")
    }
}
