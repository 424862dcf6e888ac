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
        subcommands: [TorchInfo.self, Score.self, Generate.self, Merge.self, ImportGGUF.self, ExportGGUF.self, ExecStage.self]
    )
}

struct TorchInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torch-info",
        abstract: "Show the linked libtorch: version, where it was loaded from, BLAS, CPU capability, devices, threads.")

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also measure the fp32 GEMM rate (2048² matmul): what this machine's libtorch achieves. (bench/torch-ops measures the rest.)")
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
        // The CUDA version this libtorch was built for (nil: a CPU-only build), from its build settings.
        let cudaBuild = try TorchRuntime.buildSetting("CUDA_VERSION").flatMap { $0.isEmpty ? nil : $0 }
        let cudaLine = cuda ? "available, \(cudaDevices) device(s), CUDA \(cudaBuild ?? "?") build"
            : cudaBuild.map { "not available: a CUDA \($0) build of libtorch that sees no device (no GPU, or no driver)" }
            ?? "not available: a CPU-only build of libtorch"
        let threads = try TorchRuntime.numThreads()
        // Loom's own CPU kernels (RMSNorm, SwiGLU, attention, NF4) split their loops over these threads.
        let loop = try TorchRuntime.parallelLoopCheck(items: max(threads, 1) * 4)
        let backends = ProcessGroupBackend.available.map(\.rawValue)
        var object: [String: Any] = [
            "libtorch": version, "library": location.loaded, "built_against": location.builtAgainst, "blas": blas,
            "cpu_capability": capability, "cuda": cuda, "cuda_devices": cudaDevices, "cuda_build": cudaBuild ?? NSNull(),
            "threads": threads, "kernel_threads": loop.threads, "kernel_loop": loop.openMP ? "openmp" : "aten",
            "process_group_backends": backends,
        ]
        let devices = ["cpu"] + (0..<cudaDevices).map { "cuda:\($0)" }
        var lines = [
            "libtorch  \(version)",
            "library   \(location.loaded)",
            "blas      \(blas)",
            "cpu       \(capability)",
            "cuda      \(cudaLine)",
            "devices   \(devices.joined(separator: ", "))",
            "threads   \(threads) (Loom's kernels: \(loop.threads), \(loop.openMP ? "through libtorch's OpenMP runtime" : "through ATen's parallel_for"))",
            "parallel  \(backends.isEmpty ? "no process-group backend (data parallelism needs Gloo's headers when the shim is built)" : backends.joined(separator: ", "))",
        ]
        if benchmark {
            let gflops = try TorchRuntime.fp32MatmulGFLOPS(size: 2048)
            object["fp32_matmul_2048_gflops"] = rounded(gflops)
            lines.append("fp32 GEMM 2048²  \(rounded(gflops)) GFLOP/s")
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
