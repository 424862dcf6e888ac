// TensorOpsTests — values of the ops through the shim: arithmetic with broadcasting and scalars,
// matrix products, reductions, sorting, the neural-network ops, comparisons, bitwise unpacking, shape
// changes, joining and splitting, indexing and in-place updates.
import Foundation
import Testing
import Torch

@Test func arithmeticBroadcastsAndTakesScalarsOnEitherSide() throws {
    let a = try Tensor([Float(1), 2, 3, 4], shape: [2, 2])
    let row = try Tensor([Float(10), 20])
    #expect(try (a + row).toArray(Float.self) == [11, 22, 13, 24])
    #expect(try (a - row).toArray(Float.self) == [-9, -18, -7, -16])
    #expect(try (a * row).toArray(Float.self) == [10, 40, 30, 80])
    #expect(try (a / row).toArray(Float.self) == [0.1, 0.1, 0.3, 0.2])
    #expect(try (a * 2 + 1).toArray(Float.self) == [3, 5, 7, 9])
    #expect(try (10 - a).toArray(Float.self) == [9, 8, 7, 6])
    #expect(try (2 * a).toArray(Float.self) == [2, 4, 6, 8])
    #expect(try (1 / a).toArray(Float.self) == [1, 0.5, Float(1) / 3, 0.25])
    #expect(try (-a).toArray(Float.self) == [-1, -2, -3, -4])
    let scale = 0.5
    #expect(try (a * scale).toArray(Float.self) == [0.5, 1, 1.5, 2])
    #expect(try a.add(row, alpha: -1).toArray(Float.self) == [-9, -18, -7, -16])
    #expect(try a.pow(2).toArray(Float.self) == [1, 4, 9, 16])
    // ATen's pow kernel (vectorised exp2/log2) is accurate to ~1 ulp, not exact, on every CPU path.
    #expect(approximatelyEqual(try Tensor.pow(2, a).toArray(Float.self), [2, 4, 8, 16], tolerance: 1e-5))
    #expect(try a.remainder(3).toArray(Float.self) == [1, 2, 0, 1])
    #expect(try Tensor([Float(-7), 7]).floorDivide(2).toArray(Float.self) == [-4, 3])
    #expect(try a.maximum(Tensor([Float(2)])).toArray(Float.self) == [2, 2, 3, 4])
}

@Test func integerTensorsStayIntegralWithIntegerScalars() throws {
    let i = try Tensor([Int64(1), 2, 3])
    #expect(try (i + 1).dtype == .int64)
    #expect(try (i * 0.5).dtype == .float32)
    #expect(try i.div(2).toArray(Float.self) == [0.5, 1, 1.5])
}

@Test func unaryFunctionsMatchTheirDefinitions() throws {
    let x: [Float] = [-1.5, -0.25, 0.5, 2]
    let t = try Tensor(x)
    func expectMatches(_ result: Tensor, _ f: (Float) -> Float, tolerance: Float = 1e-6) throws {
        #expect(approximatelyEqual(try result.toArray(Float.self), x.map(f), tolerance: tolerance))
    }
    try expectMatches(t.exp(), { Foundation.exp($0) }, tolerance: 1e-5)
    try expectMatches(t.abs().log(), { Foundation.log(Swift.abs($0)) })
    try expectMatches(t.abs().sqrt(), { $0.magnitude.squareRoot() })
    try expectMatches(t.abs().rsqrt(), { 1 / $0.magnitude.squareRoot() })
    try expectMatches(t.tanh(), { Foundation.tanh($0) })
    try expectMatches(t.sigmoid(), { 1 / (1 + Foundation.exp(-$0)) })
    try expectMatches(t.silu(), { $0 / (1 + Foundation.exp(-$0)) })
    try expectMatches(t.gelu(), { 0.5 * $0 * (1 + Foundation.erf($0 / Float(2).squareRoot())) })
    try expectMatches(t.relu(), { Swift.max(0, $0) })
    try expectMatches(t.square(), { $0 * $0 })
    try expectMatches(t.sin(), { Foundation.sin($0) })
    try expectMatches(t.apply(.floor), { $0.rounded(.down) })
    #expect(try Tensor([Float.nan, 1, .infinity]).isFinite().toArray(Bool.self) == [false, true, false])
    #expect(try Tensor([Float.nan, 1]).isNaN().toArray(Bool.self) == [true, false])
}

