// BenchmarkProbeTests — the probes of `loom-bench torch-ops` (bench/torch-ops) return real measurements,
// run at small sizes in a process of their own (no timing thresholds here: figures are quoted from
// bench/, never asserted); and torch-info's GEMM check measures a positive rate.
import Foundation
import TestSupport
import Testing
import Torch

@Test func torchOpsProbesMeasure() throws {
    let result = try runProcess(TestPaths.executable("loom-bench"), ["torch-ops", "--quick"])
    try #require(result.status == 0, "loom-bench torch-ops exited \(result.status): \(result.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
    let gflops = try #require(object["fp32_matmul_gflops"] as? Double)
    #expect(gflops.isFinite && gflops > 0)
    let overhead = try #require(object["op_overhead_us"] as? Double)
    #expect(overhead.isFinite && overhead > 0)
    for key in ["nf4_dequantize_small_ms", "nf4_dequantize_large_ms", "rms_norm_forward_backward_ms"] {
        let pair = try #require(object[key] as? [String: Double], "\(key): \(result.stdout)")
        #expect((pair["fused"] ?? 0) > 0 && (pair["composite"] ?? 0) > 0, "\(key)")
    }
    let attention = try #require(object["causal_attention_ms"] as? [String: [String: Double]], "\(result.stdout)")
    #expect(Set(attention.keys) == ["sdpa", "block"])
    for (kernel, times) in attention {
        #expect((times["forward"] ?? 0) > 0 && (times["forward_backward"] ?? 0) > 0, "\(kernel)")
    }
    let retained = try #require(object["nf4_linear_retained_mb"] as? [String: Double])
    #expect(retained["fused"]?.isFinite == true && retained["composite"]?.isFinite == true)
}

@Test func theGEMMCheckMeasuresAPositiveRate() throws {
    let gflops = try TorchRuntime.fp32MatmulGFLOPS(size: 128, runs: 3)
    #expect(gflops.isFinite && gflops > 0)
}
