// DecoderModel — the decoder-only causal language model every family builds (ModelFamily: Llama, Mistral,
// Qwen2/3, Gemma 2/3, Phi-3), held in libtorch tensors: token embedding, decoder layers, final RMSNorm and
// the vocabulary head (tied to the embedding or not). Built from a Hugging Face directory (`load(from:)`)
// or with random weights (`random(config:)`). The forward pass, LoRA, trainable token rows, generation and
// export live in the DecoderModel+*.swift files beside this one; stages and verbs see it as a
// CausalLanguageModel.
import Foundation
import Torch

public final class DecoderModel {
    public internal(set) var config: ModelConfig
    /// (vocab, hidden), frozen.
    public internal(set) var embedTokens: Tensor
    /// (vocab, hidden), frozen; nil when the head is tied to `embedTokens`.
    public internal(set) var lmHead: Tensor?
    /// (hidden).
    public let finalNorm: Tensor
    let layers: [DecoderLayer]
    let rotary: RotaryEmbedding
    /// The windowed layers' own rotation (Gemma 3's local base), when the model has one.
    let localRotary: RotaryEmbedding?
    /// Where every tensor of the model lives: weights, adapters, rotary tables, and the tokens a forward
    /// pass is given (moved here on entry).
    public let device: Device
    /// The directory the model was loaded from (exports copy its tokenizer files), if any.
    public let sourceDirectory: URL?
    /// config.json as read, so that exports keep the keys Loom does not interpret.
    let sourceConfigJSON: Data?

    /// The configuration of the attached adapter, nil when none is attached.
    public internal(set) var loraConfiguration: LoRAConfiguration?
    /// Rows of the embedding (and untied head) trained on their own, when set up.
    public internal(set) var trainableTokens: TrainableTokenRows?
    /// Dropout masks of the adapters come from here (reseeded by `applyLoRA`).
    public internal(set) var dropoutGenerator: Generator?
    /// Which fused paths the forward pass takes (all by default).
    public var kernels = ModelKernels.fused
    /// Recompute each decoder layer's activations in backward instead of keeping them from forward
    /// (gradient checkpointing, as QLoRA recipes train): one more forward of every layer per step, for
    /// the activations' memory (off by default). Affects only passes that record a graph.
    public var gradientCheckpointing = false
    /// The most bytes of f32 logits the loss computes at once: above it, the rows of a loss are taken in
    /// chunks, each chunk's head GEMM and cross-entropy recomputed in backward, so the full
    /// (B·T, vocab) logits never exist (a 128k vocabulary at 4 × 2048 tokens would be 4 GiB of them).
    /// nil computes them whole.
    public var lossChunkBytes: Int? = 256 << 20
    var trainingMode = false

    /// Creates a base model for `config` whose tensors come from `weight(name, shape)` (Hugging Face
    /// names). `baseLinear` may turn each projection's dense base into another BaseLinear (e.g. NF4)
    /// as it is built, so that the dense weights of only one layer exist at a time.
    init(
        config: ModelConfig, sourceDirectory: URL?, sourceConfigJSON: Data?, device: Device = .cpu, dtype: DType = .float32,
        weight cpuWeight: (String, [Int]) throws -> Tensor,
        baseLinear: ((LoRATarget, DenseLinear) throws -> any BaseLinear)?
    ) throws {
        // Each tensor goes to the device as it is read, so that only one weight at a time is on the CPU;
        // the frozen matrices (projections, embedding, head) are stored in `dtype`, the norm gains in f32.
        func weight(_ name: String, _ shape: [Int]) throws -> Tensor {
            var tensor = try cpuWeight(name, shape)
            if dtype != .float32, !name.hasSuffix("norm.weight") { tensor = try tensor.to(dtype) }
            return device == .cpu ? tensor : try tensor.to(device)
        }
        self.device = device
        self.config = config
        self.sourceDirectory = sourceDirectory
        self.sourceConfigJSON = sourceConfigJSON
        let (vocab, hidden) = (config.vocabSize, config.hiddenSize)
        let names = config.weightNames
        embedTokens = try weight(names.embedding, [vocab, hidden])
        var layers: [DecoderLayer] = []
        for index in 0..<config.numHiddenLayers {
            func group(_ targets: [LoRATarget]) throws -> ProjectionGroup {
                let group = try Self.projectionGroup(targets, layer: index, config: config, weight: weight, baseLinear: baseLinear)
                // The dense weights just replaced (e.g. quantised) are freed; without a trim their heap
                // blocks would stay resident, and the model's resident set would end far above its size.
                if baseLinear != nil { try TorchRuntime.releaseFreeHeapMemory() }
                return group
            }
            let prefix = names.layer(index)
            let headNorms = config.queryKeyNorm
                ? (try weight(prefix + "self_attn.q_norm.weight", [config.headDim]), try weight(prefix + "self_attn.k_norm.weight", [config.headDim]))
                : nil
            let attention = SelfAttention(inputProjections: try group(config.attentionInputTargets), outputProjection: try group([.output]),
                                          config: config, layer: index, queryNorm: headNorms?.0, keyNorm: headNorms?.1)
            let mlp = FeedForward(inputProjections: try group(config.mlpInputTargets), outputProjection: try group([.down]),
                                  activation: config.activation)
            let norms = try config.family.layerNormNames(config).map { name in
                (name: name + ".weight", tensor: try weight(prefix + name + ".weight", [hidden]))
            }
            layers.append(DecoderLayer(norms: norms, config: config, attention: attention, mlp: mlp))
        }
        self.layers = layers
        finalNorm = try weight(names.finalNorm, [hidden])
        lmHead = config.tieWordEmbeddings ? nil : try weight(names.head, [vocab, hidden])
        let initialPositions = min(config.maxPositionEmbeddings, 4096)
        rotary = try RotaryEmbedding(headDim: config.rotaryDim, theta: config.ropeTheta, scaling: config.ropeScaling,
                                     initialPositions: initialPositions, device: device)
        localRotary = try config.localRopeTheta.map {
            try RotaryEmbedding(headDim: config.rotaryDim, theta: $0, initialPositions: initialPositions, device: device)
        }
    }

