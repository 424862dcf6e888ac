// Benchmarks — in-process probes of the tensor layer that bench/ runs through `loom-bench`: the fixed
// cost of one op through the shim, fused-vs-composite kernels, and the resident set. (The fp32 GEMM rate,
// the peak MFU is measured against, is torch-info's check: `TorchRuntime.fp32MatmulGFLOPS`.)
import Foundation
import LoomCore
import Torch
#if canImport(Glibc)
import Glibc
#endif

enum Benchmarks {
    /// Microseconds one small op costs end to end (Swift → shim → ATen dispatch → a new handle), measured
    /// on a 16-element add: the floor under every op of a model, however small.
    static func opOverheadMicroseconds(iterations: Int = 20_000) throws -> Double {
        let x = try Tensor.ones([16])
        let y = try Tensor.ones([16])
        let seconds = try withNoGrad {
            try medianSeconds(runs: 5) { for _ in 0..<iterations { _ = try x.add(y) } }
        }
        return seconds / Double(iterations) * 1e6
    }

    /// Milliseconds to dequantise one rows × cols NF4 weight (block 64; rows × cols a multiple of 64) to f32: the fused kernel
    /// (`Quantization4Bit.dequantize`) and the same arithmetic as a composite of tensor ops — the
    /// measurement that justifies the fused kernel.
    static func dequantize4Bit(
        rows: Int = 1376, columns: Int = 512, runs: Int = 9
    ) throws -> (fusedMilliseconds: Double, compositeMilliseconds: Double) {
        let weight = try Tensor.randn([rows, columns], generator: Generator(seed: 0))
        let codebook = try Tensor(Quantization4Bit.nf4Levels)
        let (packed, absmax) = try Quantization4Bit.quantize(weight, codebook: codebook)
        let fused = try withNoGrad {
            try medianSeconds(runs: runs) {
                _ = try Quantization4Bit.dequantize(packed: packed, absmax: absmax, codebook: codebook, shape: [rows, columns])
            }
        }
        let composite = try withNoGrad {
            try medianSeconds(runs: runs) {
                let codes = try Tensor.stack([packed.shiftRight(4), packed.bitwiseAnd(15)], dim: 1).to(.int64)
                let levels = try codebook.gather(dim: 0, index: codes.flatten()).reshape([-1, 64])
                _ = try (levels * absmax.unsqueeze(1)).reshape([rows, columns])
            }
        }
        return (fused * 1e3, composite * 1e3)
    }

    /// Milliseconds for RMSNorm forward + backward (gradient to the input only, the weight frozen as in
    /// LoRA) on rows × hidden f32: the fused `rmsNorm` and the composite of tensor ops.
    static func rmsNorm(
        rows: Int = 2048, hidden: Int = 512, runs: Int = 9
    ) throws -> (fusedMilliseconds: Double, compositeMilliseconds: Double) {
        let generator = try Generator(seed: 0)
        let input = try Tensor.randn([rows, hidden], generator: generator).setRequiresGrad()
        let weight = try Tensor.normal([hidden], mean: 1, std: 0.1, generator: generator)
        let upstream = try Tensor.randn([rows, hidden], generator: generator)
        func time(_ norm: () throws -> Tensor) throws -> Double {
            try medianSeconds(runs: runs) {
                try norm().backward(upstream)
                try input.clearGrad()
            } * 1e3
        }
        let fused = try time { try input.rmsNorm(weight: weight, eps: 1e-5) }
        let composite = try time { try weight * (input * (input.pow(2).mean(dims: [-1], keepDim: true) + 1e-5).rsqrt()) }
        return (fused, composite)
    }

