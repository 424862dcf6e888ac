// `loom-bench parity` — the same model on the CPU and on a device: loss and logits of one batch of token
// sequences (the GPU check's first figure: CUDA against the CPU in f32), and the device's logits written
// as safetensors for a comparison with transformers on the same device (bench/gpu/hf_parity.py).
import ArgumentParser
import Foundation
import LLM
import Torch

struct Parity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity", abstract: "Loss and logits of a model on the CPU and on a device, compared (JSON).")

    @Option(help: "A Hugging Face model directory.") var model: String
    @Option(help: "A JSON array of equally long token-id arrays (e.g. a fixture's input_ids.json).") var tokens: String
    @Option(help: "A PEFT adapter directory to apply on both sides.") var adapter: String?
    @Option(help: "The device compared with the CPU: auto, cpu, cuda or cuda:N.") var device = "auto"
    @Option(help: "Write the device's logits here (safetensors, key `logits`).") var logitsOut: String?

    func run() throws {
        let device = try Device.resolve(self.device)
        let rows = try JSONDecoder().decode([[Int64]].self, from: Data(contentsOf: URL(fileURLWithPath: tokens)))
        guard let width = rows.first?.count, rows.allSatisfy({ $0.count == width }), width > 1 else {
            throw ValidationError("\(tokens): expected a JSON array of equally long token-id arrays (2 ids or more)")
        }
        let ids = try Tensor(rows.flatMap { $0 }, shape: [rows.count, width])
        func measure(on device: Device) throws -> (loss: Double, logits: Tensor) {
            let loaded = try loadCausalLM(from: URL(fileURLWithPath: model), adapter: adapter.map { URL(fileURLWithPath: $0) }, device: device)
            return try withNoGrad {
                (try loaded.loss(tokens: ids, labels: ids).scalar(Double.self), try loaded.logits(tokens: ids).to(.cpu))
            }
        }
        let cpu = try measure(on: .cpu)
        let other = try measure(on: device)
        let difference = try (other.logits.to(.float64) - cpu.logits.to(.float64)).abs().amax().scalar(Double.self)
        if let logitsOut {
            try SafeTensors.write(["logits": other.logits.contiguous()], to: URL(fileURLWithPath: logitsOut))
        }
        let object: [String: Any] = [
            "device": device.description, "libtorch": try TorchRuntime.version(),
            "loss_cpu": cpu.loss, "loss_device": other.loss, "loss_difference": abs(cpu.loss - other.loss),
            "max_abs_logit_difference": difference, "shape": [rows.count, width],
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
