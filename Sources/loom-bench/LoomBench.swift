// LoomBench — the measuring instruments of bench/ and of the tests that need a process of their own:
// LoRA/QLoRA training of a random Llama (bench-lora-train), a model on the CPU against a device (parity),
// per-phase step timing (probe-lora-step),
// the tensor layer's figures (torch-ops), and tensor churn around the resident set (probe-tensor-churn).
// Each prints JSON. Kept out of `loom-torch`, so the shipped model verbs carry no benchmark code.
import ArgumentParser
import Foundation
import LoomCore
import Torch

struct LoomBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loom-bench",
        abstract: "Loom's benchmark instruments (run by bench/*/run); each prints JSON.",
        version: LoomVersion.string,
        subcommands: [BenchLoRATrain.self, Parity.self, ProbeLoRAStep.self, TorchOps.self, ProbeTensorChurn.self, ProcessGroupCheck.self]
    )
}

/// `loom-bench torch-ops` — the tensor layer's figures: the fp32 GEMM rate (torch-info's check), the
/// fixed cost of one op through the shim, NF4 dequantisation and RMSNorm fused against composite, and
/// what NF4 linear layers keep for backward.
struct TorchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torch-ops", abstract: "Measure the tensor layer: GEMM rate, op overhead, fused kernels (JSON).")

    @Flag(help: "Small sizes: seconds in a debug build (the tests' check that every probe measures).")
    var quick = false

    func run() throws {
        let gemmSize = quick ? 256 : 2048
        let (smallRows, smallColumns) = quick ? (64, 64) : (1376, 512)
        let (largeRows, largeColumns) = quick ? (128, 128) : (5632, 2048)
        let gflops = try TorchRuntime.fp32MatmulGFLOPS(size: gemmSize)
        let overhead = try Benchmarks.opOverheadMicroseconds(iterations: quick ? 200 : 20_000)
        let small = try Benchmarks.dequantize4Bit(rows: smallRows, columns: smallColumns, runs: quick ? 1 : 9)
        let large = try Benchmarks.dequantize4Bit(rows: largeRows, columns: largeColumns, runs: quick ? 1 : 9)
        let norm = quick ? try Benchmarks.rmsNorm(rows: 16, hidden: 32, runs: 1) : try Benchmarks.rmsNorm()
        let attention = quick ? try Benchmarks.causalAttention(batch: 1, heads: 2, sequence: 32, dim: 16, runs: 1) : try Benchmarks.causalAttention()
        let retained = quick
            ? try Benchmarks.linear4BitRetainedMegabytes(layers: 2, hidden: 128, batch: 2)
            : try Benchmarks.linear4BitRetainedMegabytes()
        func pair(_ value: (fusedMilliseconds: Double, compositeMilliseconds: Double)) -> [String: Double] {
            ["fused": rounded(value.fusedMilliseconds), "composite": rounded(value.compositeMilliseconds)]
        }
        let object: [String: Any] = [
            "libtorch": try TorchRuntime.version(), "threads": try TorchRuntime.numThreads(), "quick": quick,
            "fp32_matmul_gflops": rounded(gflops), "fp32_matmul_size": gemmSize,
            "op_overhead_us": rounded(overhead),
            "nf4_dequantize_small_ms": pair(small), "nf4_dequantize_small_shape": [smallRows, smallColumns],
            "nf4_dequantize_large_ms": pair(large), "nf4_dequantize_large_shape": [largeRows, largeColumns],
            "rms_norm_forward_backward_ms": pair(norm),
            "causal_attention_ms": attention.mapValues { ["forward": rounded($0.forward), "forward_backward": rounded($0.forwardBackward)] },
            "causal_attention_shape": quick ? [1, 2, 32, 16] : [8, 8, 256, 64],
            "nf4_linear_retained_mb": ["fused": rounded(retained.fused), "composite": rounded(retained.composite)],
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