    /// Milliseconds for causal self-attention over q, k, v (batch, heads, seq, dim) f32 — forward alone,
    /// and forward + backward with gradients to q, k and v — through PyTorch's SDPA and through Loom's
    /// block kernel (`causalAttention`, ModelKernels.fusedAttention). The two take turns, run by run.
    static func causalAttention(
        batch: Int = 8, heads: Int = 8, sequence: Int = 256, dim: Int = 64, runs: Int = 9
    ) throws -> [String: (forward: Double, forwardBackward: Double)] {
        let generator = try Generator(seed: 0)
        let (q, k, v) = (try Tensor.randn([batch, heads, sequence, dim], generator: generator).setRequiresGrad(),
                         try Tensor.randn([batch, heads, sequence, dim], generator: generator).setRequiresGrad(),
                         try Tensor.randn([batch, heads, sequence, dim], generator: generator).setRequiresGrad())
        let upstream = try Tensor.randn([batch * sequence, heads * dim], generator: generator)
        let kernels: [String: () throws -> Tensor] = [
            // SDPA returns (B, H, T, D); the block kernel (B·T, H·D) token-major, as the model uses each.
            "sdpa": { try scaledDotProductAttention(q: q, k: k, v: v, isCausal: true).transpose(1, 2).reshape([batch * sequence, heads * dim]) },
            "block": { try Torch.causalAttention(q: q, k: k, v: v) },
        ]
        var forward: [String: [Double]] = [:], forwardBackward: [String: [Double]] = [:]
        for run in 0...runs {
            for (name, attention) in kernels.sorted(by: { $0.key < $1.key }) {
                let forwardSeconds = try Timing.seconds { _ = try withNoGrad { try attention() } }
                let bothSeconds = try Timing.seconds {
                    try attention().backward(upstream)
                    for tensor in [q, k, v] { try tensor.clearGrad() }
                }
                guard run > 0 else { continue }  // the first turn warms up
                forward[name, default: []].append(forwardSeconds * 1e3)
                forwardBackward[name, default: []].append(bothSeconds * 1e3)
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return kernels.keys.reduce(into: [:]) { result, name in
            result[name] = (median(forward[name]!), median(forwardBackward[name]!))
        }
    }

    /// Megabytes of resident memory held between forward and backward by `layers` stacked
    /// hidden × hidden NF4 linear layers (input batch × hidden, requiring grad): with the fused
    /// `Quantization4Bit.linear` and with `dequantize` followed by `linear` (whose graph keeps every
    /// dequantised f32 weight alive until backward).
    ///
    /// Fixes glibc's mmap threshold at 128 KiB for the rest of the process: with its default dynamic
    /// threshold, freed multi-megabyte blocks stay in the heap and the resident set stops tracking what
    /// is alive. Run it after timing probes.
    static func linear4BitRetainedMegabytes(
        layers: Int = 8, hidden: Int = 2048, batch: Int = 16
    ) throws -> (fused: Double, composite: Double) {
        fixMmapThreshold(bytes: 128 * 1024)
        let generator = try Generator(seed: 0)
        let codebook = try Tensor(Quantization4Bit.nf4Levels)
        let weights = try (0..<layers).map { _ in
            try Quantization4Bit.quantize(Tensor.randn([hidden, hidden], generator: generator) * 0.02, codebook: codebook)
        }
        let input = try Tensor.randn([batch, hidden], generator: generator).setRequiresGrad()
        func retained(_ layer: (Tensor, (packed: Tensor, absmax: Tensor)) throws -> Tensor) throws -> Double {
            let before = try residentMegabytes()
            var x = input
            for weight in weights { x = try layer(x, weight) }
            let held = try residentMegabytes() - before
            try x.sum().backward()
            try input.clearGrad()
            return held
        }
        let fused = try retained { x, w in
            try Quantization4Bit.linear(x, packed: w.packed, absmax: w.absmax, codebook: codebook, outFeatures: hidden, inFeatures: hidden)
        }
        let composite = try retained { x, w in
            try x.linear(weight: Quantization4Bit.dequantize(packed: w.packed, absmax: w.absmax, codebook: codebook, shape: [hidden, hidden]))
        }
        return (fused, composite)
    }

    /// glibc's `mallopt(M_MMAP_THRESHOLD, bytes)`, found at run time (Swift's Glibc module does not
    /// export malloc.h). Fixing the threshold also turns off its dynamic growth.
    private static func fixMmapThreshold(bytes: Int32) {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mmapThreshold: Int32 = -3
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, bytes)
    }

    /// This process's resident set in megabytes (Linux: /proc/self/statm).
    static func residentMegabytes() throws -> Double {
        let fields = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { throw TorchError("cannot read /proc/self/statm") }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    static func medianSeconds(runs: Int, _ body: () throws -> Void) throws -> Double {
        try Timing.medianSeconds(runs: runs, body)
    }
}
