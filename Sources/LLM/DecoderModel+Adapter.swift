// DecoderModel+Adapter — saving the attached adapter as a PEFT adapter directory, attaching one from such
// a directory, and restoring saved values into an attached adapter (the Trainer's resume path).
import Foundation
import LoomCore
import Torch

extension DecoderModel {
    /// Writes the attached adapter (LoRA matrices and trainable token rows) to `directory` in PEFT's
    /// format. `base_model_name_or_path` defaults to the directory the model was loaded from.
    public func saveAdapter(to directory: URL) throws {
        guard var configuration = loraConfiguration else { throw ModelError("no adapter is attached to save") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in trainableParameters { tensors[name] = try tensor.detach() }
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent(PEFTAdapter.weightsFileName))
        if configuration.baseModelNameOrPath == nil { configuration.baseModelNameOrPath = sourceDirectory?.path }
        let json = PEFTAdapter.configJSON(configuration, tiedHead: config.tieWordEmbeddings)
        try AtomicFile.write(json, to: directory.appendingPathComponent(PEFTAdapter.configFileName))
    }

    /// Attaches the adapter stored in a PEFT adapter directory (Loom's or PEFT's). An adapter saved with
    /// the whole embedding and head (PEFT does that after a vocabulary resize) first puts them in place
    /// of the model's, resizing the vocabulary.
    public func loadAdapter(from directory: URL) throws {
        guard loraConfiguration == nil else { throw ModelError("an adapter is already attached; remove it first") }
        let stored = try PEFTAdapter.readConfig(directory.appendingPathComponent(PEFTAdapter.configFileName), projections: config.projectionTargets)
        let file = try PEFTAdapter.weightsFile(in: directory)
        try PEFTAdapter.replaceVocabularyMatrices(of: self, from: file)
        let tensors = try PEFTAdapter.readTensors(file, stored: stored, model: self).mapValues { try $0.to(device) }
        let configuration = stored.configuration
        try attachAdapters(configuration, dropoutSeed: 0) { layer, target, base in
            try LoRALinear(
                base: base, loraA: tensors[PEFTAdapter.loraKey(layer: layer, target: target, matrix: "lora_A", names: config.weightNames)]!,
                loraB: tensors[PEFTAdapter.loraKey(layer: layer, target: target, matrix: "lora_B", names: config.weightNames)]!, alpha: configuration.alpha,
                useRSLoRA: configuration.useRSLoRA, dropout: configuration.dropout, dropoutGenerator: dropoutGenerator)
        }
        if !configuration.trainableTokenIndices.isEmpty {
            trainableTokens = try TrainableTokenRows(
                indices: configuration.trainableTokenIndices, embeddingRows: tensors[PEFTAdapter.embeddingRowsKey(config.weightNames)]!,
                headRows: stored.headTokens ? tensors[PEFTAdapter.headRowsKey(config.weightNames)] : nil)
        }
    }

    /// Copies the values of a saved adapter into the attached one, in place (the optimizer keeps
    /// pointing at the same tensors). The saved adapter must have the attached one's configuration.
    public func restoreAdapter(from directory: URL) throws {
        guard let attached = loraConfiguration else { throw ModelError("no adapter is attached to restore into") }
        let configURL = directory.appendingPathComponent(PEFTAdapter.configFileName)
        let stored = try PEFTAdapter.readConfig(configURL, projections: config.projectionTargets)
        let saved = stored.configuration
        guard saved.rank == attached.rank, Set(saved.targets) == Set(attached.targets),
              saved.trainableTokenIndices == attached.trainableTokenIndices, saved.alpha == attached.alpha,
              saved.useRSLoRA == attached.useRSLoRA else {
            throw ModelFileError(file: configURL.path, problem: "describes another adapter than the attached one (rank, alpha, targets or token ids differ)")
        }
        let tensors = try PEFTAdapter.readTensors(PEFTAdapter.weightsFile(in: directory), stored: stored, model: self)
        try withNoGrad {
            for (name, parameter) in trainableParameters {
                guard let value = tensors[name] else {
                    throw ModelFileError(file: directory.appendingPathComponent(PEFTAdapter.weightsFileName).path, key: name, problem: "missing tensor")
                }
                try parameter.copy(from: value)
            }
        }
    }
}
