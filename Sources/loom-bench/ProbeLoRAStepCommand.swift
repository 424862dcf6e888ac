// `loom-bench probe-lora-step` — a developer probe of the model's training speed: LoRA steps (loss,
// backward, AdamW) on a random Llama, timed per phase, with fused kernels switched off one by one to
// measure what each gives. Hidden from help: bench/lora-train is the benchmark people run; this is the
// instrument used while making the model fast.
import ArgumentParser
import Foundation
import LLM
import Torch

struct ProbeLoRAStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-lora-step", abstract: "Time LoRA training steps of a random Llama per phase (developer probe).",
        shouldDisplay: false)

    @Option var hidden = 512
    @Option var intermediate = 1376
    @Option var layers = 8
    @Option var heads = 8
    @Option var kvHeads: Int?
    @Option var vocab = 8192
    @Option var seq = 256
    @Option var batch = 8
    @Option var rank = 16
    @Option var alpha = 32.0
    @Option(help: "Timed steps per turn of a variant (after one warm-up step).") var steps = 4
    @Option(help: "Turns each variant takes.") var rounds = 1
    @Option(help: "Comma-separated kernel variants to time in turn: fused, composite, no-<kernel> (no-attention: batched GEMMs, neither SDPA nor the block kernel), or sdpa-attention (SDPA instead of the block kernel).")
    var variants = "fused"
    @Option(help: "Write a Chrome trace of one more step (of the first variant) here.") var trace: String?

    func run() throws {
        let config = ModelConfig(
            hiddenSize: hidden, intermediateSize: intermediate, numHiddenLayers: layers, numAttentionHeads: heads,
            numKeyValueHeads: kvHeads, vocabSize: vocab, maxPositionEmbeddings: max(seq, 256))
        let model = try DecoderModel.random(config: config, seed: 0)
        try model.applyLoRA(LoRAConfiguration(rank: rank, alpha: alpha, targets: LoRATarget.allCases), seed: 0)
        model.isTraining = true
        let optimizer = try AdamW(named: model.trainableParameters, configuration: .init(weightDecay: 0))
        let tokens = try Tensor.randint(0, vocab, shape: [batch, seq], generator: Generator(seed: 1))
        // The FLOPs per token: 4·(frozen linear and head parameters) + 6·(LoRA parameters) + 12·layers·hidden·seq.
        let frozen = model.parameterCount - vocab * hidden * (config.tieWordEmbeddings ? 0 : 1) - (2 * layers + 1) * hidden
        let flopsPerToken = Double(4 * frozen + 6 * model.trainableParameterCount + 12 * layers * hidden * seq)
        let peak = try TorchRuntime.fp32MatmulGFLOPS()
        var results: [String: Any] = [
            "threads": try TorchRuntime.numThreads(), "tokens_per_step": batch * seq, "fp32_matmul_2048_gflops": round(peak),
            "flops_per_token": flopsPerToken,
        ]
        // Variants take turns, `rounds` times, so that a busy moment of the machine spreads over all of them;
        // each figure is the median over every timed step of that variant.
        let names = variants.split(separator: ",").map(String.init)
        var timings: [String: (forward: [Double], backward: [Double], update: [Double])] = [:]
        for _ in 0..<rounds {
            for variant in names {
                model.kernels = try Self.kernels(variant)
                for step in 0...steps {
                    let t0 = Date()
                    let loss = try model.loss(tokens: tokens)
                    let t1 = Date()
                    try loss.backward()
                    let t2 = Date()
                    try optimizer.step()
                    try optimizer.zeroGrad()
                    let t3 = Date()
                    guard step > 0 else { continue }  // the first step of a turn warms up
                    timings[variant, default: ([], [], [])].forward.append(t1.timeIntervalSince(t0))
                    timings[variant, default: ([], [], [])].backward.append(t2.timeIntervalSince(t1))
                    timings[variant, default: ([], [], [])].update.append(t3.timeIntervalSince(t2))
                }
            }
        }
        for (variant, timing) in timings {
            let total = zip(zip(timing.forward, timing.backward), timing.update).map { $0.0 + $0.1 + $1 }
            let tokensPerSecond = Double(batch * seq) / median(total)
            results[variant] = [
                "tokens_per_second": round(tokensPerSecond), "mfu": round(flopsPerToken * tokensPerSecond / (peak * 1e9) * 1000) / 1000,
                "forward_ms": round(median(timing.forward) * 1000), "backward_ms": round(median(timing.backward) * 1000),
                "optimizer_ms": round(median(timing.update) * 1000), "steps": total.count,
            ]
        }
        if let trace {
            model.kernels = try Self.kernels(String(variants.split(separator: ",").first ?? "fused"))
            try Profiler.record(traceTo: URL(fileURLWithPath: trace)) {
                try model.loss(tokens: tokens).backward()
                try optimizer.step()
                try optimizer.zeroGrad()
            }
        }
        let data = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    private static func kernels(_ variant: String) throws -> ModelKernels {
        switch variant {
        case "fused": return .fused
        case "composite": return .composite
        default:
            var kernels = ModelKernels.fused
            switch variant {
            case "no-projections": kernels.fusedProjections = false
            case "no-heads": kernels.fusedAttentionHeads = false
            case "no-swiglu": kernels.fusedSwiGLU = false
            case "no-cross-entropy": kernels.fusedCrossEntropy = false; kernels.fusedLinearCrossEntropy = false
            case "no-linear-cross-entropy": kernels.fusedLinearCrossEntropy = false
            case "sdpa-attention": kernels.fusedAttention = false  // PyTorch's SDPA instead of Loom's CPU block kernel
            case "no-attention", "composite-attention": kernels.fusedAttention = false; kernels.sdpaAttention = false
            case "no-lora-update": kernels.fusedLoRAUpdate = false
            default: throw ValidationError("unknown kernel variant \(variant)")
            }
            return kernels
        }
    }
}
