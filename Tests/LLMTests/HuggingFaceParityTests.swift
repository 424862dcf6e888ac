// HuggingFaceParityTests — Loom's Llama against transformers 5.23 + peft 0.21 on the tiny-llama-a
// fixture (f32, eager attention): logits and every hidden state within 1e-4, the losses within 1e-5,
// LoRA gradients within 1e-4 relative, one AdamW step, and adapters that round-trip through PEFT's format.
import Foundation
import LLM
import LoomCore
import TestSupport
import Testing
import Torch

@Suite struct HuggingFaceParityTests {
    @Test func logitsAndHiddenStatesMatchTransformers() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let output = try withNoGrad { try model.forward(tokens: TinyLlamaFixture.inputIds(), outputHiddenStates: true) }
        let logits = try #require(output.logits)
        #expect(logits.shape == [2, 17, 512])
        #expect(try maxAbsDifference(logits, TinyLlamaFixture.reference("logits.safetensors", "logits")) < 1e-4)
        #expect(output.hiddenStates.count == 3)
        for (index, state) in output.hiddenStates.enumerated() {
            let reference = try TinyLlamaFixture.reference("hidden_states.safetensors", "hidden_states.\(index)")
            #expect(try maxAbsDifference(state, reference) < 1e-4, "hidden_states.\(index)")
        }
    }

    @Test func lossMatchesTransformers() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let loss = try withNoGrad { try model.loss(tokens: TinyLlamaFixture.inputIds()).scalar(Double.self) }
        let expected = try #require(TinyLlamaFixture.referenceJSON()["loss"] as? Double)
        #expect(abs(loss - expected) < 1e-5)
    }

    @Test func peftAdapterLogitsAndLossMatch() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        let lora = try #require(model.loraConfiguration)
        #expect(lora.rank == 4 && lora.alpha == 8 && lora.scale == 2 && lora.targets == model.config.projectionTargets)
        let tokens = try TinyLlamaFixture.inputIds()
        try withNoGrad {
            let logits = try model.logits(tokens: tokens)
            #expect(try maxAbsDifference(logits, TinyLlamaFixture.reference("logits_with_adapter.safetensors", "logits")) < 1e-4)
            let expected = try #require(TinyLlamaFixture.referenceJSON()["loss_with_adapter"] as? Double)
            #expect(abs(try model.loss(tokens: tokens).scalar(Double.self) - expected) < 1e-5)
        }
    }

    @Test func loraGradientsMatchPEFT() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        try model.loss(tokens: TinyLlamaFixture.inputIds()).backward()
        try expectGradientsMatch(model, TinyLlamaFixture.directory.appendingPathComponent("lora_grads.safetensors"))
    }

    @Test func oneAdamWStepReachesPEFTsLoss() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        let tokens = try TinyLlamaFixture.inputIds()
        let optimizer = try AdamW(
            named: model.trainableParameters,
            configuration: .init(learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0))
        try model.loss(tokens: tokens).backward()
        try optimizer.step()
        let after = try withNoGrad { try model.loss(tokens: tokens).scalar(Double.self) }
        let step = try #require(TinyLlamaFixture.referenceJSON()["adamw_one_step"] as? [String: Any])
        #expect(abs(after - (step["loss_after"] as! Double)) < 1e-5)
    }

    @Test func savedAdapterReloadsToIdenticalLogitsWithPEFTsLayout() throws {
        let scratch = try ScratchDirectory("loom-adapter")
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        let saved = scratch.path("adapter")
        try model.saveAdapter(to: saved)

        let reloaded = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try reloaded.loadAdapter(from: saved)
        let tokens = try TinyLlamaFixture.inputIds()
        let same = try withNoGrad { try model.logits(tokens: tokens).equal(reloaded.logits(tokens: tokens)) }
        #expect(same)

        // Same keys, shapes and dtypes as PEFT's file; the same values (they came from it).
        let ours = try SafeTensorsFile(url: saved.appendingPathComponent("adapter_model.safetensors"))
        let peft = try SafeTensorsFile(url: TinyLlamaFixture.adapterDirectory.appendingPathComponent("adapter_model.safetensors"))
        #expect(ours.names == peft.names)
        #expect(ours.metadata == peft.metadata)
        for name in peft.names {
            #expect(try ours.info(name).shape == peft.info(name).shape && ours.info(name).dtype == peft.info(name).dtype)
            #expect(try ours.tensor(name).equal(peft.tensor(name)))
        }
        // adapter_config.json byte for byte as PEFT wrote it (the base path came along from the loaded adapter).
        let ourConfig = try String(contentsOf: saved.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        let peftConfig = try String(contentsOf: TinyLlamaFixture.adapterDirectory.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        #expect(ourConfig.trimmingCharacters(in: .newlines) == peftConfig.trimmingCharacters(in: .newlines))
    }
}
