// TrainerTestModel — a small but real language model for the Trainer's tests, until the Llama model is
// merged: byte tokens → trainable embedding → frozen base projection (dense, or NF4 through NF4Linear)
// → GELU → dropout (from its own Generator) → trainable output layer, scored with the causal-LM loss.
// Gradients reach the embedding through the frozen base, as LoRA's reach the layers below it.
import Foundation
import LLM
import Torch

final class TrainerTestModel: TrainableLanguageModel {
    let vocabulary: Int
    let hidden: Int
    let embedding: Tensor
    let head: Tensor
    let headBias: Tensor
    private let denseBase: Tensor
    private let quantizedBase: NF4Linear?
    let dropout: Double
    let dropoutGenerator: Generator
    var isTraining = true
    /// Makes `loss` return NaN from this call on (counted from 1): a divergence on demand.
    var nanFromCall: Int?
    private(set) var lossCalls = 0

    /// The frozen base comes from `baseSeed`, the trainable tensors from `trainableSeed`, so a "fresh"
    /// model can share the base and start elsewhere.
    init(
        vocabulary: Int = 256, hidden: Int = 32, dropout: Double = 0, quantized: Bool = false, baseSeed: UInt64 = 1,
        trainableSeed: UInt64 = 2, dropoutSeed: UInt64 = 3
    ) throws {
        self.vocabulary = vocabulary
        self.hidden = hidden
        self.dropout = dropout
        let base = try Generator(seed: baseSeed)
        denseBase = try Tensor.randn([hidden, hidden], generator: base) / Foundation.sqrt(Double(hidden))
        quantizedBase = quantized ? try NF4Linear(weight: denseBase) : nil
        let trainable = try Generator(seed: trainableSeed)
        embedding = try (Tensor.randn([vocabulary, hidden], generator: trainable) * 0.5).setRequiresGrad()
        head = try (Tensor.randn([vocabulary, hidden], generator: trainable) * 0.1).setRequiresGrad()
        headBias = try Tensor.zeros([vocabulary]).setRequiresGrad()
        dropoutGenerator = try Generator(seed: dropoutSeed)
    }

    func loss(tokens: Tensor) throws -> Tensor {
        lossCalls += 1
        let (batch, length) = (tokens.shape[0], tokens.shape[1])
        let x = try embedding.embedding(tokens)                                   // (B, T, H)
        let projected = try quantizedBase.map { try $0(x) } ?? x.linear(weight: denseBase)
        let activated = try projected.gelu().dropout(dropout, training: isTraining, generator: dropoutGenerator)
        let logits = try activated.linear(weight: head, bias: headBias)          // (B, T, V)
        let predictions = try logits.narrow(dim: 1, start: 0, length: length - 1).reshape([-1, vocabulary])
        let targets = try tokens.narrow(dim: 1, start: 1, length: length - 1).reshape([batch * (length - 1)])
        let loss = try predictions.crossEntropy(targets: targets)
        if let nanFromCall, lossCalls >= nanFromCall { return try loss * Double.nan }
        return loss
    }

    var trainableParameters: [(name: String, tensor: Tensor)] {
        [("embedding", embedding), ("head.weight", head), ("head.bias", headBias)]
    }

    func saveTrainableState(to directory: URL) throws {
        try SafeTensors.write(Dictionary(uniqueKeysWithValues: trainableParameters.map { ($0.name, $0.tensor) }),
                              to: directory.appendingPathComponent("model.safetensors"))
    }

    func loadTrainableState(from directory: URL) throws {
        let file = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
        try withNoGrad {
            for (name, tensor) in trainableParameters { try tensor.copy(from: file.tensor(name)) }
        }
    }

    /// Every trainable element, for bit-for-bit comparisons.
    func trainableValues() throws -> [[Float]] {
        try trainableParameters.map { try $0.tensor.toArray(Float.self) }
    }
}
