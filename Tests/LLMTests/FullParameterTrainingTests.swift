// FullParameterTrainingTests — pretraining every weight of a Llama through the Trainer: each leaf
// (embedding, norms, the fused q/k/v and gate/up weights, o/down, the untied head) gets a gradient
// equal to the composite path's, the loss falls, norm gains get no weight decay, the trained weights
// are what saveModel writes, and a run resumed from a checkpoint ends with the uninterrupted run's
// weights bit for bit.
import Foundation
@testable import LLM
import Testing
import TestSupport
import Torch

private let pretrainConfig = ModelConfig(
    hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, vocabSize: 256,
    tieWordEmbeddings: false, maxPositionEmbeddings: 32)

private func pretrainingConfiguration(steps: Int, checkpointInterval: Int? = nil) -> TrainingConfiguration {
    TrainingConfiguration(
        sequenceLength: 32, microBatchSize: 4, duration: .steps(steps), optimizer: .init(learningRate: 1e-2, weightDecay: 0.1),
        schedule: .cosine, warmupSteps: 2, minimumLearningRateRatio: 0.1, maxGradientNorm: 1.0, evaluationInterval: 5,
        checkpointInterval: checkpointInterval, shuffleSeed: 3)
}

private func pretrainer(_ model: DecoderModel, steps: Int, checkpointInterval: Int? = nil, directory: URL) throws -> Trainer<FullParameterTraining> {
    let tokens = trainerTestTokens()
    return try Trainer(
        model: FullParameterTraining(model), configuration: pretrainingConfiguration(steps: steps, checkpointInterval: checkpointInterval),
        training: PackedTokens(tokens: tokens.training, sequenceLength: 32, name: "training text"),
        evaluation: PackedTokens(tokens: tokens.evaluation, sequenceLength: 32, name: "held-out text"),
        checkpointDirectory: directory)
}

@Test func everyWeightIsTrainableAndItsGradientMatchesTheCompositePath() throws {
    let fused = try DecoderModel.random(config: pretrainConfig, seed: 1)
    let composite = try DecoderModel.random(config: pretrainConfig, seed: 1)
    composite.kernels = .composite
    let fusedTraining = try FullParameterTraining(fused)
    let compositeTraining = try FullParameterTraining(composite)

    let names = fusedTraining.trainableParameters.map(\.name)
    #expect(names.contains("model.layers.0.self_attn.q_proj+k_proj+v_proj.weight"))
    #expect(names.contains("model.layers.1.mlp.gate_proj+up_proj.weight"))
    #expect(names.contains("model.layers.1.mlp.down_proj.weight") && names.contains("lm_head.weight"))
    let elements = fusedTraining.trainableParameters.reduce(0) { $0 + $1.tensor.count }
    #expect(elements == fused.parameterCount)
    #expect(fusedTraining.parametersWithoutWeightDecay == Set(names.filter { $0.hasSuffix("norm.weight") }))

    let tokens = try Tensor((0..<64).map { Int64(($0 * 37) % 256) }, shape: [2, 32])
    try fusedTraining.loss(tokens: tokens).backward()
    try compositeTraining.loss(tokens: tokens).backward()
    for ((name, left), (_, right)) in zip(fusedTraining.trainableParameters, compositeTraining.trainableParameters) {
        let leftGrad = try #require(left.grad, "\(name) has a gradient")
        let rightGrad = try #require(right.grad)
        let scale = max(try rightGrad.abs().amax().scalar(Double.self), 1e-12)
        let difference = try (leftGrad - rightGrad).abs().amax().scalar(Double.self)
        #expect(difference / scale < 1e-4, "\(name): max difference \(difference), scale \(scale)")
        #expect(scale > 0, "\(name) receives gradient")
    }
}

@Test func pretrainingLowersTheLossAndSavesTheTrainedWeights() throws {
    let scratch = try ScratchDirectory("full-training")
    let model = try DecoderModel.random(config: pretrainConfig, seed: 2)
    let embeddingBefore = try model.embedTokens.detach().clone()
    let normBefore = try model.finalNorm.detach().clone()
    let trainer = try pretrainer(model, steps: 30, directory: scratch.path("checkpoints"))
    let before = try #require(try trainer.evaluate()).loss
    let result = try trainer.train()
    let after = try #require(result.evaluations.last).loss
    #expect(after < before - 1.0, "held-out loss \(before) → \(after)")
    #expect(try (model.embedTokens - embeddingBefore).abs().amax().scalar(Double.self) > 0)
    #expect(try (model.finalNorm - normBefore).abs().amax().scalar(Double.self) > 0)

    try model.saveModel(to: scratch.path("model"), mergeAdapter: false)
    let reloaded = try DecoderModel.load(from: scratch.path("model"))
    let probe = try Tensor((0..<32).map { Int64(($0 * 11) % 256) }, shape: [1, 32])
    let difference = try withNoGrad { try (model.logits(tokens: probe) - reloaded.logits(tokens: probe)).abs().amax().scalar(Double.self) }
    #expect(difference == 0)
}

@Test func aResumedPretrainingEndsWithTheUninterruptedWeights() throws {
    let scratch = try ScratchDirectory("full-training-resume")
    let straight = try DecoderModel.random(config: pretrainConfig, seed: 4)
    try pretrainer(straight, steps: 12, directory: scratch.path("straight")).train()

    let first = try DecoderModel.random(config: pretrainConfig, seed: 4)
    struct Stop: Error {}
    var steps = 0
    #expect(throws: Stop.self) {
        try pretrainer(first, steps: 12, checkpointInterval: 4, directory: scratch.path("interrupted")).train(
            progress: { if case .step = $0 { steps += 1 } }, checkCancellation: { if steps == 6 { throw Stop() } })
    }
    let second = try DecoderModel.random(config: pretrainConfig, seed: 99)
    let resumed = try pretrainer(second, steps: 12, checkpointInterval: 4, directory: scratch.path("interrupted"))
    #expect(try resumed.resumeFromLatestCheckpoint() != nil)
    #expect(resumed.step == 6)
    try resumed.train()
    for ((name, left), (_, right)) in zip(try FullParameterTraining(straight).trainableParameters, resumed.model.trainableParameters) {
        #expect(try left.detach().eq(right.detach()).all().scalar(Bool.self), "\(name) equal bit for bit")
    }
}

@Test func aStateFileWithAMissingTensorIsRefusedByName() throws {
    let scratch = try ScratchDirectory("full-training-state")
    let training = try FullParameterTraining(DecoderModel.random(config: pretrainConfig, seed: 5))
    try SafeTensors.write(["model.norm.weight": try Tensor.ones([32])], to: scratch.path(FullParameterTraining.stateFileName))
    let message = errorMessage { try training.loadTrainableState(from: scratch.url) }
    #expect(message == "\(scratch.path(FullParameterTraining.stateFileName).path): model.embed_tokens.weight: missing from the saved training state")
    try training.model.applyLoRA(LoRAConfiguration(), seed: 0)
    #expect(errorMessage { _ = try FullParameterTraining(training.model) } == "full-parameter training needs a model without an adapter")
}

@Test func projectionWeightsCountEveryTargetedMatrixOfEveryLayer() {
    // q 32×32, k and v 32×16 (2 KV heads of 8), o 32×32, gate and up 32×64, down 64×32; two layers.
    #expect(pretrainConfig.projectionWeights() == 2 * (1024 + 512 + 512 + 1024 + 3 * 2048))
    #expect(pretrainConfig.projectionWeights([.query, .value]) == 2 * (1024 + 512))
}
