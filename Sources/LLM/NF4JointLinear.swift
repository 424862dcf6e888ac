// NF4JointLinear — NF4 projections of the same input (q/k/v, gate/up) computed as one, as a model fuses
// their dense weights: the parts' 4-bit codes are moved side by side into one tensor (each part keeps a
// view of its rows, so nothing is stored twice) and their absmax, each double-quantised on its own as
// bitsandbytes quantises each weight, are concatenated per call; one fused 4-bit GEMM then covers every
// row. Same numbers as the parts one by one, in one GEMM of the joined width instead of several narrow
// ones, and one output the model splits or reads whole.
//
// Joining pays where the parts' GEMMs are narrow (hidden 512: 512→512 runs far below the GEMM peak,
// 512→1536 near it) and costs memory where they are wide: the joined absmax go to the kernel as f32
// (the parts' double quantisations differ) and are kept until backward — four times the bytes of the
// 8-bit codes a single NF4Linear keeps (gate+up of a hidden-2048 layer: 1.4 MB instead of 0.36 MB).
// Groups whose joined weight would exceed `maximumJoinedWeightBytes` stay separate.
import Torch

public final class NF4JointLinear: BaseLinear {
    /// The largest dequantised joined weight (in the compute dtype) a group is joined for.
    public static let maximumJoinedWeightBytes = 16 << 20

    public let parts: [NF4Linear]
    public let inFeatures: Int
    public let outFeatures: Int
    public let bias: Tensor?
    private let packedCodes: Tensor

    /// Joins `bases` when they are two or more NF4Linear over the same input, in the same compute dtype,
    /// each a whole number of 64-blocks, all with a bias or none, and their joined weight is at most
    /// `maximumJoinedWeightBytes`; nil otherwise.
    public init?(joining bases: [any BaseLinear]) {
        let parts = bases.compactMap { $0 as? NF4Linear }
        guard parts.count == bases.count, parts.count > 1, let first = parts.first,
              parts.allSatisfy({
                  $0.inFeatures == first.inFeatures && $0.computeDType == first.computeDType
                      && $0.parameterCount % NF4Linear.blockSize == 0 && ($0.bias == nil) == (first.bias == nil)
              }),
              parts.reduce(0, { $0 + $1.parameterCount }) * first.computeDType.elementSize <= Self.maximumJoinedWeightBytes,
              let joined = try? Tensor.cat(parts.map(\.packedCodes), dim: 0)
        else { return nil }
        if first.bias != nil {
            guard let bias = try? Tensor.cat(parts.compactMap(\.bias), dim: 0) else { return nil }
            self.bias = bias
        } else {
            self.bias = nil
        }
        var offset = 0
        for part in parts {
            let count = part.packedCodes.count
            guard let view = try? joined.narrow(dim: 0, start: offset, length: count) else { return nil }
            part.packedCodes = view
            offset += count
        }
        self.parts = parts
        self.packedCodes = joined
        self.inFeatures = first.inFeatures
        self.outFeatures = parts.reduce(0) { $0 + $1.outFeatures }
    }

    /// (…, inFeatures) → (…, Σ outFeatures): the parts' outputs side by side, in the input's dtype.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let absmax = try Tensor.cat(parts.map { try $0.blockAbsmax() }, dim: 0)
        return try parts[0].linear(input, packed: packedCodes, absmax: absmax, outFeatures: outFeatures, bias: bias)
    }

    /// The parts' weights stacked, (Σ outFeatures, inFeatures).
    public func denseWeight(dtype: DType) throws -> Tensor {
        try Tensor.cat(parts.map { try $0.denseWeight(dtype: dtype) }, dim: 0)
    }

    /// The parts' storage (their codes are views of the joined tensor, counted once).
    public var residentBytes: Int { parts.reduce(0) { $0 + $1.residentBytes } }
}
