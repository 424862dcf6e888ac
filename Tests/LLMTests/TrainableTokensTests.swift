// TrainableTokensTests — PEFT's trainable token rows: gradients equal the matching rows of a fully
// trainable embedding/head, PEFT 0.21's keys and config forms (a list for a tied head, a dict naming
// embed_tokens and lm_head for an untied one), reloading and merging.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct TrainableTokensTests {
    private let ids = [5, 17, 300]

    @Test func rowGradientsEqualThoseOfTheFullMatrices() throws {
        let tokens = try TinyLlamaFixture.inputIds()
        let rows = try DecoderModel.load(from: TinyLlamaFixture.directory)
        // Make the chosen tokens appear in the batch so that their embedding rows get gradient too.
        try tokens.narrow(dim: 1, start: 2, length: 1).fill(17)
        try tokens.narrow(dim: 1, start: 5, length: 1).fill(300)
        try rows.applyLoRA(LoRAConfiguration(targets: [], trainableTokenIndices: ids))
        #expect(rows.trainableParameters.map(\.name) == [
            "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta",
            "base_model.model.lm_head.token_adapter.trainable_tokens_delta",
        ])
        try rows.loss(tokens: tokens).backward()
        #expect(!rows.embedTokens.requiresGrad && rows.embedTokens.grad == nil)

        let full = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try full.embedTokens.setRequiresGrad()
        try #require(full.lmHead).setRequiresGrad()
        try full.loss(tokens: tokens).backward()
        let index = try Tensor(ids.map { Int64($0) })
        let expectedEmbedding = try #require(full.embedTokens.grad).indexSelect(dim: 0, index: index)
        let expectedHead = try #require(full.lmHead?.grad).indexSelect(dim: 0, index: index)
        let parameters = rows.trainableParameters
        #expect(try relativeDifference(#require(parameters[0].tensor.grad), expectedEmbedding) < 1e-5)
        #expect(try relativeDifference(#require(parameters[1].tensor.grad), expectedHead) < 1e-5)
        #expect(try expectedEmbedding.abs().amax().scalar(Double.self) > 0)
    }

    @Test func savedInPEFTsFormatAndReloaded() throws {
        let scratch = try ScratchDirectory("loom-tokens")
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.applyLoRA(LoRAConfiguration(rank: 4, alpha: 8, targets: [.query, .value], trainableTokenIndices: ids), seed: 3)
        try withNoGrad { for (_, tensor) in model.trainableParameters { try tensor.addInPlace(Tensor.randn(tensor.shape, generator: Generator(seed: 4)) * 0.1) } }
        try model.saveAdapter(to: scratch.path("adapter"))
        let file = try SafeTensorsFile(url: scratch.path("adapter/adapter_model.safetensors"))
        #expect(try file.info("base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta").shape == [3, 64])
        #expect(try file.info("base_model.model.lm_head.token_adapter.trainable_tokens_delta").shape == [3, 64])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.path("adapter/adapter_config.json"))) as! [String: Any]
        let indices = try #require(config["trainable_token_indices"] as? [String: [Int]])
        #expect(indices == ["embed_tokens": ids, "lm_head": ids])

        let reloaded = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try reloaded.loadAdapter(from: scratch.path("adapter"))
        let tokens = try Tensor([Int64(5), 17, 300, 4, 9, 300], shape: [1, 6])
        let logits = try withNoGrad { try model.logits(tokens: tokens) }
        #expect(try withNoGrad { try reloaded.logits(tokens: tokens) }.equal(logits))
        // The rows really are in use: the head columns of the three ids changed.
        let base = try withNoGrad { try DecoderModel.load(from: TinyLlamaFixture.directory).logits(tokens: tokens) }
        #expect(try maxAbsDifference(logits, base) > 1e-3)

        try model.saveModel(to: scratch.path("merged"))
        let merged = try DecoderModel.load(from: scratch.path("merged"))
        #expect(try withNoGrad { try maxAbsDifference(merged.logits(tokens: tokens), logits) } < 1e-5)
    }

    @Test func aTiedHeadSharesTheEmbeddingRows() throws {
        let scratch = try ScratchDirectory("loom-tied-tokens")
        let model = try TinyConfigs.model(TinyConfigs.qwen2)
        try model.applyLoRA(LoRAConfiguration(targets: [.query], trainableTokenIndices: [7, 8]))
        #expect(model.trainableParameters.map(\.name) == [
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta",
        ])
        let rows = try #require(model.trainableTokens)
        try withNoGrad { try rows.embeddingRows.fill(0.3) }
        let tokens = try Tensor([Int64(1), 2, 3], shape: [1, 3])
        let logits = try withNoGrad { try model.logits(tokens: tokens) }
        // Column 7 of the logits is hidden · row 7, and row 7 is now all 0.3: 0.3 · Σ hidden.
        let hidden = try withNoGrad { try model.hiddenStates(tokens: tokens).last! }
        #expect(try maxAbsDifference(logits.select(dim: 2, index: 7), hidden.sum(dims: [2]) * 0.3) < 1e-5)
        try model.saveAdapter(to: scratch.path("adapter"))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.path("adapter/adapter_config.json"))) as! [String: Any]
        #expect(config["trainable_token_indices"] as? [Int] == [7, 8])
        #expect(try SafeTensorsFile(url: scratch.path("adapter/adapter_model.safetensors")).names.filter { $0.contains("token_adapter") }
            == ["base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta"])
    }

    @Test func tokenIdsOutsideTheVocabularyAreRefused() throws {
        let model = try TinyConfigs.model(TinyConfigs.qwen2)
        #expect(errorMessage { try model.applyLoRA(LoRAConfiguration(trainableTokenIndices: [3, 96])) }
            == "trainable token id 96 is outside the vocabulary (0..<96); resize the vocabulary first")
    }
}
