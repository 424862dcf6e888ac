// TrainerLlamaTests — the Trainer on the real thing: a tiny random Llama with LoRA on all seven
// projections (dropout on), with dense bases and with NF4 bases (QLoRA). The loss falls on a small text,
// and a run stopped, checkpointed and resumed in a fresh model reproduces the uninterrupted run bit for bit.
import Foundation
import LLM
import Testing
import TestSupport
import Torch

private let tinyLlama = ModelConfig(
    hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 4, vocabSize: 256)

/// A random tiny Llama (base weights from `baseSeed`), its projections NF4 when `quantized`, with a fresh
/// LoRA adapter (r 8, alpha 16, dropout 0.1, all projections) initialised from `adapterSeed`.
private func loraLlama(quantized: Bool, baseSeed: UInt64 = 5, adapterSeed: UInt64 = 6) throws -> DecoderModel {
    let model = try DecoderModel.random(
        config: tinyLlama, seed: baseSeed, standardDeviation: 0.1,
        baseLinear: quantized ? NF4Linear.quantizing() : nil)
    try model.applyLoRA(LoRAConfiguration(rank: 8, alpha: 16, dropout: 0.1, targets: LoRATarget.allCases), seed: adapterSeed)
    return model
}

private func llamaTrainer(_ model: DecoderModel, steps: Int, directory: URL) throws -> Trainer<DecoderModel> {
    let tokens = trainerTestTokens()
    let configuration = TrainingConfiguration(
        sequenceLength: 32, microBatchSize: 2, gradientAccumulationSteps: 2, duration: .steps(steps),
        optimizer: .init(learningRate: 1e-2, weightDecay: 0), schedule: .linear, warmupSteps: 1, maxGradientNorm: 1.0,
        evaluationInterval: 5, evaluationBatches: 2, checkpointInterval: 4, shuffleSeed: 3)
    return try Trainer(
        model: model, configuration: configuration,
        training: PackedTokens(tokens: tokens.training, sequenceLength: 32, name: "training text"),
        evaluation: PackedTokens(tokens: tokens.evaluation, sequenceLength: 32, name: "held-out text"),
        checkpointDirectory: directory, generators: ["lora_dropout": try #require(model.dropoutGenerator)])
}

private func adapterValues(_ model: DecoderModel) throws -> [[Float]] {
    try model.trainableParameters.map { try $0.tensor.toArray(Float.self) }
}

@Test(arguments: [false, true])
func loraAndQLoRATrainingLowerTheLossOnText(quantized: Bool) throws {
    let scratch = try ScratchDirectory("trainer-llama-loss")
    let model = try loraLlama(quantized: quantized)
    if quantized {
        #expect(model.base(layer: 0, .query) is NF4Linear && model.base(layer: 1, .down) is NF4Linear)
        let projectionParameters = 2 * (4 * 64 * 64 + 3 * 64 * 128)
        let bytesPerParameter = Double(model.projectionResidentBytes) / Double(projectionParameters)
        #expect(bytesPerParameter > 0.5 && bytesPerParameter < 0.53, "\(bytesPerParameter) bytes per projection parameter")
    }
    let result = try llamaTrainer(model, steps: 20, directory: scratch.url).train()
    let first = result.history[0].loss
    let last = result.history.suffix(3).map(\.loss).reduce(0, +) / 3
    #expect(last < first - 1, "training loss \(first) → \(last)")
    #expect(result.evaluations.map(\.step) == [5, 10, 15, 20])
    #expect(result.evaluations.last!.loss < result.evaluations.first!.loss)
    // The checkpoint's trainable state is a PEFT adapter directory.
    let adapter = result.finalCheckpoint.appendingPathComponent("trainable")
    #expect(FileManager.default.fileExists(atPath: adapter.appendingPathComponent("adapter_config.json").path))
    #expect(FileManager.default.fileExists(atPath: adapter.appendingPathComponent("adapter_model.safetensors").path))
}

@Test(arguments: [false, true])
func llamaResumeReproducesTheUninterruptedRunBitForBit(quantized: Bool) throws {
    let steps = 10
    let reference = try ScratchDirectory("trainer-llama-reference")
    let uninterruptedModel = try loraLlama(quantized: quantized)
    let uninterrupted = try llamaTrainer(uninterruptedModel, steps: steps, directory: reference.url).train()

    let scratch = try ScratchDirectory("trainer-llama-resume")
    let first = try loraLlama(quantized: quantized)
    let firstTrainer = try llamaTrainer(first, steps: steps, directory: scratch.url)
    #expect(throws: CancellationError.self) {
        try firstTrainer.train(checkCancellation: { if firstTrainer.step == 6 { throw CancellationError() } })
    }
    // A fresh model: same base, an adapter (and dropout stream) initialised elsewhere, then loaded.
    let fresh = try loraLlama(quantized: quantized, adapterSeed: 77)
    let resumed = try llamaTrainer(fresh, steps: steps, directory: scratch.url)
    #expect(try resumed.resumeFromLatestCheckpoint()?.lastPathComponent == "checkpoint-00000006")
    let result = try resumed.train()

    #expect(result.history == uninterrupted.history)
    #expect(result.evaluations == uninterrupted.evaluations)
    #expect(try adapterValues(fresh) == adapterValues(uninterruptedModel))
}
