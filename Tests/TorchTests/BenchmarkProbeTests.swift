// BenchmarkProbeTests — the in-process probes return real measurements (no timing thresholds here:
// figures are quoted from bench/, never asserted).
import Testing
import Torch

@Test func matmulProbeMeasuresAPositiveRate() throws {
    let gflops = try Benchmarks.fp32MatmulGFLOPS(size: 128, runs: 3)
    #expect(gflops.isFinite && gflops > 0)
    let overhead = try Benchmarks.opOverheadMicroseconds(iterations: 100)
    #expect(overhead.isFinite && overhead > 0)
    let dequantize = try Benchmarks.dequantize4Bit(rows: 64, columns: 64, runs: 1)
    #expect(dequantize.fusedMilliseconds > 0 && dequantize.compositeMilliseconds > 0)
    let norm = try Benchmarks.rmsNorm(rows: 16, hidden: 32, runs: 1)
    #expect(norm.fusedMilliseconds > 0 && norm.compositeMilliseconds > 0)
    let retained = try Benchmarks.linear4BitRetainedMegabytes(layers: 2, hidden: 128, batch: 2)
    #expect(retained.fused.isFinite && retained.composite.isFinite)
}
