// EvalMeasureTests — the pieces of `eval` on their own: scoring windows predict every token exactly
// once, bits per byte from the summed loss, and KL(base‖tuned) / top-1 agreement against a direct
// computation over the logits (a tuned model with extra vocabulary rows compared on the base's).
import Foundation
@testable import LLM
@testable import ModelStages
import Testing
import TestSupport
import Torch

@Test func scoringWindowsOverlapByOneSoEveryTokenIsPredictedOnce() {
    let ids = Array(100..<117)
    let windows = TokenizedText.scoringWindows(ids, length: 5)
    #expect(windows.allSatisfy { $0.count <= 5 && $0.count >= 2 })
    #expect(windows.reduce(0) { $0 + $1.count - 1 } == ids.count - 1)
    for (left, right) in zip(windows, windows.dropFirst()) { #expect(left.last == right.first) }
    #expect(Array(windows.map { $0.dropFirst() }.joined()) == Array(ids.dropFirst()))
    #expect(TokenizedText.scoringWindows([7], length: 5).isEmpty)
    #expect(TokenizedText.scoringWindows([7, 8], length: 5) == [[7, 8]])
}

@Test func bitsPerByteIsTheSummedLossInBitsOverTheBytes() {
    let score = HeldOutScore(meanLoss: 2.0, tokens: 300, bytes: 1200)
    #expect(abs(score.bitsPerByte - 2.0 * 300 / log(2) / 1200) < 1e-12)
    #expect(abs(score.perplexity - exp(2.0)) < 1e-12)
}

@Test func divergenceMatchesADirectComputationOverTheBaseVocabulary() throws {
    let config = ModelConfig(hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, vocabSize: 40)
    let base = try DecoderModel.random(config: config, seed: 1)
    #expect(try ProbeDivergence.measure(base: base, tuned: base, windows: [[1, 5, 9, 3]])?.klDivergence == 0)

    let tuned = try DecoderModel.random(config: config, seed: 1)
    try tuned.extendVocabulary(decompositions: [[5, 9], [3, 4, 7]], method: .random(seed: 3))
    try tuned.applyLoRA(LoRAConfiguration(rank: 2, alpha: 4, targets: LoRATarget.allCases), seed: 2)
    for parameter in tuned.trainableParameters where parameter.name.contains("lora_B") {
        try withNoGrad { try parameter.tensor.normalInPlace(mean: 0, std: 0.5, generator: Generator(seed: 4)) }
    }
    let windows = [[1, 5, 9, 3, 12], [2, 39, 8]]
    let result = try #require(try ProbeDivergence.measure(base: base, tuned: tuned, windows: windows))

    var divergence = 0.0, agreements = 0.0, positions = 0
    for window in windows {
        let tokens = try Tensor(window.map { Int64($0) }, shape: [1, window.count])
        let p = try withNoGrad { try base.logits(tokens: tokens).to(.float64).toArray(Double.self) }
        let q = try withNoGrad { try tuned.logits(tokens: tokens).to(.float64).toArray(Double.self) }
        for position in 0..<window.count {
            let baseRow = Array(p[(position * 40)..<((position + 1) * 40)])
            let tunedRow = Array(q[(position * 42)..<(position * 42 + 40)])  // new-token logits dropped
            func logSoftmax(_ row: [Double]) -> [Double] {
                let top = row.max()!
                let total = log(row.reduce(0) { $0 + exp($1 - top) }) + top
                return row.map { $0 - total }
            }
            let (lp, lq) = (logSoftmax(baseRow), logSoftmax(tunedRow))
            divergence += zip(lp, lq).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
            agreements += lp.firstIndex(of: lp.max()!) == lq.firstIndex(of: lq.max()!) ? 1 : 0
            positions += 1
        }
    }
    #expect(result.positions == positions && result.windows == 2)
    #expect(abs(result.klDivergence - divergence / Double(positions)) < 1e-5)
    #expect(result.klDivergence > 0)
    #expect(result.topOneAgreement == agreements / Double(positions))
}

@Test func sceneComputeCountsFLOPsAndActivationsFromTheShapes() {
    // hidden 8, intermediate 16, 2 layers, 2 heads / 1 KV head (head_dim 4), vocab 10; two scenes of 3 and
    // 5 tokens (mean 4) over 2 000 bytes; 100 trainable parameters; batch 2. By hand:
    //   projection weights per layer: q 8·8 + k 8·4 + v 8·4 + o 8·8 + gate/up/down 3·8·16 = 576 → 1152, head 80
    //   FLOPs per token: 4 · 1232 + 6 · 100 + 12 · 2 · 8 · 4 = 4928 + 600 + 768 = 6296; 8 tokens per 0.002 MB
    //   activations per layer and token: 2·8 + (2 + 2)·4 + 2·4 + 3·16 + 2·4 = 96 floats → 4 · 2 · 96 · 4 · 2 bytes
    let config = ModelConfig(hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                             numKeyValueHeads: 1, vocabSize: 10)
    let compute = SceneCompute(config: config, trainableParameters: 100, sceneTokens: [3, 5], bytes: 2000, batch: 2)
    #expect(compute.tokensPerScene == 4)
    #expect(compute.trainingFLOPsPerMB == 6296 * 8 / 0.002)
    #expect(compute.activationBytes == 4 * 2 * 96 * 4 * 2)
}

@Test func runningOutOfMemorySaysWhichStageShapeAndWhatToLower() {
    let cuda = TorchError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.19 GiB total capacity)\nmore")
    let cpu = TorchError("[enforce fail at alloc_cpu.cpp:117] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate 1234 bytes")
    #expect(StageTraining.isOutOfMemory(cuda) && StageTraining.isOutOfMemory(cpu))
    #expect(!StageTraining.isOutOfMemory(TorchError("mat1 and mat2 shapes cannot be multiplied")))
    let configuration = TrainingConfiguration(sequenceLength: 2048, microBatchSize: 4, duration: .steps(10))
    #expect(StageTraining.outOfMemoryAdvice(cpu, stage: "base", configuration: configuration, device: .cpu, adapter: false)
        .hasSuffix("at batch_size 4 × seq_len 2048 ([enforce fail at alloc_cpu.cpp:117] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate 1234 bytes); lower batch_size or seq_len, or the model's size"))
    #expect(StageTraining.outOfMemoryAdvice(cuda, stage: "train", configuration: configuration, device: .cuda(0), adapter: true)
        == "stage train ran out of memory on cuda:0 at batch_size 4 × seq_len 2048 (CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.19 GiB total capacity)); lower batch_size (raise grad_accum to keep the effective batch) or seq_len, set gradient_checkpointing: true, use dtype: bfloat16, or method: qlora")
}
