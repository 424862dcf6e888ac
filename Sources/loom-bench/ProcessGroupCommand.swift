// `loom-bench process-group` — the data-parallel path on one device with one rank: what the GPU check
// can run of it, since two ranks cannot share one GPU (NCCL refuses). It joins a c10d process group of
// one (TCPStore on this host, Gloo on the CPU, NCCL on CUDA), all-reduces a tensor on the device, and
// trains a few LoRA steps of a tiny random Llama with the group and without it: with one rank the
// all-reduce is an identity, so the losses must agree exactly. Prints one JSON object.
import ArgumentParser
import Foundation
import LLM
import LoomCore
import Torch

struct ProcessGroupCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process-group", abstract: "One rank's process group on a device: an all-reduce and LoRA steps with and without it (JSON).")

    @Option(help: "auto, cpu, cuda or cuda:N.") var device = "auto"
    @Option(help: "Training steps with and without the group.") var steps = 3

    func run() throws {
        let device = try Device.resolve(self.device)
        let backend = ProcessGroupBackend.for(device)
        let started = Date()
        let group = try ProcessGroup(
            host: "127.0.0.1", port: try FreePort.onLoopback(), rank: 0, worldSize: 1, backend: backend, timeoutSeconds: 60)
        let joinSeconds = Date().timeIntervalSince(started)
        let values = try Tensor([Float](repeating: 1.5, count: 1 << 20)).to(device)
        let reduceStart = Date()
        try group.allReduce([values], scale: 0.5)
        let reduceSeconds = Date().timeIntervalSince(reduceStart)
        let reduced = try values.to(Device.cpu).toArray(Float.self)
        guard reduced.allSatisfy({ $0 == 0.75 }) else { throw ValidationError("the all-reduce gave \(reduced.prefix(4)), expected 0.75 everywhere") }

        func losses(with group: ProcessGroup?) throws -> [Double] {
            let config = ModelConfig(hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 4,
                                     numKeyValueHeads: 2, vocabSize: 256, maxPositionEmbeddings: 32)
            let model = try DecoderModel.random(config: config, seed: 1, device: device)
            try model.applyLoRA(LoRAConfiguration(rank: 4, alpha: 8, targets: LoRATarget.allCases), seed: 2)
            let tokens = (0..<(16 * 32)).map { ($0 * 7919) % 256 }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loom-bench-process-group-\(getpid())-\(group == nil ? 0 : 1)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let trainer = try Trainer(
                model: model,
                configuration: TrainingConfiguration(
                    sequenceLength: 32, microBatchSize: 2, duration: .steps(steps), optimizer: .init(learningRate: 1e-3, weightDecay: 0),
                    schedule: .constant),
                training: PackedTokens(tokens: tokens, sequenceLength: 32, name: "pattern tokens"), checkpointDirectory: directory,
                generators: ["lora_dropout": model.dropoutGenerator!], group: group)
            return try trainer.train().history.map(\.loss)
        }
        let plain = try losses(with: nil)
        let grouped = try losses(with: group)
        let object: [String: Any] = [
            "device": device.description, "backend": backend.rawValue, "world_size": 1, "join_seconds": joinSeconds,
            "all_reduce_4mb_ms": reduceSeconds * 1000, "losses": grouped, "losses_match_without_group": plain == grouped,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