@Test func matrixProductsAndLinear() throws {
    let a = try Tensor([Float(1), 2, 3, 4, 5, 6], shape: [2, 3])
    let b = try Tensor([Float(1), 0, 0, 1, 1, 1], shape: [3, 2])
    #expect(try a.matmul(b).toArray(Float.self) == [4, 5, 10, 11])
    #expect(try a.mm(b).shape == [2, 2])
    let batched = try Tensor.stack([a, a])
    #expect(try batched.bmm(Tensor.stack([b, b])).toArray(Float.self) == [4, 5, 10, 11, 4, 5, 10, 11])
    #expect(try batched.matmul(b).shape == [2, 2, 2])
    // linear: x [2, 3] · Wᵀ with W [2, 3] (= bᵀ) + bias.
    let weight = try b.transpose(0, 1).contiguous()
    let bias = try Tensor([Float(100), 200])
    #expect(try a.linear(weight: weight, bias: bias).toArray(Float.self) == [104, 205, 110, 211])
    #expect(try a.linear(weight: weight).toArray(Float.self) == [4, 5, 10, 11])
    #expect(try Tensor.ones([2, 2]).addmm(a, b, beta: 2, alpha: 0.5).toArray(Float.self) == [4, 4.5, 7, 7.5])
    let mask = try Tensor.zeros([2, 2, 2])
    #expect(try mask.baddbmm(batched, Tensor.stack([b, b]), beta: 1, alpha: 0.5).toArray(Float.self) == [2, 2.5, 5, 5.5, 2, 2.5, 5, 5.5])
}

@Test func reductionsOverDimsAndEverything() throws {
    let t = try Tensor([Float(1), 2, 3, 4, 5, 6], shape: [2, 3])
    #expect(try t.sum().scalar(Float.self) == 21)
    #expect(try t.sum(dims: [0]).toArray(Float.self) == [5, 7, 9])
    #expect(try t.sum(dims: [1], keepDim: true).shape == [2, 1])
    #expect(try t.sum(keepDim: true).shape == [1, 1])
    #expect(try t.mean(dims: [1]).toArray(Float.self) == [2, 5])
    #expect(try t.amax(dims: [0]).toArray(Float.self) == [4, 5, 6])
    #expect(try t.amin().scalar(Float.self) == 1)
    #expect(try t.prod(dim: 1).toArray(Float.self) == [6, 120])
    #expect(try t.argmax().scalar(Int.self) == 5)
    #expect(try t.argmax(dim: 1).toArray(Int.self) == [2, 2])
    #expect(try t.argmin(dim: 0, keepDim: true).shape == [1, 3])
    let (values, indices) = try t.max(dim: 0)
    #expect(try values.toArray(Float.self) == [4, 5, 6] && indices.toArray(Int.self) == [1, 1, 1])
    #expect(try t.min(dim: 1).values.toArray(Float.self) == [1, 4])
    #expect(approximatelyEqual(try t.logsumexp(dims: [1]).toArray(Float.self),
                               [Float(Foundation.log(exp(1.0) + exp(2.0) + exp(3.0))), Float(Foundation.log(exp(4.0) + exp(5.0) + exp(6.0)))],
                               tolerance: 1e-5))
    #expect(try t.variance().scalar(Double.self) == 3.5)
    #expect(abs(try t.standardDeviation(dims: [1]).toArray(Float.self)[0] - 1) < 1e-6)
    #expect(try t.norm().scalar(Float.self) == Float(91).squareRoot())
    #expect(try t.norm(.infinity).scalar(Float.self) == 6)
    #expect(try t.norm(1, dims: [1]).toArray(Float.self) == [6, 15])
    #expect(try t.gt(3).all().scalar(Bool.self) == false)
    #expect(try t.gt(3).any(dim: 1).toArray(Bool.self) == [false, true])
    #expect(try t.cumsum(dim: 1).toArray(Float.self) == [1, 3, 6, 4, 9, 15])
}

