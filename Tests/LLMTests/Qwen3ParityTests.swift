// Qwen3ParityTests — the qwen3 family (per-head q/k RMSNorm before the rotation, explicit head_dim 32 ≠
// hidden / heads, tied embeddings) against transformers 5.23 + PEFT 0.21 on Tests/Fixtures/tiny-qwen3
// (made by scripts/make-fixtures.py; weights refilled far from the default init, q/k norms included, so a
// missing or misplaced norm moves the logits by whole units). Tolerances as tiny-llama-a's: logits 1e-4,
// losses 1e-5, LoRA gradients 1e-4 relative (another summation order than PyTorch's).
import Foundation
import LLM
import LoomCore
import TestSupport
import Testing
import Torch

@Suite struct Qwen3ParityTests {
    static let directory = TestPaths.fixture("tiny-qwen3")

    static func inputIds() throws -> Tensor { try fixtureInputIds(directory) }

    static func reference(_ key: String) throws -> Double {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("reference.json"))) as? [String: Any]
        return try #require(object?[key] as? Double, "reference.json has no \(key)")
    }

    static func logits(_ file: String) throws -> Tensor {
        try SafeTensorsFile(url: directory.appendingPathComponent(file)).tensor("logits")
    }

    @Test func configReadsTheQwen3Layout() throws {
        let config = try ModelConfig.load(from: Self.directory)
        #expect(config.modelType == "qwen3" && config.queryKeyNorm)
        #expect(config.headDim == 32 && config.hiddenSize / config.numAttentionHeads == 16)
        #expect(!config.attentionBias && !config.outputProjectionBias && config.tieWordEmbeddings)
    }

    @Test func logitsAndLossMatchTransformers() throws {
        let model = try DecoderModel.load(from: Self.directory)
        let tokens = try Self.inputIds()
        let (logits, loss) = try withNoGrad { (try model.logits(tokens: tokens), try model.loss(tokens: tokens).scalar(Double.self)) }
        #expect(try maxAbsDifference(logits, Self.logits("logits.safetensors")) < 1e-4)
        let expectedLoss = try Self.reference("loss")
        #expect(abs(loss - expectedLoss) < 1e-5)
    }

    @Test func peftAdapterLogitsLossAndGradientsMatch() throws {
        let model = try DecoderModel.load(from: Self.directory)
        try model.loadAdapter(from: Self.directory.appendingPathComponent("adapter"))
        let tokens = try Self.inputIds()
        let logits = try withNoGrad { try model.logits(tokens: tokens) }
        #expect(try maxAbsDifference(logits, Self.logits("logits_with_adapter.safetensors")) < 1e-4)
        let loss = try model.loss(tokens: tokens)
        let expectedLoss = try Self.reference("loss_with_adapter")
        #expect(abs(try loss.scalar(Double.self) - expectedLoss) < 1e-5)
        try loss.backward()
        try expectGradientsMatch(model, Self.directory.appendingPathComponent("lora_grads.safetensors"))
    }

    @Test func aSavedModelKeepsItsHeadNorms() throws {
        // Export writes q_norm / k_norm under transformers' names; the saved directory loads to the same logits.
        let scratch = try ScratchDirectory("loom-qwen3")
        let model = try DecoderModel.load(from: Self.directory)
        try model.saveModel(to: scratch.url, mergeAdapter: false)
        let names = try SafeTensorsFile(url: scratch.url.appendingPathComponent("model.safetensors")).names
        #expect(names.contains("model.layers.1.self_attn.q_norm.weight") && names.contains("model.layers.1.self_attn.k_norm.weight"))
        let reloaded = try DecoderModel.load(from: scratch.url)
        let tokens = try Self.inputIds()
        #expect(try withNoGrad { try model.logits(tokens: tokens).equal(reloaded.logits(tokens: tokens)) })
    }

    @Test func windowsOnSomeLayersAreRefused() {
        let json = #"{"model_type": "qwen3", "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 128, "use_sliding_window": true, "sliding_window": 16}"#
        #expect(errorMessage { _ = try ModelConfig.decode(Data(json.utf8), file: "/m/config.json") }
            == "/m/config.json: use_sliding_window: qwen3 with use_sliding_window true (a window on some layers only) is not supported")
    }
}
