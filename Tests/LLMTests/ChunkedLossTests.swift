// ChunkedLossTests — the memory-lean losses: taken over chunks of rows, with each chunk's head GEMM and
// cross-entropy recomputed in backward, it gives the loss and the gradients of the whole computation; the
// head and cross-entropy by chunks with gradients made in forward (the CPU f32 default) give those of the
// separate head GEMM and cross-entropy.
import Foundation
@testable import LLM
import TestSupport
import Testing
import Torch

@Suite struct ChunkedLossTests {
    /// The tiny fixture with LoRA on every projection (B ≠ 0, so the adapters move the logits) and two
    /// trainable token rows in the untied head: gradients reach the adapters and the head rows.
    private func adaptedModel() throws -> DecoderModel {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.applyLoRA(LoRAConfiguration(rank: 4, alpha: 8, targets: LoRATarget.allCases, trainableTokenIndices: [7, 300]), seed: 1)
        try withNoGrad {
            for (name, tensor) in model.trainableParameters where name.contains("lora_B") {
                try tensor.normalInPlace(mean: 0, std: 0.05, generator: Generator(seed: 2))
            }
        }
        return model
    }

    /// The loss and every trainable parameter's gradient with the given chunk budget.
    private func lossAndGradients(chunkBytes: Int?, labels: Tensor) throws -> (Double, [Tensor]) {
        let model = try adaptedModel()
        model.lossChunkBytes = chunkBytes
        let loss = try model.loss(tokens: TinyLlamaFixture.inputIds(), labels: labels)
        try loss.backward()
        return (try loss.scalar(Double.self), try model.trainableParameters.map { try #require($0.tensor.grad).clone() })
    }

    @Test func chunksGiveTheLossAndGradientsOfTheWholeComputation() throws {
        let tokens = try TinyLlamaFixture.inputIds()  // (2, 17): 32 predicted positions, vocabulary 512
        // Some ignored labels (a prompt), so the mean divides by the counted targets only.
        var labelValues = try tokens.reshape([-1]).toArray(Int64.self)
        for index in [1, 2, 3, 20] { labelValues[index] = -100 }
        let labels = try Tensor(labelValues, shape: [2, 17])
        let (whole, wholeGradients) = try lossAndGradients(chunkBytes: nil, labels: labels)
        // 5 rows of 512 f32 logits per chunk: 7 chunks, the last one short.
        let (chunked, chunkedGradients) = try lossAndGradients(chunkBytes: 5 * 512 * 4, labels: labels)
        // The sums run in another order (per chunk, then over chunks): equal to float32 rounding.
        #expect(abs(chunked - whole) <= 1e-6 * whole, "\(chunked) against \(whole)")
        #expect(wholeGradients.count == chunkedGradients.count && wholeGradients.count > 2)
        for (chunkedGradient, wholeGradient) in zip(chunkedGradients, wholeGradients) {
            #expect(try relativeDifference(chunkedGradient, wholeGradient) < 1e-5)
        }
    }

    @Test func chunksAgreeWithoutAGraphAndPerToken() throws {
        let model = try adaptedModel()
        let tokens = try TinyLlamaFixture.inputIds()
        let (wholeMean, wholePerToken) = try withNoGrad {
            model.lossChunkBytes = nil
            return (try model.loss(tokens: tokens), try model.loss(tokens: tokens, labels: tokens, reduction: .none))
        }
        let (chunkedMean, chunkedPerToken) = try withNoGrad {
            model.lossChunkBytes = 3 * 512 * 4
            return (try model.loss(tokens: tokens), try model.loss(tokens: tokens, labels: tokens, reduction: .none))
        }
        #expect(try maxAbsDifference(chunkedMean, wholeMean) < 1e-5)
        #expect(chunkedPerToken.shape == [32] && wholePerToken.shape == [32])
        #expect(try maxAbsDifference(chunkedPerToken, wholePerToken) < 1e-5)
    }

    @Test func theHeadAndLossByChunksGiveTheLossAndGradientsOfTheSeparateOnes() throws {
        // No trainable token rows: the model's loss takes the fused head + cross-entropy (by chunks, gradients
        // made in forward); switched off, the head GEMM then the fused cross-entropy. Both with LoRA moving the logits.
        func run(_ fused: Bool) throws -> (Double, Double, [Tensor]) {
            let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
            try model.applyLoRA(LoRAConfiguration(rank: 4, alpha: 8, targets: LoRATarget.allCases), seed: 1)
            try withNoGrad {
                for (name, tensor) in model.trainableParameters where name.contains("lora_B") {
                    try tensor.normalInPlace(mean: 0, std: 0.05, generator: Generator(seed: 2))
                }
            }
            model.kernels.fusedLinearCrossEntropy = fused
            let tokens = try TinyLlamaFixture.inputIds()
            let evaluated = try withNoGrad { try model.loss(tokens: tokens).scalar(Double.self) }
            let loss = try model.loss(tokens: tokens)
            try loss.backward()
            return (try loss.scalar(Double.self), evaluated, try model.trainableParameters.map { try #require($0.tensor.grad).clone() })
        }
        let (fusedLoss, fusedEvaluated, fusedGradients) = try run(true)
        let (loss, evaluated, gradients) = try run(false)
        #expect(abs(fusedLoss - loss) <= 1e-6 * loss, "\(fusedLoss) against \(loss)")
        // Without a graph no gradient is made, and the value is the same (within f32 rounding should a kernel differ).
        #expect(abs(fusedEvaluated - fusedLoss) <= 1e-6 * loss && abs(evaluated - loss) <= 1e-6 * loss)
        #expect(fusedGradients.count == gradients.count && gradients.count > 2)
        for (fused, separate) in zip(fusedGradients, gradients) { #expect(try relativeDifference(fused, separate) < 1e-5) }
    }
}
