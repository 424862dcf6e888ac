// LoomTorch — model verbs (reached directly or through `loom VERB`) and model stage kinds.
import ArgumentParser
import Foundation
import LoomCore
import Torch

struct LoomTorch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loom-torch",
        abstract: "Loom's model verbs; `loom` forwards these here so that it never loads libtorch itself.",
        version: LoomVersion.string,
        subcommands: [TorchInfo.self, Score.self, Generate.self, Merge.self, ExecStage.self, ProbeLoRAStep.self, BenchLoRATrain.self, ProbeTensorChurn.self]
    )
}

struct TorchInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torch-info",
        abstract: "Show the linked libtorch: version, where it was loaded from, BLAS, CPU capability, devices, threads.")

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also measure the fp32 GEMM rate (2048² matmul), the per-op overhead and NF4 dequantisation.")
    var benchmark = false

    func run() throws {
        let version = try TorchRuntime.version()
        let location = try TorchRuntime.libraryLocation()
        let blas = try TorchRuntime.buildSetting("BLAS_INFO") ?? "unknown"
        let capability = try TorchRuntime.buildConfiguration().split(separator: "\n")
            .first { $0.contains("CPU capability usage:") }
            .map { String($0.split(separator: ":").last!).trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let cuda = try TorchRuntime.cudaIsAvailable()
        let cudaDevices = cuda ? try TorchRuntime.cudaDeviceCount() : 0
        let threads = try TorchRuntime.numThreads()
        var object: [String: Any] = [
            "libtorch": version, "library": location.loaded, "built_against": location.builtAgainst, "blas": blas,
            "cpu_capability": capability, "cuda": cuda, "cuda_devices": cudaDevices, "threads": threads,
        ]
        let devices = ["cpu"] + (0..<cudaDevices).map { "cuda:\($0)" }
        var lines = [
            "libtorch  \(version)",
            "library   \(location.loaded)",
            "blas      \(blas)",
            "cpu       \(capability)",
            "cuda      \(cuda ? "available, \(cudaDevices) device(s)" : "not available")",
            "devices   \(devices.joined(separator: ", "))",
            "threads   \(threads)",
        ]
        if benchmark {
            let gflops = try Benchmarks.fp32MatmulGFLOPS(size: 2048)
            let overhead = try Benchmarks.opOverheadMicroseconds()
            let small = try Benchmarks.dequantize4Bit(rows: 1376, columns: 512)
            let large = try Benchmarks.dequantize4Bit(rows: 5632, columns: 2048)
            let norm = try Benchmarks.rmsNorm()
            let retained = try Benchmarks.linear4BitRetainedMegabytes()
            object["rms_norm_2048x512_forward_backward_ms"] = ["fused": rounded(norm.fusedMilliseconds), "composite": rounded(norm.compositeMilliseconds)]
            object["fp32_matmul_2048_gflops"] = rounded(gflops)
            object["op_overhead_us"] = rounded(overhead)
            object["nf4_dequantize_1376x512_ms"] = ["fused": rounded(small.fusedMilliseconds), "composite": rounded(small.compositeMilliseconds)]
            object["nf4_dequantize_5632x2048_ms"] = ["fused": rounded(large.fusedMilliseconds), "composite": rounded(large.compositeMilliseconds)]
            object["nf4_linear_8x2048_retained_mb"] = ["fused": rounded(retained.fused), "composite": rounded(retained.composite)]
            lines += [
                "fp32 GEMM 2048²                   \(rounded(gflops)) GFLOP/s",
                "one small op                      \(rounded(overhead)) µs",
                "NF4 dequantise 1376×512           \(rounded(small.fusedMilliseconds)) ms fused, \(rounded(small.compositeMilliseconds)) ms composite",
                "NF4 dequantise 5632×2048          \(rounded(large.fusedMilliseconds)) ms fused, \(rounded(large.compositeMilliseconds)) ms composite",
                "RMSNorm 2048×512 forward+backward \(rounded(norm.fusedMilliseconds)) ms fused, \(rounded(norm.compositeMilliseconds)) ms composite",
                "NF4 linear ×8 2048², kept for bw  \(rounded(retained.fused)) MB fused, \(rounded(retained.composite)) MB composite",
            ]
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(lines.joined(separator: "\n"))
        }
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
