// RotaryEmbedding — the cos/sin tables of rotary position embeddings (Su et al. 2021) in Hugging Face's
// "rotate half" layout: dimension i < D/2 pairs with i + D/2, both rotated by position · θ^(−2i/D).
// Tables are computed in f32 exactly as transformers computes them and grown on demand; a `rope_scaling`
// (linear, llama3, yarn, longrope: RopeScaling) changes the frequencies and, for YaRN and LongRoPE, scales
// cos and sin. LongRoPE keeps a second pair of tables for sequences past the original context, and takes
// it when the positions asked for run past it (as transformers picks by the longest position).
import Torch

final class RotaryEmbedding {
    let headDim: Int
    let theta: Double
    let scaling: RopeScaling?
    /// (positions, headDim) each: cat(freqs, freqs).cos() and .sin().
    private var cosTable: Tensor
    private var sinTable: Tensor
    /// LongRoPE's long-context tables, made when first needed.
    private var longTables: (cos: Tensor, sin: Tensor)?

    let device: Device

    init(headDim: Int, theta: Double, scaling: RopeScaling? = nil, initialPositions: Int, device: Device = .cpu) throws {
        self.headDim = headDim
        self.theta = theta
        self.scaling = scaling
        self.device = device
        (cosTable, sinTable) = try Self.tables(headDim: headDim, theta: theta, scaling: scaling, positions: max(initialPositions, 1), device: device)
    }

    /// cos and sin for positions offset..<offset+count, each (count, headDim).
    func tables(offset: Int, count: Int) throws -> (cos: Tensor, sin: Tensor) {
        let needed = offset + count
        if let threshold = scaling?.longContextThreshold, needed > threshold {
            if longTables == nil || needed > longTables!.cos.shape[0] {
                longTables = try Self.tables(headDim: headDim, theta: theta, scaling: scaling, positions: max(needed, 2 * threshold),
                                             device: device, long: true)
            }
            return (try longTables!.cos.narrow(dim: 0, start: offset, length: count), try longTables!.sin.narrow(dim: 0, start: offset, length: count))
        }
        if needed > cosTable.shape[0] {
            (cosTable, sinTable) = try Self.tables(
                headDim: headDim, theta: theta, scaling: scaling, positions: max(needed, 2 * cosTable.shape[0]), device: device)
        }
        return (try cosTable.narrow(dim: 0, start: offset, length: count), try sinTable.narrow(dim: 0, start: offset, length: count))
    }

    /// cos and sin at per-row `positions` (B, T) int64 (each below `count`), each (B, T, headDim): packed
    /// documents whose positions restart at each document.
    func tables(positions: Tensor, count: Int) throws -> (cos: Tensor, sin: Tensor) {
        let (cos, sin) = try tables(offset: 0, count: count)
        let shape = positions.shape
        let flat = try positions.reshape([-1])
        return (try cos.indexSelect(dim: 0, index: flat).reshape(shape + [headDim]),
                try sin.indexSelect(dim: 0, index: flat).reshape(shape + [headDim]))
    }

    /// Computed on the CPU (transformers' f32 arithmetic) and then moved to `device`.
    private static func tables(
        headDim: Int, theta: Double, scaling: RopeScaling?, positions: Int, device: Device, long: Bool = false
    ) throws -> (Tensor, Tensor) {
        try withNoGrad {
            // inv_freq = 1 / θ^(arange(0, D, 2) / D), in f32 like transformers' default rope init.
            let exponents = try Tensor.arange(0, headDim, step: 2, dtype: .int64).to(.float32) / Double(headDim)
            let powers = try Tensor.pow(theta, exponents)
            var inverseFrequencies = try 1.0 / powers
            if let scaling {
                let scaled = scaling.inverseFrequencies(powers: try powers.toArray(Float.self), headDim: headDim, theta: theta, long: long)
                inverseFrequencies = try Tensor(scaled)
            }
            let positionsColumn = try Tensor.arange(positions, dtype: .int64).to(.float32).reshape([positions, 1])
            let frequencies = try positionsColumn * inverseFrequencies.reshape([1, headDim / 2])
            let angles = try Tensor.cat([frequencies, frequencies], dim: 1)
            let attentionScaling = scaling?.attentionScaling ?? 1
            let (cos, sin) = attentionScaling != 1
                ? (try angles.cos() * attentionScaling, try angles.sin() * attentionScaling) : (try angles.cos(), try angles.sin())
            return (try cos.contiguous().to(device), try sin.contiguous().to(device))
        }
    }
}

extension RotaryEmbedding {
    /// Rotates the heads of x (B, T, heads, D) — any strides, e.g. a column block of a fused projection —
    /// and returns them head-major, (B, heads, T, D) contiguous, as attention wants them.
    /// `cos`/`sin` are (T, D) tables from `tables(offset:count:)`, or (B, T, D) per-row tables from
    /// `tables(positions:count:)`.
    static func rotate(_ x: Tensor, cos: Tensor, sin: Tensor) throws -> Tensor {
        let shape = x.shape
        let (length, headDim) = (shape[1], shape[3])
        let half = headDim / 2
        let first = try x.narrow(dim: 3, start: 0, length: half)
        let second = try x.narrow(dim: 3, start: half, length: half)
        let rotated = try Tensor.cat([second.neg(), first], dim: 3)
        let rows = cos.rank == 3 ? cos.shape[0] : 1
        let c = try cos.reshape([rows, length, 1, headDim])
        let s = try sin.reshape([rows, length, 1, headDim])
        return try (x * c + rotated * s).transpose(1, 2).contiguous()
    }
}
