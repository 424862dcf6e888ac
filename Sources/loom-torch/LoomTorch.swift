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
        subcommands: [TorchInfo.self]
    )
}

struct TorchInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torch-info", abstract: "Show the linked libtorch: version, CUDA, threads.")

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also measure the fp32 GEMM rate (2048² matmul), the per-op overhead and NF4 dequantisation.")
    var benchmark = false

    func run() throws {
        var object: [String: Any] = [
            "libtorch": try TorchRuntime.version(),
            "cuda": try TorchRuntime.cudaIsAvailable(),
            "threads": try TorchRuntime.numThreads(),
        ]
        if benchmark {
            object["fp32_matmul_2048_gflops"] = rounded(try Benchmarks.fp32MatmulGFLOPS(size: 2048))
            object["op_overhead_us"] = rounded(try Benchmarks.opOverheadMicroseconds())
            let small = try Benchmarks.dequantize4Bit(rows: 1376, columns: 512)
            let large = try Benchmarks.dequantize4Bit(rows: 5632, columns: 2048)
            object["nf4_dequantize_1376x512_ms"] = ["fused": rounded(small.fusedMilliseconds), "composite": rounded(small.compositeMilliseconds)]
            object["nf4_dequantize_5632x2048_ms"] = ["fused": rounded(large.fusedMilliseconds), "composite": rounded(large.compositeMilliseconds)]
            let retained = try Benchmarks.linear4BitRetainedMegabytes()
            object["nf4_linear_8x2048_retained_mb"] = ["fused": rounded(retained.fused), "composite": rounded(retained.composite)]
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for key in object.keys.sorted() { print("\(key.padding(toLength: 28, withPad: " ", startingAt: 0)) \(object[key]!)") }
        }
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
