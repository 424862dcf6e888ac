// Quantization4BitTests — the fused 4-bit kernels against a plain Swift reference: nearest-level codes,
// bitsandbytes' nibble order, per-block absmax, partial last blocks, half-precision output, bad inputs.
import TestSupport
import Testing
import Torch

/// The reference: for each element its nearest NF4 level of x / absmax (ties to the lower), per block.
private func referenceCodes(_ values: [Float], blockSize: Int) -> (codes: [UInt8], absmax: [Float]) {
    let levels = Quantization4Bit.nf4Levels
    var codes: [UInt8] = []
    var absmax: [Float] = []
    for start in stride(from: 0, to: values.count, by: blockSize) {
        let block = values[start..<min(values.count, start + blockSize)]
        let amax = block.map { Swift.abs($0) }.max()!
        absmax.append(amax)
        let inverse: Float = amax > 0 ? 1 / amax : 0
        for x in block {
            let v = x * inverse
            codes.append(UInt8((0..<15).filter { v > (levels[$0] + levels[$0 + 1]) / 2 }.count))
        }
    }
    return (codes, absmax)
}

@Test func quantizedCodesAreTheNearestLevelsPackedHighNibbleFirst() throws {
    let weight = try Tensor.randn([3, 50], generator: Generator(seed: 2))  // 150 elements: a partial last block
    let values = try weight.toArray(Float.self)
    let codebook = try Tensor(Quantization4Bit.nf4Levels)
    let (packed, absmax) = try Quantization4Bit.quantize(weight, codebook: codebook, blockSize: 64)
    #expect(packed.dtype == .uint8 && packed.shape == [75] && absmax.shape == [3])

    let reference = referenceCodes(values, blockSize: 64)
    #expect(try absmax.toArray(Float.self) == reference.absmax)
    let bytes = try packed.toArray(UInt8.self)
    let unpacked = bytes.flatMap { [$0 >> 4, $0 & 0x0F] }
    #expect(unpacked == reference.codes)

    let restored = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [3, 50])
    let expected = reference.codes.enumerated().map { Quantization4Bit.nf4Levels[Int($1)] * reference.absmax[$0 / 64] }
    #expect(try restored.toArray(Float.self) == expected)
    // The largest magnitude of each block is exact (it maps to ±1).
    #expect(try restored.abs().amax().scalar(Float.self) == weight.abs().amax().scalar(Float.self))
}

@Test func dequantizedHalfPrecisionIsTheRoundedF32Result() throws {
    let weight = try Tensor.randn([128], generator: Generator(seed: 3))
    let codebook = try Tensor(Quantization4Bit.nf4Levels)
    let (packed, absmax) = try Quantization4Bit.quantize(weight, codebook: codebook)
    let f32 = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [128])
    let bf16 = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [2, 64], dtype: .bfloat16)
    #expect(bf16.dtype == .bfloat16 && bf16.shape == [2, 64])
    #expect(try bf16.flatten().equal(f32.to(.bfloat16)))
}

@Test func zeroBlocksAndExactLevelsRoundTrip() throws {
    // One all-zero block, then one block holding every level × 3 (absmax 3): both come back exactly.
    let codebook = try Tensor(Quantization4Bit.nf4Levels)
    let values: [Float] = Array(repeating: 0, count: 16) + Quantization4Bit.nf4Levels.map { $0 * 3 }
    let (packed, absmax) = try Quantization4Bit.quantize(Tensor(values), codebook: codebook, blockSize: 16)
    #expect(try absmax.toArray(Float.self) == [0, 3])
    let restored = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, blockSize: 16, shape: [32])
    #expect(try restored.toArray(Float.self) == values)
}

@Test func badQuantizationInputsAreNamed() throws {
    let codebook = try Tensor(Quantization4Bit.nf4Levels)
    let weight = try Tensor.ones([8])
    #expect(errorMessage { _ = try Quantization4Bit.quantize(weight, codebook: codebook, blockSize: 3) }?.hasPrefix("block size must be a positive even number, got 3") == true)
    #expect(errorMessage { _ = try Quantization4Bit.quantize(weight, codebook: Tensor.zeros([4])) }?.hasPrefix("codebook must hold 16 floating-point values, got [4] f32") == true)
    #expect(errorMessage { _ = try Quantization4Bit.quantize(weight, codebook: Tensor.zeros([16])) }?.hasPrefix("codebook must be strictly ascending") == true)
    let (packed, absmax) = try Quantization4Bit.quantize(weight, codebook: codebook)
    let wrongShape = errorMessage { _ = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [4, 4]) }
    #expect(wrongShape?.hasPrefix("packed codes must be u8 with 8 elements for shape [4, 4], got [4] u8") == true)
    let intOutput = errorMessage { _ = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [8], dtype: .int64) }
    #expect(intOutput?.hasPrefix("dequantize_4bit produces floating-point tensors") == true)
}

@Test func quantizedLinearEqualsDequantizeThenLinearForwardAndBackward() throws {
    let generator = try Generator(seed: 8)
    let codebook = try Tensor(Quantization4Bit.nf4Levels)
    let (packed, absmax) = try Quantization4Bit.quantize(Tensor.randn([6, 128], generator: generator), codebook: codebook)
    let weight = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [6, 128])
    let start = try Tensor.randn([2, 3, 128], generator: generator)

    let fusedInput = try start.clone().setRequiresGrad()
    let fused = try Quantization4Bit.linear(fusedInput, packed: packed, absmax: absmax, codebook: codebook, outFeatures: 6, inFeatures: 128)
    let compositeInput = try start.clone().setRequiresGrad()
    let composite = try compositeInput.linear(weight: weight)
    #expect(fused.shape == [2, 3, 6])
    // Both end in one sgemm of the same shapes today, but through different ATen routes (mm_out over a row
    // block vs linear → matmul): equal to within float32 rounding of outputs below ~3, not promised bit for bit.
    #expect(approximatelyEqual(try fused.toArray(Float.self), try composite.toArray(Float.self), tolerance: 1e-6))

    let upstream = try Tensor.randn([2, 3, 6], generator: generator)
    try (fused * upstream).sum().backward()
    try (composite * upstream).sum().backward()
    #expect(approximatelyEqual(try #require(fusedInput.grad).toArray(Float.self), try #require(compositeInput.grad).toArray(Float.self), tolerance: 1e-5))
    let withoutGraph = try withNoGrad { try Quantization4Bit.linear(start, packed: packed, absmax: absmax, codebook: codebook, outFeatures: 6, inFeatures: 128) }
    #expect(try withoutGraph.equal(fused.detach()))
    let wrong = errorMessage { _ = try Quantization4Bit.linear(start, packed: packed, absmax: absmax, codebook: codebook, outFeatures: 7, inFeatures: 128) }
    #expect(wrong?.hasPrefix("packed codes must be u8 with 448 elements for shape [7, 128], got [384] u8") == true)
}
