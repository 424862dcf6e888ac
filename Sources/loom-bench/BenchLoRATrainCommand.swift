// `loom-bench bench-lora-train --case …` — one case of bench/lora-train, run in its own process so that
// peak memory is its own: LoRA or QLoRA training of a random Llama through the Trainer, timed per step
// (`lora`, `qlora`), or a few steps of a larger model for peak RSS (`memory-lora`, `memory-qlora`).
// Prints one JSON object; bench/lora-train/run runs the cases and merges them. Hidden from help.
import ArgumentParser
import Foundation
import LLM
import Torch

struct BenchLoRATrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-lora-train", abstract: "One case of bench/lora-train (prints JSON).", shouldDisplay: false)

    enum Case: String, ExpressibleByArgument, CaseIterable {
        case lora, qlora, memoryLoRA = "memory-lora", memoryQLoRA = "memory-qlora"
        var quantized: Bool { self == .qlora || self == .memoryQLoRA }
        var isMemoryCase: Bool { self == .memoryLoRA || self == .memoryQLoRA }
    }

    @Option(name: .customLong("case"), help: "lora, qlora, memory-lora or memory-qlora.") var benchCase: Case
    @Option(help: "Steps timed after the warm-up.") var steps = 6
    @Option(help: "Warm-up steps (not timed).") var warmup = 2
    @Option(name: .customLong("compute-dtype"), help: "The GEMM dtype of QLoRA's NF4 projections: f32 or bf16.")
    var computeDType = "f32"
    @Flag(name: .customLong("gradient-checkpointing"), help: "Recompute each layer's activations in backward.")
    var gradientCheckpointing = false

    // The model's shape: each option replaces one number of the case's built-in shape, so that
    // bench/lora-train can run any shape (SmolLM2-135M's) on both sides with the same options.
    @Option(help: "hidden_size.") var hidden: Int?
    @Option(help: "intermediate_size.") var intermediate: Int?
    @Option(help: "num_hidden_layers.") var layers: Int?
    @Option(help: "num_attention_heads.") var heads: Int?
    @Option(name: .customLong("kv-heads"), help: "num_key_value_heads (default: --heads).") var kvHeads: Int?
    @Option(help: "vocab_size.") var vocab: Int?
    @Option(help: "Tokens per sequence.") var seq: Int?
    @Option(help: "Sequences per step.") var batch: Int?
    @Option(name: .customLong("rope-theta"), help: "rope_theta.") var ropeTheta: Double?
    @Option(name: .customLong("rms-norm-eps"), help: "rms_norm_eps.") var rmsNormEps: Double?
    @Flag(name: .customLong("tie-embeddings"), help: "tie_word_embeddings: the head is the embedding matrix.")
    var tieEmbeddings = false
    @Option(help: "Where the model runs: cpu, cuda, cuda:N or auto.") var device = "cpu"
    @Option(help: "The LoRA case's frozen matrices: f32, or bf16 (stored and multiplied in bf16; the adapter, optimizer and loss f32).")
    var dtype = "f32"

    func validate() throws {
        for (name, value) in [("--hidden", hidden), ("--intermediate", intermediate), ("--layers", layers), ("--heads", heads),
                              ("--kv-heads", kvHeads), ("--vocab", vocab), ("--seq", seq), ("--batch", batch)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        }
        if steps < 1 && !benchCase.isMemoryCase { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if warmup < 0 { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
        if let heads, let hidden, hidden % heads != 0 {
            throw ValidationError("--heads \(heads) must divide --hidden \(hidden)")
        }
        if let kvHeads, let heads, heads % kvHeads != 0 {
            throw ValidationError("--kv-heads \(kvHeads) must divide --heads \(heads)")
        }
    }

    func run() throws {
        let device = try Device.resolve(self.device)
        let denseDType = try Self.dtype(dtype, option: "--dtype")
        // The CPU GEMM rate is what MFU is measured against on the CPU; on a GPU the peak device memory is
        // what is reported instead.
        let gemmBefore = benchCase.isMemoryCase || device != .cpu ? nil : try TorchRuntime.fp32MatmulGFLOPS(size: 2048)
        if case .cuda(let index) = device { _ = try? TorchRuntime.cudaMemoryPeak(device: index, reset: true) }
        let builtIn = benchCase.isMemoryCase
            ? (hidden: 2048, intermediate: 5632, layers: 8, heads: 16, vocab: 8192, sequence: 128, batch: 1)
            : (hidden: 512, intermediate: 1376, layers: 8, heads: 8, vocab: 8192, sequence: 256, batch: 8)
        let shape = (hidden: hidden ?? builtIn.hidden, intermediate: intermediate ?? builtIn.intermediate,
                     layers: layers ?? builtIn.layers, heads: heads ?? builtIn.heads, vocab: vocab ?? builtIn.vocab,
                     sequence: seq ?? builtIn.sequence, batch: batch ?? builtIn.batch)
        let config = ModelConfig(
            hiddenSize: shape.hidden, intermediateSize: shape.intermediate, numHiddenLayers: shape.layers,
            numAttentionHeads: shape.heads, numKeyValueHeads: kvHeads, vocabSize: shape.vocab,
            ropeTheta: ropeTheta ?? 10_000, rmsNormEps: rmsNormEps ?? 1e-6, tieWordEmbeddings: tieEmbeddings,
            maxPositionEmbeddings: shape.sequence)
        // QLoRA's projections are quantised as the model is built: one dense projection exists at a time.
        let model = try DecoderModel.random(
            config: config, seed: 0, device: device, dtype: benchCase.quantized ? .float32 : denseDType,
            baseLinear: benchCase.quantized ? NF4Linear.quantizing(computeDType: Self.dtype(computeDType, option: "--compute-dtype")) : nil)
        try model.applyLoRA(LoRAConfiguration(rank: 16, alpha: 32, targets: LoRATarget.allCases), seed: 0)
        model.gradientCheckpointing = gradientCheckpointing
        let modelMegabytes = try Benchmarks.residentMegabytes()
        let modelPeakMegabytes = try Self.peakResidentMegabytes()

        let totalSteps = benchCase.isMemoryCase ? 2 : warmup + steps
        let tokenCount = totalSteps * shape.batch * shape.sequence
        var random = Xoshiro256StarStar(seed: 1)
        let tokens = (0..<tokenCount).map { _ in Int(random.next(below: UInt64(shape.vocab))) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loom-bench-lora-train-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let trainer = try Trainer(
            model: model,
            configuration: TrainingConfiguration(
                sequenceLength: shape.sequence, microBatchSize: shape.batch, duration: .steps(totalSteps),
                optimizer: .init(learningRate: 1e-4, weightDecay: 0), schedule: .constant),
            training: PackedTokens(tokens: tokens, sequenceLength: shape.sequence, name: "random tokens"),
            checkpointDirectory: scratch, generators: ["lora_dropout": model.dropoutGenerator!])
        var stepTokensPerSecond: [Double] = []
        try trainer.train(progress: { event in
            guard case .step(let step) = event else { return }
            stepTokensPerSecond.append(step.tokensPerSecond)
            FileHandle.standardError.write(Data("bench-lora-train \(benchCase.rawValue): \(event)\n".utf8))
        })

        let loraParameters = model.trainableParameterCount
        let matmulParameters = config.projectionWeights() + config.vocabSize * config.hiddenSize
        var result: [String: Any] = [
            "case": benchCase.rawValue,
            "nf4_compute_dtype": benchCase.quantized ? computeDType : "none",
            "dtype": benchCase.quantized ? "nf4" : dtype,
            "device": device.description,
            "gradient_checkpointing": gradientCheckpointing,
            "threads": try TorchRuntime.numThreads(),
            "libtorch": try TorchRuntime.version(),
            "peak_rss_mb": rounded(try Self.peakResidentMegabytes()),
            "rss_after_model_mb": rounded(modelMegabytes),
            "peak_rss_while_building_mb": rounded(modelPeakMegabytes),
            "projection_resident_mb": rounded(Double(model.projectionResidentBytes) / 1_048_576),
            "lora_parameters": loraParameters,
            "shape": [
                "hidden": shape.hidden, "intermediate": shape.intermediate, "layers": shape.layers, "heads": shape.heads,
                "vocab": shape.vocab, "seq": shape.sequence, "batch": shape.batch, "rank": 16, "alpha": 32,
                "kv_heads": config.numKeyValueHeads, "rope_theta": config.ropeTheta, "rms_norm_eps": config.rmsNormEps,
                "tie_embeddings": config.tieWordEmbeddings,
            ],
        ]
        if case .cuda(let index) = device {
            let timed = Array(stepTokensPerSecond.dropFirst(warmup)).sorted()
            if !timed.isEmpty { result["tokens_per_second"] = rounded(timed[timed.count / 2]) }
            result["step_tokens_per_second"] = stepTokensPerSecond.map(rounded)
            if let peak = try? TorchRuntime.cudaMemoryPeak(device: index) {
                result["peak_device_allocated_mb"] = rounded(Double(peak.allocated) / 1_048_576)
                result["peak_device_reserved_mb"] = rounded(Double(peak.reserved) / 1_048_576)
            } else {
                result["peak_device_allocated_mb"] = "unavailable: the shim was built without CUDA's allocator statistics"
            }
        }
        if let gemmBefore {
            // The GEMM rate before and after training: the higher one is the machine's, the lower one
            // saw other work (a shared machine is rarely quiet for a whole run).
            let gemmAfter = try TorchRuntime.fp32MatmulGFLOPS(size: 2048)
            let peakGFLOPS = max(gemmBefore, gemmAfter)
            let timed = Array(stepTokensPerSecond.dropFirst(warmup)).sorted()
            let tokensPerSecond = timed[timed.count / 2]
            // The step's GEMMs: forward and input gradient of every frozen matrix (4 FLOPs per parameter and
            // token), LoRA's forward and both gradients (6). At the measured 2048² rate, with attention and every
            // elementwise op taking no time, they bound what any f32 implementation on this BLAS can reach.
            let gemmFlopsPerToken = 4 * Double(matmulParameters) + 6 * Double(loraParameters)
            let flopsPerToken = gemmFlopsPerToken + 12 * Double(config.numHiddenLayers * config.hiddenSize * shape.sequence)
            result["tokens_per_second"] = rounded(tokensPerSecond)
            result["step_tokens_per_second"] = stepTokensPerSecond.map(rounded)
            result["fp32_matmul_2048_gflops"] = rounded(peakGFLOPS)
            result["fp32_matmul_2048_gflops_before_after"] = [rounded(gemmBefore), rounded(gemmAfter)]
            result["flops_per_token"] = flopsPerToken
            result["mfu"] = rounded(flopsPerToken * tokensPerSecond / (peakGFLOPS * 1e9))
            result["gemm_flops_per_token"] = gemmFlopsPerToken
            result["gemm_bound_tokens_per_second"] = rounded(peakGFLOPS * 1e9 / gemmFlopsPerToken)
        }
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private static func dtype(_ text: String, option: String) throws -> DType {
        switch text {
        case "f32": return .float32
        case "bf16": return .bfloat16
        default: throw ValidationError("\(option) must be f32 or bf16, got \(text)")
        }
    }

    /// The process's peak resident set (VmHWM in /proc/self/status), in MiB.
    private static func peakResidentMegabytes() throws -> Double {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { throw ValidationError("no VmHWM in /proc/self/status") }
        return kilobytes / 1024
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
