// GEMMCheck — the doctor's one measurement (`loom torch-info --benchmark`): the achieved fp32 GEMM rate of
// the linked libtorch with the current threads, which also is the peak that benchmarks measure MFU
// against. Every other probe lives in the bench executable (Sources/loom-bench).
import LoomCore

extension TorchRuntime {
    /// Achieved GFLOP/s of a size × size f32 matmul on the CPU with the current thread count:
    /// one warm-up product, then the median of `runs` timed products (2·size³ FLOPs each).
    public static func fp32MatmulGFLOPS(size: Int = 2048, runs: Int = 5) throws -> Double {
        let generator = try Generator(seed: 0)
        let a = try Tensor.randn([size, size], generator: generator)
        let b = try Tensor.randn([size, size], generator: generator)
        let seconds = try withNoGrad { try Timing.medianSeconds(runs: runs) { _ = try a.matmul(b) } }
        return 2 * Double(size) * Double(size) * Double(size) / seconds / 1e9
    }
}
