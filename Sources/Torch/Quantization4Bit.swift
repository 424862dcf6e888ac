// Quantization4Bit — block-wise 4-bit codebook quantisation, the storage format of QLoRA's NF4 weights
// (Dettmers et al. 2023): per block of consecutive elements one f32 absmax, per element the index of the
// nearest codebook level of x / absmax, two indices per byte (the first in the high nibble, as
// bitsandbytes packs them). Fused C++ kernels (ctorch_fused.cpp): one pass instead of several for the
// composite of tensor ops, and a linear layer that recomputes its weight in backward instead of keeping
// it (bench/torch-ops measures both).
import CTorch

public enum Quantization4Bit {
    /// The 16 NormalFloat4 levels (QLoRA paper, appendix E): quantiles of N(0, 1) scaled to [−1, 1],
    /// with an exact zero.
    public static let nf4Levels: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
        -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
        0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// Quantises `values` (a floating CPU tensor of any shape, read row-major) with a 16-level ascending
    /// `codebook`. Returns the packed codes (u8, ⌈n/2⌉) and the absmax of each block (f32, ⌈n/blockSize⌉).
    public static func quantize(
        _ values: Tensor, codebook: Tensor, blockSize: Int = 64
    ) throws -> (packed: Tensor, absmax: Tensor) {
        var packed: OpaquePointer? = nil
        var absmax: OpaquePointer? = nil
        try check { ctorch_quantize_4bit(values.handle, codebook.handle, Int64(blockSize), &packed, &absmax, $0) }
        return (Tensor(owning: packed!), Tensor(owning: absmax!))
    }

    /// The tensor of `shape` and floating `dtype` that `quantize` encoded: codebook[code] · absmax of
    /// the element's block (computed in f32, then converted).
    public static func dequantize(
        packed: Tensor, absmax: Tensor, codebook: Tensor, blockSize: Int = 64, shape: [Int], dtype: DType = .float32
    ) throws -> Tensor {
        let sizes = shape.map(Int64.init)
        return try makeTensor {
            ctorch_dequantize_4bit(packed.handle, absmax.handle, codebook.handle, Int64(blockSize), sizes,
                                   Int32(sizes.count), dtype.ctorch, $0, $1)
        }
    }

    /// input · Wᵀ for input [..., inFeatures] and the quantised weight W [outFeatures, inFeatures], in the
    /// input's dtype. Gradients flow to the input only (W is frozen). W is dequantised in forward and
    /// again in backward rather than kept for backward, so between forward and backward a stack of such
    /// layers holds only its 4-bit codes — composing `dequantize` and `linear` instead would keep every
    /// dequantised weight alive until backward. On the CPU, W is rebuilt in blocks of rows (at most
    /// 4 MiB at a time) inside the GEMM, never whole.
    public static func linear(
        _ input: Tensor, packed: Tensor, absmax: Tensor, codebook: Tensor, blockSize: Int = 64,
        outFeatures: Int, inFeatures: Int
    ) throws -> Tensor {
        try makeTensor {
            ctorch_linear_4bit(input.handle, packed.handle, absmax.handle, codebook.handle, Int64(blockSize),
                               Int64(outFeatures), Int64(inFeatures), $0, $1)
        }
    }

    /// `linear` for a weight whose block absmax are double-quantised (QLoRA): the absmax of block b is
    /// `absmaxTable[absmaxCodes[b]] · absmaxScales[b / absmaxBlockSize] + absmaxOffset` in f32, read by
    /// the kernel itself — so only the u8 codes, not n/blockSize f32 absmax, are kept for backward.
    /// `absmaxCodes` u8 (⌈n/blockSize⌉), `absmaxScales` f32 (one per `absmaxBlockSize` codes),
    /// `absmaxTable` f32 (256).
    public static func linear(
        _ input: Tensor, packed: Tensor, absmaxCodes: Tensor, absmaxScales: Tensor, absmaxTable: Tensor,
        absmaxOffset: Float, absmaxBlockSize: Int, codebook: Tensor, blockSize: Int = 64,
        outFeatures: Int, inFeatures: Int
    ) throws -> Tensor {
        try makeTensor {
            ctorch_linear_4bit_double_quantized(
                input.handle, packed.handle, absmaxCodes.handle, absmaxScales.handle, absmaxTable.handle,
                Double(absmaxOffset), Int64(absmaxBlockSize), codebook.handle, Int64(blockSize),
                Int64(outFeatures), Int64(inFeatures), $0, $1)
        }
    }
}
