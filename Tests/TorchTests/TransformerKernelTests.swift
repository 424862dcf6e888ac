// TransformerKernelTests — each fused transformer kernel against the composite of tensor ops it replaces,
// values and gradients: attention heads with RoPE, SwiGLU, cross-entropy, the head and cross-entropy by
// chunks of rows (trained and frozen head), block-wise causal attention
// (grouped heads, a sliding window, queries after cached keys); and the op profiler's trace.
import Foundation
import TestSupport
import Testing
import Torch

@Suite struct TransformerKernelTests {
    private let generator = { try Generator(seed: 21) }

    private func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
        try (a.detach().to(.float64) - b.detach().to(.float64)).abs().amax().scalar(Double.self)
    }

    /// Values and gradients (against a random upstream gradient) of `fused` and `composite` on the same inputs.
    private func compare(
        inputs: [Tensor], fused: ([Tensor]) throws -> [Tensor], composite: ([Tensor]) throws -> [Tensor], tolerance: Double
    ) throws {
        let g = try generator()
        var results: [([Tensor], [Tensor])] = []
        var upstream: [Tensor]? = nil
        for useFused in [true, false] {
            let leaves = try inputs.map { try $0.detach().clone().setRequiresGrad() }
            let outputs = try useFused ? fused(leaves) : composite(leaves)
            let seeds = try upstream ?? outputs.map { try Tensor.randn($0.shape, generator: g) }
            upstream = seeds
            let objective = try zip(outputs, seeds).map { try ($0 * $1).sum() }.reduce(Tensor.zeros([])) { try $0 + $1 }
            try objective.backward()
            results.append((outputs, try leaves.map { try #require($0.grad) }))
        }
        for (a, b) in zip(results[0].0, results[1].0) { #expect(try maxDifference(a, b) < tolerance, "value") }
        for (a, b) in zip(results[0].1, results[1].1) { #expect(try maxDifference(a, b) < tolerance, "gradient") }
    }

    @Test func attentionHeadsEqualSplitRotateAndTranspose() throws {
        let (batch, length, heads, kvHeads, dim) = (2, 5, 4, 2, 8)
        let qkv = try Tensor.randn([batch * length, (heads + 2 * kvHeads) * dim], generator: generator())
        let angles = try Tensor.rand([length, dim / 2], generator: generator()) * 3
        let full = try Tensor.cat([angles, angles], dim: 1)
        let (cos, sin) = (try full.cos(), try full.sin())
        func rotate(_ x: Tensor, _ count: Int) throws -> Tensor {
            let h = try x.reshape([batch, length, count, dim])
            let rotated = try Tensor.cat([h.narrow(dim: 3, start: dim / 2, length: dim / 2).neg(), h.narrow(dim: 3, start: 0, length: dim / 2)], dim: 3)
            return try (h * cos.reshape([1, length, 1, dim]) + rotated * sin.reshape([1, length, 1, dim])).transpose(1, 2).contiguous()
        }
        try compare(inputs: [qkv], fused: { x in
            let (q, k, v) = try x[0].attentionHeads(cos: cos, sin: sin, batch: batch, heads: heads, kvHeads: kvHeads)
            return [q, k, v]
        }, composite: { x in
            let parts = try x[0].split(sizes: [heads * dim, kvHeads * dim, kvHeads * dim], dim: 1)
            return [try rotate(parts[0], heads), try rotate(parts[1], kvHeads),
                    try parts[2].reshape([batch, length, kvHeads, dim]).transpose(1, 2).contiguous()]
        }, tolerance: 1e-5)
        // Only q used: the k and v blocks of the gradient are zero.
        let leaf = try qkv.clone().setRequiresGrad()
        try leaf.attentionHeads(cos: cos, sin: sin, batch: batch, heads: heads, kvHeads: kvHeads).q.sum().backward()
        #expect(try #require(leaf.grad).narrow(dim: 1, start: heads * dim, length: 2 * kvHeads * dim).abs().amax().scalar(Double.self) == 0)
    }

    @Test func swiGLUEqualsSiluTimesUp() throws {
        let x = try Tensor.randn([6, 2 * 10], generator: generator()) * 3
        try compare(inputs: [x], fused: { [try $0[0].swiGLU()] }, composite: { x in
            [try x[0].narrow(dim: 1, start: 0, length: 10).silu() * x[0].narrow(dim: 1, start: 10, length: 10)]
        }, tolerance: 1e-5)
    }

    @Test func fusedCrossEntropyEqualsLogSoftmaxAndNLL() throws {
        let logits = try Tensor.randn([7, 13], generator: generator()) * 4
        let targets = try Tensor([Int64(3), 0, -100, 12, 5, -100, 7])
        try compare(inputs: [logits], fused: { [try $0[0].fusedCrossEntropy(targets: targets)] },
                    composite: { [try $0[0].crossEntropy(targets: targets)] }, tolerance: 1e-5)
        #expect(throws: TorchError.self) { try logits.fusedCrossEntropy(targets: Tensor([Int64(13), 0, 0, 0, 0, 0, 0])) }
    }

    @Test func linearCrossEntropyEqualsTheHeadThenCrossEntropy() throws {
        // 7 rows in chunks of 3 (the last chunk short), two targets ignored; the head trained and frozen.
        let hidden = try Tensor.randn([7, 6], generator: generator()) * 2
        let weight = try Tensor.randn([13, 6], generator: generator())
        let targets = try Tensor([Int64(3), 0, -100, 12, 5, -100, 7])
        for chunkRows in [3, 7, 64] {
            try compare(inputs: [hidden, weight], fused: { [try $0[0].linearCrossEntropy(weight: $0[1], targets: targets, chunkRows: chunkRows)] },
                        composite: { [try $0[0].linear(weight: $0[1]).crossEntropy(targets: targets)] }, tolerance: 1e-5)
        }
        let frozen = try weight.clone()
        let input = try hidden.clone().setRequiresGrad()
        try input.linearCrossEntropy(weight: frozen, targets: targets, chunkRows: 2).backward()
        let reference = try hidden.clone().setRequiresGrad()
        try reference.linear(weight: frozen).crossEntropy(targets: targets).backward()
        #expect(try maxDifference(#require(input.grad), #require(reference.grad)) < 1e-5)
        #expect(frozen.grad == nil)
        // Every target ignored: NaN, as PyTorch's mean over no elements.
        #expect(try hidden.linearCrossEntropy(weight: weight, targets: Tensor([Int64](repeating: -100, count: 7))).scalar(Double.self).isNaN)
        let outOfRange = errorMessage { _ = try hidden.linearCrossEntropy(weight: weight, targets: Tensor([Int64(3), 0, 1, 13, 5, 2, 7])) }
        #expect(outOfRange?.contains("target 13 at row 3 is out of range for 13 classes") == true, "\(outOfRange ?? "no error")")
        let shapes = errorMessage { _ = try hidden.linearCrossEntropy(weight: Tensor.zeros([13, 5]), targets: targets) }
        #expect(shapes?.contains("expected hidden [N, C], weight [V, C]") == true, "\(shapes ?? "no error")")
    }

    @Test func causalAttentionEqualsMaskedSoftmaxAttention() throws {
        // (heads, kvHeads, queries, keys, window, dim): plain, grouped, a window, queries after cached keys,
        // more queries than one block (with a window, grouped, and a wider head).
        let cases = [(4, 4, 9, 9, 0, 8), (6, 2, 11, 11, 0, 8), (4, 2, 12, 12, 5, 8), (4, 1, 3, 10, 0, 8), (2, 2, 150, 150, 40, 8),
                     (6, 2, 70, 70, 0, 8), (4, 2, 100, 100, 0, 32), (2, 2, 90, 100, 30, 32)]
        for (heads, kvHeads, length, keys, window, dim) in cases {
            let batch = 2
            let g = try generator()
            let q = try Tensor.randn([batch, heads, length, dim], generator: g)
            let k = try Tensor.randn([batch, kvHeads, keys, dim], generator: g)
            let v = try Tensor.randn([batch, kvHeads, keys, dim], generator: g)
            try compare(inputs: [q, k, v], fused: { x in
                [try causalAttention(q: x[0], k: x[1], v: x[2], slidingWindow: window > 0 ? window : nil)]
            }, composite: { x in
                let group = heads / kvHeads
                let keysRepeated = try x[1].repeatInterleave(group, dim: 1), valuesRepeated = try x[2].repeatInterleave(group, dim: 1)
                let positions = try (Tensor.arange(length) + (keys - length)).reshape([length, 1])
                let keyIndex = try Tensor.arange(keys).reshape([1, keys])
                var blocked = try keyIndex.gt(positions)
                if window > 0 { blocked = try blocked.logicalOr(keyIndex.le(positions - window)) }
                let scores = try x[0].matmul(keysRepeated.transpose(2, 3)) / Double(dim).squareRoot()
                let context = try scores.maskedFill(blocked, value: -Double.infinity).softmax(dim: -1).matmul(valuesRepeated)
                return [try context.transpose(1, 2).reshape([batch * length, heads * dim])]
            }, tolerance: 1e-5)
        }
        #expect(throws: TorchError.self) {
            try causalAttention(q: Tensor.zeros([1, 3, 2, 4]), k: Tensor.zeros([1, 2, 2, 4]), v: Tensor.zeros([1, 2, 2, 4]))
        }
    }

    @Test func loraUpdatesWriteEachPartsColumns() throws {
        let g = try generator()
        let (rows, outs, ranks, scales) = (5, [6, 3, 4], [2, 3, 1], [2.0, 0.5, 4.0])
        let base = try Tensor.randn([rows, outs.reduce(0, +)], generator: g)
        let lowRank = try Tensor.randn([rows, ranks.reduce(0, +)], generator: g)
        let bs = try zip(outs, ranks).map { try Tensor.randn([$0, $1], generator: g) }
        try compare(inputs: [base, lowRank] + bs, fused: { x in
            // A fresh result to update in place, as a projection's output is.
            [try (x[0] * 1).loraUpdateInPlace(lowRank: x[1], b: Array(x[2...]), offsets: [0, 6, 9], scales: scales)]
        }, composite: { x in
            let inputs = try x[1].split(sizes: ranks, dim: 1), parts = try x[0].split(sizes: outs, dim: 1)
            return [try Tensor.cat((0..<3).map { try parts[$0].addmm(inputs[$0], x[2 + $0].transpose(0, 1), alpha: scales[$0]) }, dim: 1)]
        }, tolerance: 1e-5)
        #expect(throws: TorchError.self) {
            try base.clone().loraUpdateInPlace(lowRank: lowRank, b: bs, offsets: [0, 6, 10], scales: scales)
        }
    }

    @Test func profilerWritesAChromeTrace() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loom-trace-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        let x = try Tensor.randn([8, 8])
        _ = try Profiler.record(traceTo: url) { try x.matmul(x).sum() }
        let events = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
        #expect(events.contains { ($0["name"] as? String) == "aten::mm" })
    }
}
