// GradientCheckpointingTests — a Llama whose layers recompute their activations in backward computes
// the same loss and the same LoRA gradients as one that keeps them: dense and NF4 bases, LoRA dropout
// on (the recomputation draws the same masks, and the dropout stream continues where it would have),
// and nothing changes for passes that record no graph.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

/// Loss and LoRA gradients of one forward/backward, and the dropout generator's state afterwards.
private func lossAndGradients(
    _ model: DecoderModel, tokens: Tensor, checkpointing: Bool, dropoutState: Tensor
) throws -> (loss: Double, gradients: [String: Tensor], dropoutStateAfter: [UInt8]) {
    model.gradientCheckpointing = checkpointing
    for (_, tensor) in model.trainableParameters { try tensor.clearGrad() }
    try model.dropoutGenerator!.setState(dropoutState)
    let loss = try model.loss(tokens: tokens)
    try loss.backward()
    let gradients = Dictionary(uniqueKeysWithValues: try model.trainableParameters.map { ($0.name, try #require($0.tensor.grad).clone()) })
    return (try loss.scalar(Double.self), gradients, try model.dropoutGenerator!.stateBytes())
}

@Test(arguments: [false, true])
func checkpointedLayersGiveTheSameLossAndGradients(quantized: Bool) throws {
    let config = ModelConfig(hiddenSize: 64, intermediateSize: 96, numHiddenLayers: 3, numAttentionHeads: 4, vocabSize: 80)
    let model = try DecoderModel.random(config: config, seed: 2, standardDeviation: 0.1, baseLinear: quantized ? NF4Linear.quantizing() : nil)
    try model.applyLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.1, targets: LoRATarget.allCases), seed: 1)
    let generator = try Generator(seed: 3)
    try withNoGrad {
        for (_, tensor) in model.trainableParameters { try tensor.copy(from: Tensor.randn(tensor.shape, generator: generator) * 0.1) }
    }
    model.isTraining = true
    let tokens = try Tensor.randint(0, 80, shape: [2, 12], generator: Generator(seed: 5))
    let dropoutState = try model.dropoutGenerator!.state()

    let kept = try lossAndGradients(model, tokens: tokens, checkpointing: false, dropoutState: dropoutState)
    let recomputed = try lossAndGradients(model, tokens: tokens, checkpointing: true, dropoutState: dropoutState)
    #expect(abs(kept.loss - recomputed.loss) <= 1e-6 * abs(kept.loss), "\(kept.loss) vs \(recomputed.loss)")
    #expect(kept.dropoutStateAfter == recomputed.dropoutStateAfter)
    #expect(kept.gradients.count == 3 * 7 * 2 && kept.gradients.keys.sorted() == recomputed.gradients.keys.sorted())
    for (name, gradient) in kept.gradients {
        let other = try #require(recomputed.gradients[name])
        let scale = try gradient.abs().amax().scalar(Double.self)
        #expect(scale > 0, "\(name) has no gradient")
        #expect(try (other - gradient).abs().amax().scalar(Double.self) <= 1e-5 * scale, "\(name)")
    }

    // Evaluation records no graph: checkpointing leaves it as it is.
    model.isTraining = false
    model.gradientCheckpointing = false
    let plain = try withNoGrad { try model.loss(tokens: tokens).scalar(Double.self) }
    model.gradientCheckpointing = true
    let withCheckpointing = try withNoGrad { try model.loss(tokens: tokens).scalar(Double.self) }
    #expect(plain == withCheckpointing)
}

@Test func anErrorInsideACheckpointReachesTheCaller() throws {
    struct Refused: Error, CustomStringConvertible { var description: String { "refused on purpose" } }
    let input = try Tensor.randn([3, 4]).setRequiresGrad()
    var calls = 0
    let output = try input.checkpointed { x in
        calls += 1
        if calls > 1 { throw Refused() }
        return try x * 2
    }
    #expect(try output.equal(input.detach() * 2))
    let message = try #require(errorMessage { try output.sum().backward() })
    #expect(message.contains("refused on purpose"), "\(message)")
}
