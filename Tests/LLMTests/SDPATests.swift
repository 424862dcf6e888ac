// SDPATests — attention through PyTorch's scaled_dot_product_attention computes what the composite of
// batched GEMMs computes: outputs within 1e-5 and input gradients within 1e-4 relative (another summation
// order), for the plain causal case, grouped-query heads, a KV cache (queries after earlier positions)
// and a sliding window; and a whole model gives the same logits with either path.
import Foundation
@testable import LLM
import TestSupport
import Testing
import Torch

@Suite struct SDPATests {
    func heads(_ batch: Int, _ count: Int, _ length: Int, _ dim: Int, seed: UInt64) throws -> Tensor {
        try Tensor.randn([batch, count, length, dim], generator: Generator(seed: seed)).setRequiresGrad()
    }

    @Test(arguments: [(4, 4, 9, 9, nil), (4, 2, 9, 9, nil), (4, 2, 3, 11, nil), (4, 1, 12, 12, 5)] as [(Int, Int, Int, Int, Int?)])
    func sdpaEqualsTheComposite(heads count: Int, kvHeads: Int, queries: Int, keys: Int, window: Int?) throws {
        let q = try heads(2, count, queries, 8, seed: 1)
        let k = try heads(2, kvHeads, keys, 8, seed: 2)
        let v = try heads(2, kvHeads, keys, 8, seed: 3)
        let composite = try CausalAttention.compute(q: q, k: k, v: v, slidingWindow: window)
        let sdpa = try CausalAttention.sdpa(q: q, k: k, v: v, slidingWindow: window)
        #expect(sdpa.shape == composite.shape)
        #expect(try maxAbsDifference(sdpa, composite) < 1e-5)
        let upstream = try Tensor.randn(composite.shape, generator: Generator(seed: 4))
        let compositeGrads = try gradients(composite, upstream, [q, k, v])
        let sdpaGrads = try gradients(sdpa, upstream, [q, k, v])
        for (a, b) in zip(sdpaGrads, compositeGrads) { #expect(try relativeDifference(a, b) < 1e-4) }
    }

    func gradients(_ output: Tensor, _ upstream: Tensor, _ inputs: [Tensor]) throws -> [Tensor] {
        for input in inputs { try input.clearGrad() }
        try output.backward(upstream)
        return try inputs.map { try #require($0.grad).clone() }
    }

    @Test func aModelGivesTheSameLogitsThroughSDPAAndTheBlockKernel() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let tokens = try TinyLlamaFixture.inputIds()
        #expect(model.kernels.sdpaAttention && model.kernels.fusedAttention, "the block kernel on the CPU in f32, SDPA where it does not apply")
        let block = try withNoGrad { try model.logits(tokens: tokens) }
        model.kernels.fusedAttention = false
        let sdpa = try withNoGrad { try model.logits(tokens: tokens) }
        #expect(try maxAbsDifference(sdpa, block) < 1e-4)
        #expect(try maxAbsDifference(sdpa, TinyLlamaFixture.reference("logits.safetensors", "logits")) < 1e-4)
    }
}