    /// The projections `targets` of layer `layer`: fused into one weight when they all stay dense.
    private static func projectionGroup(
        _ targets: [LoRATarget], layer: Int, config: ModelConfig, weight: (String, [Int]) throws -> Tensor,
        baseLinear: ((LoRATarget, DenseLinear) throws -> any BaseLinear)?
    ) throws -> ProjectionGroup {
        var dense: [DenseLinear] = []
        var bases: [any BaseLinear] = []
        for target in targets {
            let (inFeatures, outFeatures) = config.shape(of: target)
            let name = config.weightNames.projection(target, layer: layer)
            let bias = config.hasBias(target) ? try weight(name + ".bias", [outFeatures]) : nil
            let part = try DenseLinear(weight: weight(name + ".weight", [outFeatures, inFeatures]), bias: bias)
            let base = try baseLinear?(target, part) ?? part
            // A replaced dense part is dropped at once: one dense weight at a time, not a group's.
            if (base as AnyObject) === part { dense.append(part) }
            bases.append(base)
        }
        guard dense.count == targets.count, targets.count > 1 else { return ProjectionGroup(targets: targets, bases: bases) }
        let fusedWeight = try Tensor.cat(dense.map(\.weight), dim: 0)
        let fusedBias = try dense.first?.bias == nil ? nil : Tensor.cat(dense.compactMap(\.bias), dim: 0)
        return try ProjectionGroup(targets: targets, fusedWeight: fusedWeight, fusedBias: fusedBias, outFeatures: dense.map(\.outFeatures))
    }

    // MARK: loading

