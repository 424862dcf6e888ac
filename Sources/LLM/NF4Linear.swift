// NF4Linear — QLoRA's frozen base projection: the weight stored as NF4 codes (4 bits, blocks of 64, the
// 16 NormalFloat levels of Dettmers et al. 2023) with double-quantised absmax (NF4DoubleQuantization),
// dequantised on the fly: Torch's fused 4-bit linear reads the 8-bit absmax codes and rebuilds the
// weight a block of rows at a time inside the GEMM, in forward and again in backward, so no whole dense
// weight ever exists: between forward and backward a layer holds only its codes.
//
// Storage per weight of n = out·in elements: n/2 bytes of codes, n/64 bytes of absmax codes, 4 bytes
// per 256 absmax, one f32 offset — ≈ 0.516 bytes per parameter.
import Foundation
import Torch

public final class NF4Linear: BaseLinear {
    /// Elements per NF4 block (one absmax each).
    public static let blockSize = 64
    /// The dtypes the layer can compute in (the fused kernel dequantises straight into it).
    public static let computeDTypes: [DType] = [.float32, .bfloat16, .float16]

    public let inFeatures: Int
    public let outFeatures: Int
    public let bias: Tensor?
    /// The dtype of the GEMM: inputs are converted to it and outputs back to the input's dtype
    /// (bitsandbytes' `compute_dtype`).
    public let computeDType: DType

    /// Two 4-bit codes per byte, row-major over the (out, in) weight (u8, n/2). A view into the joined
    /// codes once an NF4JointLinear has taken the layer in.
    var packedCodes: Tensor
    private let absmax: DoubleQuantizedAbsmax
    private let tables: NF4Tables

    /// Quantises `weight` (outFeatures, inFeatures), any floating dtype, on the CPU. The weight is only
    /// read: the caller may release it right after, so a model can be built one layer at a time without
    /// ever holding all dense weights. `bias` (outFeatures) stays dense, in `computeDType`.
    public init(weight: Tensor, bias: Tensor? = nil, computeDType: DType = .float32) throws {
        guard weight.rank == 2 else {
            throw TorchError("NF4Linear: the weight must be 2-D (outFeatures, inFeatures), got shape \(weight.shape)")
        }
        guard weight.dtype.isFloatingPoint else {
            throw TorchError("NF4Linear: the weight must be floating point, got \(weight.dtype)")
        }
        guard Self.computeDTypes.contains(computeDType) else {
            throw TorchError("NF4Linear: compute dtype \(computeDType) is not supported; use one of \(Self.computeDTypes.map(\.description).joined(separator: ", "))")
        }
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        if let bias, bias.shape != [outFeatures] {
            throw TorchError("NF4Linear: the bias must have shape [\(outFeatures)], got \(bias.shape)")
        }
        let tables = try NF4Tables.shared.get()
        let (packed, blockAbsmax) = try withNoGrad {
            try Quantization4Bit.quantize(weight, codebook: tables.nf4, blockSize: Self.blockSize)
        }
        self.tables = tables
        self.packedCodes = packed
        self.absmax = try DoubleQuantizedAbsmax(absmax: blockAbsmax.toArray(Float.self))
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.computeDType = computeDType
        self.bias = try bias.map { bias in try withNoGrad { try bias.detach().to(computeDType).contiguous() } }
    }

    /// (…, inFeatures) → (…, outFeatures), in the input's dtype; gradients flow to the input only.
    /// The kernel reads the 8-bit absmax codes itself, so they (not f32 absmax) are kept for backward.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try computing(input, bias: bias) { x in
            try Quantization4Bit.linear(
                x, packed: packedCodes, absmaxCodes: absmax.codes, absmaxScales: absmax.scales,
                absmaxTable: tables.dynamic8Bit, absmaxOffset: absmax.offset,
                absmaxBlockSize: DoubleQuantizedAbsmax.blockSize, codebook: tables.nf4, blockSize: Self.blockSize,
                outFeatures: outFeatures, inFeatures: inFeatures)
        }
    }

    /// input · Wᵀ (+ bias) for the NF4 weight (`outFeatures`, inFeatures) given by its codes and f32
    /// absmax — several layers' joined — computed in `computeDType`, returned in the input's dtype.
    func linear(_ input: Tensor, packed: Tensor, absmax: Tensor, outFeatures: Int, bias: Tensor?) throws -> Tensor {
        try computing(input, bias: bias) { x in
            try Quantization4Bit.linear(
                x, packed: packed, absmax: absmax, codebook: tables.nf4, blockSize: Self.blockSize,
                outFeatures: outFeatures, inFeatures: inFeatures)
        }
    }

    /// `product` of the input in `computeDType`, plus the bias, back in the input's dtype.
    private func computing(_ input: Tensor, bias: Tensor?, _ product: (Tensor) throws -> Tensor) throws -> Tensor {
        let x = try input.dtype == computeDType ? input : input.to(computeDType)
        var y = try product(x)
        if let bias { y = try y + bias }
        return try y.dtype == input.dtype ? y : y.to(input.dtype)
    }

    /// The dequantised weight (outFeatures, inFeatures) in `dtype` (for merging an adapter and export).
    public func denseWeight(dtype: DType) throws -> Tensor {
        try withNoGrad {
            try Quantization4Bit.dequantize(
                packed: packedCodes, absmax: blockAbsmax(), codebook: tables.nf4, blockSize: Self.blockSize,
                shape: [outFeatures, inFeatures], dtype: dtype)
        }
    }

    /// The absmax of every 64-block as forward uses them (dequantised from 8 bits), f32.
    public func blockAbsmax() throws -> Tensor {
        try withNoGrad { try absmax.dequantize(code: tables.dynamic8Bit) }
    }

    /// Codes, 8-bit absmax codes, their f32 scales and offset, and the bias if any (as DenseLinear counts
    /// it) — not the 16- and 256-entry code tables every layer shares.
    public var residentBytes: Int { packedCodes.byteCount + absmax.residentBytes + (bias?.byteCount ?? 0) }

    /// outFeatures × inFeatures.
    public var parameterCount: Int { outFeatures * inFeatures }
}

/// The code tables every NF4Linear reads: built once per process and shared.
final class NF4Tables: Sendable {
    /// The 16 NF4 levels (f32).
    let nf4: Tensor
    /// bitsandbytes' signed 8-bit dynamic code (f32, 256).
    let dynamic8Bit: Tensor

    private init() throws {
        nf4 = try Tensor(Quantization4Bit.nf4Levels)
        dynamic8Bit = try Tensor(DynamicCode8Bit.values)
    }

    static let shared = Result { try NF4Tables() }
}
