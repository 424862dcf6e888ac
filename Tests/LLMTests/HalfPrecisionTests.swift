// HalfPrecisionTests — a model loaded with `dtype: .bfloat16`: its frozen matrices (projections, embedding,
// head) stored and multiplied in bf16, the norms, the residual stream, the LoRA adapter, the new-token rows
// and the loss in f32; against transformers' f32 outputs on tiny-llama-a.
// Tolerances: bf16 keeps 8 significant bits, so each weight is off by up to 2⁻⁹ relative and each GEMM's
// inputs too; through the fixture's deliberately large weights (N(0, 0.12²)) the logits move by a few
// hundredths. The bounds are about 3× what was measured here (logits 0.076, loss 0.0019, LoRA gradients
// 0.025 relative) and far below what a wrong path gives (a skipped cast or layer moves logits by units).
import Foundation
@testable import LLM
import LoomCore
import TestSupport
import Testing
import Torch

@Suite struct HalfPrecisionTests {
    @Test func frozenMatricesAreBF16AndTheRestStaysF32() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory, dtype: .bfloat16)
        let dense = try #require(model.base(layer: 0, .query) as? DenseLinear)
        #expect(dense.weight.dtype == .bfloat16 && model.embedTokens.dtype == .bfloat16 && model.lmHead?.dtype == .bfloat16)
        #expect(model.finalNorm.dtype == .float32 && model.layers[0].norms.allSatisfy { $0.tensor.dtype == .float32 })
        let f32 = try DecoderModel.load(from: TinyLlamaFixture.directory)
        #expect(model.projectionResidentBytes * 2 == f32.projectionResidentBytes)
        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        #expect(model.trainableParameters.allSatisfy { $0.tensor.dtype == .float32 })
        let logits = try withNoGrad { try model.logits(tokens: TinyLlamaFixture.inputIds()) }
        #expect(logits.dtype == .float32)
    }

    @Test func logitsLossAndGradientsStayNearTransformersF32() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory, dtype: .bfloat16)
        let tokens = try TinyLlamaFixture.inputIds()
        let logits = try withNoGrad { try model.logits(tokens: tokens) }
        let logitError = try maxAbsDifference(logits, TinyLlamaFixture.reference("logits.safetensors", "logits"))
        #expect(logitError < 0.25, "logits off by \(logitError)")
        let loss = try withNoGrad { try model.loss(tokens: tokens).scalar(Double.self) }
        let expected = try #require(TinyLlamaFixture.referenceJSON()["loss"] as? Double)
        #expect(abs(loss - expected) < 0.006, "loss \(loss) vs \(expected)")

        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        try model.loss(tokens: tokens).backward()
        let references = try SafeTensorsFile(url: TinyLlamaFixture.directory.appendingPathComponent("lora_grads.safetensors"))
        var worst = 0.0
        for (name, tensor) in model.trainableParameters {
            let gradient = try #require(tensor.grad, "no gradient for \(name)")
            #expect(gradient.dtype == .float32)
            worst = max(worst, try relativeDifference(gradient, references.tensor(name)))
        }
        #expect(worst < 0.08, "LoRA gradients off by \(worst) relative")
    }

    @Test func newTokenRowsTrainInF32AndTheExportIsF32() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory, dtype: .bfloat16)
        // Two ids the fixture's input holds, so that both the embedding rows and the head rows get gradients.
        let ids = Array(Set(try TinyLlamaFixture.inputIds().toArray(Int64.self).map(Int.init))).sorted().prefix(2)
        try model.applyLoRA(LoRAConfiguration(rank: 2, alpha: 4, targets: [.query, .value], trainableTokenIndices: Array(ids)), seed: 1)
        let rows = try #require(model.trainableTokens)
        #expect(rows.embeddingRows.dtype == .float32 && rows.headRows?.dtype == .float32)
        try model.loss(tokens: TinyLlamaFixture.inputIds()).backward()
        #expect(try #require(rows.embeddingRows.grad).abs().sum().scalar(Double.self) > 0)
        #expect(try #require(rows.headRows?.grad).abs().sum().scalar(Double.self) > 0)

        let scratch = try ScratchDirectory("loom-bf16-export")
        try model.saveModel(to: scratch.url)
        let file = try SafeTensorsFile(url: scratch.url.appendingPathComponent("model.safetensors"))
        for name in file.names { #expect(try file.info(name).dtype == .float32, "\(name)") }
        // The exported base weights are the bf16 values, upcast exactly.
        let dense = try #require(model.base(layer: 1, .down) as? DenseLinear)
        #expect(try file.tensor("model.layers.1.mlp.down_proj.weight").equal(dense.weight.to(.float32)))
    }
}