@Test func topkSortAndBucketize() throws {
    let t = try Tensor([Float(0.1), 0.7, 0.2, 0.7, 0.05])
    let top = try t.topk(2)
    #expect(try top.values.toArray(Float.self) == [0.7, 0.7])
    #expect(try Set(top.indices.toArray(Int.self)) == [1, 3])
    #expect(try t.topk(1, largest: false).indices.toArray(Int.self) == [4])
    let sorted = try t.sort(descending: true)
    #expect(try sorted.values.toArray(Float.self) == [0.7, 0.7, 0.2, 0.1, 0.05])
    #expect(try sorted.indices.toArray(Int.self) == [1, 3, 2, 0, 4])  // stable
    let boundaries = try Tensor([Float(-0.5), 0, 0.5])
    #expect(try Tensor([Float(-1), -0.5, 0.2, 0.9]).bucketize(boundaries).toArray(Int.self) == [0, 0, 2, 3])
}

@Test func softmaxAndCrossEntropyMatchTheirFormulas() throws {
    let logits: [Float] = [1, 2, 3, 0.5, -1, 2]
    let t = try Tensor(logits, shape: [2, 3])
    func logSoftmax(_ row: ArraySlice<Float>) -> [Double] {
        let m = Double(row.max()!)
        let lse = m + Foundation.log(row.map { Foundation.exp(Double($0) - m) }.reduce(0, +))
        return row.map { Double($0) - lse }
    }
    let expected = logSoftmax(logits[0..<3]) + logSoftmax(logits[3..<6])
    #expect(approximatelyEqual(try t.logSoftmax(dim: -1).toArray(Double.self), expected, tolerance: 1e-6))
    #expect(approximatelyEqual(try t.softmax(dim: 1).toArray(Double.self), expected.map { Foundation.exp($0) }, tolerance: 1e-6))

    let targets = try Tensor([Int64(2), 0])
    let perTarget = try t.crossEntropy(targets: targets, reduction: .none).toArray(Double.self)
    #expect(approximatelyEqual(perTarget, [-expected[2], -expected[3]], tolerance: 1e-6))
    let mean = try t.crossEntropy(targets: targets).scalar(Double.self)
    #expect(Swift.abs(mean - (-expected[2] - expected[3]) / 2) < 1e-6)
    // An ignored target neither adds to the loss nor counts in the mean (HF's labels of −100).
    let ignored = try t.crossEntropy(targets: Tensor([Int64(2), -100])).scalar(Double.self)
    #expect(Swift.abs(ignored - -expected[2]) < 1e-6)
    #expect(try t.crossEntropy(targets: targets, reduction: .sum).scalar(Double.self) - (-expected[2] - expected[3]) < 1e-5)
}

@Test func embeddingLooksUpRows() throws {
    let weight = try Tensor([Float(0), 0, 1, 1, 2, 2], shape: [3, 2])
    let ids = try Tensor([Int64(2), 0, 1, 2], shape: [2, 2])
    let rows = try weight.embedding(ids)
    #expect(rows.shape == [2, 2, 2])
    #expect(try rows.toArray(Float.self) == [2, 2, 0, 0, 1, 1, 2, 2])
}

