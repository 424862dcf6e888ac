// Quantization4BitLinearTests — the fused 4-bit linear against its composite (dequantise the whole weight,
// then a dense linear) where the kernel rebuilds the weight in several blocks of rows (4 MiB each):
// forward and input gradients, rows whose 64-blocks straddle two row blocks, an odd element offset at a
// row-block boundary, bf16; and the double-quantised absmax read by the kernel itself.
import TestSupport
import Testing
import Torch

/// max |a − b| / max |b|.
private func relativeError(_ a: Tensor, _ b: Tensor) throws -> Float {
    let (x, y) = (try a.to(.float32).toArray(Float.self), try b.to(.float32).toArray(Float.self))
    let scale = y.map { Swift.abs($0) }.max() ?? 0
    return zip(x, y).map { Swift.abs($0 - $1) }.max()! / max(scale, .leastNormalMagnitude)
}

/// Runs `fused` and the dense linear over `weight` on the same input, forward and backward, and returns
/// the relative errors of the output and of the input gradient.
private func compare(
    input start: Tensor, weight: Tensor, generator: Generator, fused: (Tensor) throws -> Tensor
) throws -> (output: Float, gradient: Float) {
    let fusedInput = try start.clone().setRequiresGrad()
    let compositeInput = try start.clone().setRequiresGrad()
    let fusedOutput = try fused(fusedInput)
    let compositeOutput = try compositeInput.linear(weight: weight)
    #expect(fusedOutput.shape == compositeOutput.shape)
    #expect(fusedOutput.dtype == compositeOutput.dtype)
    let upstream = try Tensor.randn(compositeOutput.shape, generator: generator).to(start.dtype)
    try (fusedOutput * upstream).sum().backward()
    try (compositeOutput * upstream).sum().backward()
    return (try relativeError(fusedOutput, compositeOutput),
            try relativeError(try #require(fusedInput.grad), try #require(compositeInput.grad)))
}

@Test(arguments: [(rows: 1100, columns: 1024), (rows: 10600, columns: 100), (rows: 10600, columns: 99)])
func quantizedLinearInRowBlocksEqualsTheComposite(shape: (rows: Int, columns: Int)) throws {
    // 1100×1024 f32: two row blocks (1024 + 76 rows); 10600×100: the second block starts inside a 64-block;
    // 10600×99: and at an odd element (its first code is a low nibble).
    let generator = try Generator(seed: 11)
    let codebook = try Tensor(Quantization4Bit.nf4Levels)
    let (packed, absmax) = try Quantization4Bit.quantize(Tensor.randn([shape.rows, shape.columns], generator: generator), codebook: codebook)
    let start = try Tensor.randn([2, 3, shape.columns], generator: generator)
    for dtype in [DType.float32, .bfloat16] {
        let weight = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [shape.rows, shape.columns], dtype: dtype)
        let errors = try compare(input: start.to(dtype), weight: weight, generator: generator) { x in
            try Quantization4Bit.linear(x, packed: packed, absmax: absmax, codebook: codebook, outFeatures: shape.rows, inFeatures: shape.columns)
        }
        let tolerance: Float = dtype == .float32 ? 1e-5 : 2e-2
        #expect(errors.output <= tolerance, "output, \(dtype): \(errors.output)")
        #expect(errors.gradient <= tolerance, "input gradient, \(dtype): \(errors.gradient)")
    }
}

@Test func doubleQuantizedAbsmaxAreReadByTheKernel() throws {
    let generator = try Generator(seed: 12)
    let codebook = try Tensor(Quantization4Bit.nf4Levels)
    let (rows, columns) = (1100, 1024)
    let (packed, _) = try Quantization4Bit.quantize(Tensor.randn([rows, columns], generator: generator), codebook: codebook)
    // 17600 absmax in groups of 256 (the last one partial): absmax = table[code] · scale[group] + offset.
    let blocks = rows * columns / 64
    let codes = try Tensor.randint(0, 256, shape: [blocks], dtype: .uint8, generator: generator)
    let scales = try Tensor.uniform([(blocks + 255) / 256], low: 0.5, high: 2, generator: generator)
    let table = try Tensor.uniform([256], low: -1, high: 1, generator: generator)
    let offset: Float = 2.5
    let absmax = try table.indexSelect(dim: 0, index: codes.to(.int64))
        * scales.repeatInterleave(256, dim: 0).narrow(dim: 0, start: 0, length: blocks) + Double(offset)
    let weight = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [rows, columns])
    let start = try Tensor.randn([5, columns], generator: generator)
    let errors = try compare(input: start, weight: weight, generator: generator) { x in
        try Quantization4Bit.linear(
            x, packed: packed, absmaxCodes: codes, absmaxScales: scales, absmaxTable: table, absmaxOffset: offset,
            absmaxBlockSize: 256, codebook: codebook, outFeatures: rows, inFeatures: columns)
    }
    #expect(errors.output <= 1e-5, "output: \(errors.output)")
    #expect(errors.gradient <= 1e-5, "input gradient: \(errors.gradient)")

    let shortCodes = errorMessage {
        _ = try Quantization4Bit.linear(
            start, packed: packed, absmaxCodes: codes.narrow(dim: 0, start: 0, length: 100), absmaxScales: scales,
            absmaxTable: table, absmaxOffset: offset, absmaxBlockSize: 256, codebook: codebook, outFeatures: rows, inFeatures: columns)
    }
    #expect(shortCodes?.hasPrefix("absmax codes must be u8 with 17600 elements (one per block of 64), got [100] u8") == true, "\(shortCodes ?? "no error")")
    let shortScales = errorMessage {
        _ = try Quantization4Bit.linear(
            start, packed: packed, absmaxCodes: codes, absmaxScales: scales.narrow(dim: 0, start: 0, length: 3),
            absmaxTable: table, absmaxOffset: offset, absmaxBlockSize: 256, codebook: codebook, outFeatures: rows, inFeatures: columns)
    }
    #expect(shortScales?.hasPrefix("absmax scales must be f32 with 69 elements (one per 256 absmax), got [3] f32") == true, "\(shortScales ?? "no error")")
    let wrongInput = errorMessage {
        _ = try Quantization4Bit.linear(
            Tensor.zeros([5, 7]), packed: packed, absmaxCodes: codes, absmaxScales: scales, absmaxTable: table,
            absmaxOffset: offset, absmaxBlockSize: 256, codebook: codebook, outFeatures: rows, inFeatures: columns)
    }
    #expect(wrongInput?.hasPrefix("input's last dimension must be 1024, got shape [5, 7]") == true, "\(wrongInput ?? "no error")")
}
