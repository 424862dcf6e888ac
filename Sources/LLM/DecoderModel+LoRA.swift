// DecoderModel+LoRA — attaching a LoRA adapter (fresh or with given tensors) and trainable token rows,
// training mode, the trainable parameters under their PEFT names, and merging the adapter into the
// base weights.
import Torch

extension DecoderModel {
    /// Attaches a fresh adapter to every layer's `configuration.targets`: A kaiming-uniform from a
    /// generator seeded with `seed`, B zero (so the model's outputs are unchanged until trained), plus the
    /// trainable token rows, copied from the current embedding/head. Dropout masks come from a second
    /// stream seeded from `seed`.
    /// The targets are taken as the model's family has them (`ModelConfig.loraTargets(for:)`: on Phi-3,
    /// q/k/v adapt qkv_proj).
    public func applyLoRA(_ requested: LoRAConfiguration, seed: UInt64 = 0) throws {
        try requested.validate()
        var configuration = requested
        configuration.targets = config.loraTargets(for: requested.targets)
        let initialisation = try Generator(seed: seed)
        try attachAdapters(configuration, dropoutSeed: seed &+ 0x9E37_79B9_7F4A_7C15) { _, _, base in
            try LoRALinear(base: base, rank: configuration.rank, alpha: configuration.alpha, useRSLoRA: configuration.useRSLoRA,
                           dropout: configuration.dropout, generator: initialisation, dropoutGenerator: dropoutGenerator, device: device)
        }
        trainableTokens = configuration.trainableTokenIndices.isEmpty
            ? nil : try TrainableTokenRows(indices: configuration.trainableTokenIndices, model: self)
    }

    /// Attaches one adapter per (layer, target) made by `make`, in layer order and, within a layer, in
    /// the order of `LoRATarget.allCases` (the order random initialisation draws in). A target the model
    /// does not have (q_proj on Phi-3) is an error naming the ones it has.
    func attachAdapters(
        _ configuration: LoRAConfiguration, dropoutSeed: UInt64, make: (_ layer: Int, LoRATarget, any BaseLinear) throws -> LoRALinear
    ) throws {
        guard loraConfiguration == nil else { throw ModelError("an adapter is already attached; remove it first") }
        try config.checkTargets(configuration.targets)
        dropoutGenerator = try Generator(seed: dropoutSeed, device: device)
        let targets = configuration.targets.sorted()
        for (layerIndex, layer) in layers.enumerated() {
            for target in targets {
                let (group, index) = layer.group(of: target)!
                let adapter = try make(layerIndex, target, group.bases[index])
                adapter.isTraining = trainingMode
                group.attach(adapter, at: index)
            }
        }
        loraConfiguration = configuration
    }

    /// Detaches the adapter and the trainable token rows: the base model again.
    public func removeAdapter() {
        for layer in layers {
            for target in config.projectionTargets {
                let (group, index) = layer.group(of: target)!
                group.attach(nil, at: index)
            }
        }
        loraConfiguration = nil
        trainableTokens = nil
    }

    /// Every adapter, by (layer, target), in the order of `trainableParameters`.
    var attachedAdapters: [(layer: Int, target: LoRATarget, adapter: LoRALinear)] {
        layers.enumerated().flatMap { index, layer in
            config.projectionTargets.compactMap { target in layer.adapter(target).map { (index, target, $0) } }
        }
    }

    /// Training mode turns LoRA dropout on.
    public var isTraining: Bool {
        get { trainingMode }
        set {
            trainingMode = newValue
            for entry in attachedAdapters { entry.adapter.isTraining = newValue }
        }
    }

    /// The tensors an optimizer updates, under their PEFT adapter keys: lora_A/lora_B of every adapted
    /// projection, then the trainable token rows.
    public var trainableParameters: [(name: String, tensor: Tensor)] {
        var parameters: [(name: String, tensor: Tensor)] = []
        for (layer, target, adapter) in attachedAdapters {
            parameters.append((PEFTAdapter.loraKey(layer: layer, target: target, matrix: "lora_A", names: config.weightNames), adapter.loraA))
            parameters.append((PEFTAdapter.loraKey(layer: layer, target: target, matrix: "lora_B", names: config.weightNames), adapter.loraB))
        }
        if let rows = trainableTokens {
            parameters.append((PEFTAdapter.embeddingRowsKey(config.weightNames), rows.embeddingRows))
            if let head = rows.headRows { parameters.append((PEFTAdapter.headRowsKey(config.weightNames), head)) }
        }
        return parameters
    }

    /// Number of trainable elements.
    public var trainableParameterCount: Int { trainableParameters.reduce(0) { $0 + $1.tensor.count } }

    /// Folds the adapter into the base: each adapted projection becomes a dense W + s·B·A (the base
    /// dequantised if it was 4-bit), the trainable token rows are written into the embedding and head,
    /// and the adapter is removed. The model then computes what it computed with the adapter.
    public func mergeAdapter() throws {
        for (layer, target, adapter) in attachedAdapters {
            let (group, index) = layers[layer].group(of: target)!
            try group.replaceBase(at: index, with: adapter.merged())
        }
        let (embedding, head) = try mergedVocabularyMatrices()
        embedTokens = embedding
        if lmHead != nil { lmHead = head }
        removeAdapter()
    }

    /// The embedding and head (nil when tied) with the trainable token rows written in.
    func mergedVocabularyMatrices() throws -> (embedding: Tensor, head: Tensor?) {
        guard let rows = trainableTokens else { return (embedTokens, lmHead) }
        return try withNoGrad {
            let embedding = try embedTokens.indexUpdate(.copy, dim: 0, index: rows.indexTensor, source: rows.embeddingRows.detach().to(embedTokens.dtype))
            let head = try lmHead.map { head in
                guard let headRows = rows.headRows else { return head }
                return try head.indexUpdate(.copy, dim: 0, index: rows.indexTensor, source: headRows.detach().to(head.dtype))
            }
            return (embedding, head)
        }
    }
}