@Test func comparisonsWhereMaskedFillAndTriangles() throws {
    let t = try Tensor([Float(1), 5, 3])
    #expect(try t.gt(2).toArray(Bool.self) == [false, true, true])
    #expect(try t.le(Tensor([Float(1), 1, 4])).toArray(Bool.self) == [true, false, true])
    #expect(try t.eq(3).toArray(Bool.self) == [false, false, true])
    #expect(try t.ne(3).toArray(Bool.self) == [true, true, false])
    #expect(try Tensor.where(t.gt(2), t, Tensor.zeros([3])).toArray(Float.self) == [0, 5, 3])
    let causal = try Tensor.ones([3, 3], dtype: .bool).triu(1)
    let scores = try Tensor.zeros([3, 3]).maskedFill(causal, value: -Float.infinity)
    #expect(try scores.toArray(Float.self) == [0, -.infinity, -.infinity, 0, 0, -.infinity, 0, 0, 0])
    #expect(try Tensor.ones([2, 2]).tril().toArray(Float.self) == [1, 0, 1, 1])
    #expect(try t.clamp(min: 2, max: 4).toArray(Float.self) == [2, 4, 3])
    #expect(try t.clamp(max: 2).toArray(Float.self) == [1, 2, 2])
}

@Test func bitwiseOpsUnpackFourBitCodes() throws {
    // Two 4-bit codes per byte, the first in the high nibble (bitsandbytes' order): 0x3A → 3, 10.
    let packed = try Tensor([UInt8(0x3A), 0xF0])
    let high = try packed.shiftRight(4)
    let low = try packed.bitwiseAnd(0x0F)
    #expect(try Tensor.stack([high, low], dim: 1).flatten().toArray(UInt8.self) == [3, 10, 15, 0])
    #expect(try high.shiftLeft(4).bitwiseOr(low).toArray(UInt8.self) == [0x3A, 0xF0])
    #expect(try packed.bitwiseXor(0xFF).toArray(UInt8.self) == [0xC5, 0x0F])
    #expect(try packed.bitwiseNot().toArray(UInt8.self) == [0xC5, 0x0F])
    #expect(packed.dtype == .uint8 && high.dtype == .uint8)
}

@Test func shapeChangesAndViews() throws {
    let t = try Tensor.arange(24).reshape([2, 3, 4])
    #expect(t.shape == [2, 3, 4])
    #expect(try t.reshape([4, -1]).shape == [4, 6])
    #expect(try t.view([6, 4]).shape == [6, 4])
    #expect(try t.permute([2, 0, 1]).shape == [4, 2, 3])
    #expect(try t.transpose(1, 2).contiguous().view([-1]).toArray(Int.self).prefix(4) == [0, 4, 8, 1])
    #expect(try t.narrow(dim: 2, start: 1, length: 2).toArray(Int.self).prefix(4) == [1, 2, 5, 6])
    #expect(try t.slice(dim: 2, start: 0, end: 4, step: 2).toArray(Int.self).prefix(4) == [0, 2, 4, 6])
    #expect(try t.slice(dim: 0, start: -1).shape == [1, 3, 4])
    #expect(try t.select(dim: 1, index: 2).toArray(Int.self) == [8, 9, 10, 11, 20, 21, 22, 23])
    #expect(try t.unsqueeze(0).shape == [1, 2, 3, 4])
    #expect(try t.unsqueeze(0).squeeze().shape == [2, 3, 4])
    #expect(try t.unsqueeze(1).squeeze(dim: 1).shape == [2, 3, 4])
    #expect(try t.flatten(startDim: 1).shape == [2, 12])
    #expect(try Tensor([Float(1), 2]).expand([3, 2]).toArray(Float.self) == [1, 2, 1, 2, 1, 2])
    #expect(try Tensor([Float(1), 2]).repeat([2]).toArray(Float.self) == [1, 2, 1, 2])
    #expect(try Tensor([Float(1), 2]).repeatInterleave(2, dim: 0).toArray(Float.self) == [1, 1, 2, 2])
    #expect(try Tensor([Float(1), 2, 3]).roll(1, dim: 0).toArray(Float.self) == [3, 1, 2])
    #expect(try t.size(-1) == 4)
}

