// FullParameterTraining — a model whose every weight trains, as the Trainer sees it: what pretraining a
// tiny base from scratch needs (LoRA fine-tuning trains only the adapter, see DecoderModel+Training).
//
// The trainable tensors are the model's own leaves (embedding, untied head, norms, and each projection
// group's concatenated weight while its parts are views of it), so the AdamW updates land in the model
// in place and `model.saveModel(to:mergeAdapter: false)` writes the trained weights. Norm gains and
// biases get no weight decay (GPT-2's and Llama's recipe). The checkpointed state is one safetensors
// file of those leaves.
import Foundation
import Torch

public final class FullParameterTraining: TrainableLanguageModel {
    public static let stateFileName = "model.safetensors"

    public let model: DecoderModel
    public let trainableParameters: [(name: String, tensor: Tensor)]
    public let parametersWithoutWeightDecay: Set<String>

    /// Marks every weight of `model` as trainable. The model must be dense and carry no adapter.
    public init(_ model: DecoderModel) throws {
        guard model.loraConfiguration == nil else { throw ModelError("full-parameter training needs a model without an adapter") }
        let names = model.config.weightNames
        var parameters: [(name: String, tensor: Tensor)] = [(names.embedding, model.embedTokens)]
        for (index, layer) in model.layers.enumerated() {
            parameters += layer.namedNorms.map { (names.layer(index) + $0.name, $0.tensor) }
            for group in layer.groups {
                guard let leaves = group.denseLeaves(prefix: names.layer(index)) else {
                    throw ModelError("full-parameter training needs dense projections; layer \(index) has a quantised one")
                }
                parameters += leaves
            }
        }
        parameters.append((names.finalNorm, model.finalNorm))
        if let head = model.lmHead { parameters.append((names.head, head)) }
        for (_, tensor) in parameters { try tensor.setRequiresGrad(true) }
        for layer in model.layers {
            for group in [layer.attention.inputProjections, layer.mlp.inputProjections] { try group.rederiveDenseParts() }
        }
        self.model = model
        trainableParameters = parameters
        parametersWithoutWeightDecay = Set(parameters.filter { $0.tensor.rank == 1 }.map(\.name))
    }

    public func loss(tokens: Tensor) throws -> Tensor { try model.loss(tokens: tokens) }

    public func loss(tokens: Tensor, documentStarts: [[Int]]) throws -> Tensor { try model.loss(tokens: tokens, documentStarts: documentStarts) }

    public var isTraining: Bool {
        get { model.isTraining }
        set { model.isTraining = newValue }
    }

    /// Writes every trainable tensor into `directory/model.safetensors`.
    public func saveTrainableState(to directory: URL) throws {
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in trainableParameters { tensors[name] = try tensor.detach() }
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent(Self.stateFileName))
    }

    /// Copies the tensors `saveTrainableState` wrote into the model's in place; a missing tensor or
    /// another shape is an error naming the file and the tensor.
    public func loadTrainableState(from directory: URL) throws {
        let url = directory.appendingPathComponent(Self.stateFileName)
        let file = try SafeTensorsFile(url: url)
        try withNoGrad {
            for (name, tensor) in trainableParameters {
                guard file.entries[name] != nil else {
                    throw ModelFileError(file: url.path, key: name, problem: "missing from the saved training state")
                }
                let saved = try file.tensor(name)
                guard saved.shape == tensor.shape else {
                    throw ModelFileError(file: url.path, key: name, problem: "shape \(saved.shape), expected \(tensor.shape)")
                }
                try tensor.copy(from: saved)
            }
        }
    }
}
