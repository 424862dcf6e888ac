// `loom-bench probe-tensor-churn` — creates and frees tensors in rounds and prints, as JSON, the
// resident set before and after each round. The instrument TorchTests' memory test runs: in a process
// of its own, no other test's allocations land inside a round. Hidden from help.
import ArgumentParser
import Foundation
import Torch

struct ProbeTensorChurn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-tensor-churn",
        abstract: "Create and free tensors in rounds; print the resident set around each round as JSON (developer probe).",
        shouldDisplay: false)

    @Option(help: "Tensors of 256 floats created per round, each with one product (so twice as many handles).")
    var tensors = 50_000
    @Option(help: "Measured rounds, after one warm-up round that pays for allocator pools and lazy initialisation.")
    var rounds = 3

    func run() throws {
        func round() throws {
            for i in 0..<tensors {
                let t = try Tensor.full([256], value: i)
                let u = try t * 2
                precondition(u.count == 256)
            }
        }
        try round()
        var measured: [[String: Double]] = []
        for _ in 0..<max(1, rounds) {
            let before = try Benchmarks.residentMegabytes()
            try round()
            let after = try Benchmarks.residentMegabytes()
            measured.append(["before_mb": before, "after_mb": after, "growth_mb": after - before])
        }
        let object: [String: Any] = ["tensors_per_round": tensors * 2, "rounds": measured]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