@Test func joiningAndSplitting() throws {
    let a = try Tensor([Float(1), 2], shape: [1, 2])
    let b = try Tensor([Float(3), 4], shape: [1, 2])
    #expect(try Tensor.cat([a, b]).shape == [2, 2])
    #expect(try Tensor.cat([a, b], dim: 1).toArray(Float.self) == [1, 2, 3, 4])
    #expect(try Tensor.stack([a, b], dim: 0).shape == [2, 1, 2])
    let qkv = try Tensor.arange(10)
    let parts = try qkv.split(sizes: [4, 3, 3])
    #expect(try parts.map { try $0.toArray(Int.self) } == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]])
    #expect(try qkv.split(size: 4).map(\.shape) == [[4], [4], [2]])
    #expect(try qkv.chunk(2).map { try $0.toArray(Int.self) } == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
    #expect(try qkv.reshape([2, 5]).unbind(dim: 1).count == 5)
}

@Test func indexingGathersAndUpdatesRows() throws {
    let table = try Tensor.arange(12, dtype: .float32).reshape([4, 3])
    let rows = try Tensor([Int64(3), 1])
    #expect(try table.indexSelect(dim: 0, index: rows).toArray(Float.self) == [9, 10, 11, 3, 4, 5])
    #expect(try table.gather(dim: 1, index: Tensor([Int64(2), 0, 1, 1], shape: [4, 1])).toArray(Float.self) == [2, 3, 7, 10])
    let updated = try table.indexUpdate(.copy, dim: 0, index: rows, source: Tensor.zeros([2, 3]))
    #expect(try updated.sum(dims: [1]).toArray(Float.self) == [3, 0, 21, 0])
    #expect(try table.sum().scalar(Float.self) == 66)  // the source is untouched
    try table.indexUpdateInPlace(.add, dim: 0, index: Tensor([Int64(0)]), source: Tensor.ones([1, 3]))
    #expect(try table.narrow(dim: 0, start: 0, length: 1).toArray(Float.self) == [1, 2, 3])
    let scattered = try Tensor.zeros([3]).indexUpdate(.scatterAdd, dim: 0, index: Tensor([Int64(0), 0, 2]), source: Tensor([Float(1), 2, 3]))
    #expect(try scattered.toArray(Float.self) == [3, 0, 3])
}

@Test func inPlaceUpdatesComputeTheOptimizerFormulas() throws {
    let x = try Tensor([Float(1), 2])
    try x.addInPlace(Tensor([Float(1), 1]), alpha: 2)
    #expect(try x.toArray(Float.self) == [3, 4])
    try x.mulInPlace(2); try x.subInPlace(1); try x.divInPlace(Tensor([Float(5), 7]))
    #expect(try x.toArray(Float.self) == [1, 1])
    try x.addcmulInPlace(Tensor([Float(2), 3]), Tensor([Float(4), 5]), value: 0.5)
    #expect(try x.toArray(Float.self) == [5, 8.5])
    try x.addcdivInPlace(Tensor([Float(2), 3]), Tensor([Float(4), 6]), value: -2)
    #expect(try x.toArray(Float.self) == [4, 7.5])
    try x.lerpInPlace(Tensor([Float(14), 7.5]), weight: 0.1)
    #expect(try x.toArray(Float.self) == [5, 7.5])
    try x.copy(from: Tensor([Float(-3)]))
    #expect(try x.toArray(Float.self) == [-3, -3])
    try x.clampInPlace(min: -1)
    try x.applyInPlace(.neg)
    #expect(try x.toArray(Float.self) == [1, 1])
    try x.powInPlace(3); try x.addInPlace(1)
    #expect(try x.toArray(Float.self) == [2, 2])
    try x.maskedFillInPlace(Tensor([true, false]), value: 9)
    #expect(try x.toArray(Float.self) == [9, 2])
    try x.zero()
    #expect(try x.toArray(Float.self) == [0, 0])
}