    /// Loads a Hugging Face model directory: config.json plus model.safetensors (or the shards listed by
    /// model.safetensors.index.json). Weights are held in f32: bf16/f16 checkpoints are upcast on load.
    /// `baseLinear` may replace each projection's dense base as it is built (see `init`). `device`: where
    /// the model lives (`Device.resolve` turns a user's `auto`/`cuda:N` into one). `dtype`: how the frozen
    /// matrices are stored and multiplied — f32, or bf16/f16 (half the memory; an adapter, its optimizer
    /// state, the norms, the residual stream and the loss stay f32).
    public static func load(
        from directory: URL, device: Device = .cpu, dtype: DType = .float32,
        baseLinear: ((LoRATarget, DenseLinear) throws -> any BaseLinear)? = nil
    ) throws -> DecoderModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelFileError(file: directory.path, problem: "no such model directory")
        }
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw ModelFileError(file: configURL.path, problem: "missing (a Hugging Face model directory holds config.json and its weights)")
        }
        let configData: Data
        do {
            configData = try Data(contentsOf: configURL)
        } catch {
            throw ModelFileError(file: configURL.path, problem: "cannot read the model configuration (\(error.localizedDescription))")
        }
        var config = try ModelConfig.decode(configData, file: configURL.path)
        let files = try ModelWeightFiles(directory: directory)
        if config.textModelType != nil {
            // A multimodal checkpoint: the Hub's original layout keeps the text model under
            // `language_model.model.`; only its tensors are read, and the log says what is left.
            if !files.contains(config.weightNames.embedding), files.contains("language_model.model.embed_tokens.weight") {
                config.weightNames = WeightNames(prefix: "language_model.model.", head: "language_model.lm_head.weight")
            }
            let text = config.weightNames
            let ignored = files.names.filter { !$0.hasPrefix(text.prefix) && $0 != text.head }
            for name in ignored { files.skip(name) }
            if !ignored.isEmpty {
                FileHandle.standardError.write(Data(
                    "loom: \(directory.path): \(config.modelType) is multimodal; loading its text model only (\(ignored.count) tensors of the other modalities left unread)\n".utf8))
            }
        }
        if config.tieWordEmbeddings { files.skip(config.weightNames.head) }
        let model = try DecoderModel(
            config: config, sourceDirectory: directory, sourceConfigJSON: configData, device: device, dtype: dtype,
            weight: { try files.tensor($0, shape: $1) }, baseLinear: baseLinear)
        try files.checkAllConsumed(configuration: configURL.path)
        return model
    }

    /// A model with Hugging Face's default initialisation for `config`: every linear and embedding
    /// weight N(0, standardDeviation²), norms 1, biases 0, drawn from a generator seeded with `seed`.
    public static func random(
        config: ModelConfig, seed: UInt64 = 0, standardDeviation: Double = 0.02, device: Device = .cpu, dtype: DType = .float32,
        baseLinear: ((LoRATarget, DenseLinear) throws -> any BaseLinear)? = nil
    ) throws -> DecoderModel {
        // Drawn on the CPU whatever the device, so that a seed gives the same weights everywhere.
        let generator = try Generator(seed: seed)
        return try DecoderModel(config: config, sourceDirectory: nil, sourceConfigJSON: nil, device: device, dtype: dtype, weight: { name, shape in
            // Norm gains start at 1: w = 1, or w = 0 where the family multiplies by (1 + w).
            if name.hasSuffix("norm.weight") { return try config.normWeightOffset == 0 ? Tensor.ones(shape) : Tensor.zeros(shape) }
            if name.hasSuffix(".bias") { return try Tensor.zeros(shape) }
            return try Tensor.normal(shape, mean: 0, std: standardDeviation, generator: generator)
        }, baseLinear: baseLinear)
    }

    // MARK: structure

    /// The frozen base of projection `target` in layer `layer`.
    public func base(layer: Int, _ target: LoRATarget) -> any BaseLinear {
        layers[layer].base(target)
    }

    /// The LoRA adapter on projection `target` in layer `layer`, if one is attached.
    public func adapter(layer: Int, _ target: LoRATarget) -> LoRALinear? {
        layers[layer].adapter(target)
    }

    /// Replaces the frozen base of every `targets` projection by `make(dense)` — e.g. its NF4 form for
    /// QLoRA. Works before or after an adapter is attached (the adapter then wraps the new base).
    /// Bases that are not dense any more (already replaced) are left alone.
    public func quantizeBaseLinears(
        targets: [LoRATarget]? = nil, make: (DenseLinear) throws -> any BaseLinear
    ) throws {
        for layer in layers {
            for target in targets ?? config.projectionTargets {
                guard let (group, index) = layer.group(of: target) else { continue }
                guard let dense = group.bases[index] as? DenseLinear else { continue }
                try group.replaceBase(at: index, with: make(dense))
            }
        }
    }

    /// Bytes of the projections' frozen weights as stored (4-bit codes and scales for quantised bases).
    public var projectionResidentBytes: Int {
        layers.reduce(0) { total, layer in
            total + config.projectionTargets.reduce(0) { $0 + layer.base($1).residentBytes }
        }
    }

    /// Parameters of the base model (embedding, projections, norms, head).
    public var parameterCount: Int {
        let perLayer = config.projectionTargets.reduce(0) { total, target in
            let shape = config.shape(of: target)
            return total + shape.inFeatures * shape.outFeatures + (config.hasBias(target) ? shape.outFeatures : 0)
        } + config.family.layerNormNames(config).count * config.hiddenSize + (config.queryKeyNorm ? 2 * config.headDim : 0)
        let head = config.tieWordEmbeddings ? 0 : config.vocabSize * config.hiddenSize
        return config.vocabSize * config.hiddenSize + config.numHiddenLayers * perLayer + config.hiddenSize + head
    }
}
