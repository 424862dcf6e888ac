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
        subcommands: [TorchInfo.self, ExecStage.self]
    )
}

struct TorchInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torch-info", abstract: "Show the linked libtorch: version, CUDA, threads.")

    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let version = try TorchRuntime.version()
        let cuda = try TorchRuntime.cudaIsAvailable()
        let threads = try TorchRuntime.numThreads()
        if json {
            let object: [String: Any] = ["libtorch": version, "cuda": cuda, "threads": threads]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("libtorch \(version)\ncuda      \(cuda ? "available" : "not available")\nthreads   \(threads)")
        }
    }
}
