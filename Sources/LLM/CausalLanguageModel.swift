// CausalLanguageModel — the seam between the model and everything that uses one: what stages, verbs and
// the Trainer may ask of a causal LM (forward, loss, LoRA / QLoRA, vocabulary resize, generation,
// save and export), and the one function that loads one (`loadCausalLM`: dense or NF4, dtype, device,
// an adapter). DecoderModel is the implementation every registered family builds (ModelFamily); nothing
// outside LLM names it.
import Foundation
import LoomCore
import Torch

public protocol CausalLanguageModel: TrainableLanguageModel {
    /// The architecture, as config.json describes it.
    var config: ModelConfig { get }
    /// Where every tensor of the model lives; token ids given to it are moved there.
    var device: Device { get }
    /// The token embedding (vocab, hidden) and the untied head (nil when tied), frozen.
    var embedTokens: Tensor { get }
    var lmHead: Tensor? { get }
    /// The directory the model was loaded from, if any.
    var sourceDirectory: URL? { get }
    /// The attached adapter's configuration; nil when none is attached.
    var loraConfiguration: LoRAConfiguration? { get }
    /// Where the adapter's dropout masks come from (a checkpoint saves its state).
    var dropoutGenerator: Generator? { get }
    /// Which fused paths the forward pass takes.
    var kernels: ModelKernels { get set }
    /// Recompute each layer's activations in backward (gradient checkpointing).
    var gradientCheckpointing: Bool { get set }
    /// The most bytes of logits the loss computes at once (nil: all at once).
    var lossChunkBytes: Int? { get set }
    /// Parameters of the base model, of the attached adapter (and token rows), and the projections'
    /// resident bytes as stored (4-bit for NF4 bases).
    var parameterCount: Int { get }
    var trainableParameterCount: Int { get }
    var projectionResidentBytes: Int { get }

    /// Logits (B, T, vocab) and, when asked, the L + 1 hidden states of `tokens` (B, T), continuing `cache`.
    func forward(tokens: Tensor, cache: KVCache?, outputHiddenStates: Bool, computeLogits: Bool) throws -> ModelOutput
    /// The causal-LM loss against shifted `labels` (−100 ignored), mean over the counted positions.
    func loss(tokens: Tensor, labels: Tensor) throws -> Tensor
    /// Mean loss of each sequence, for scoring held-out text.
    func score(sequences: [[Int]], batchSize: Int) throws -> ScoreResult
    /// Sampled or greedy continuation of `prompt`.
    func generate(prompt: [Int], options: GenerationOptions, onToken: ((Int) -> Void)?) throws -> GenerationResult

    /// Attaches a fresh LoRA adapter (and trainable token rows) as `configuration` says.
    func applyLoRA(_ configuration: LoRAConfiguration, seed: UInt64) throws
    /// Attaches a PEFT adapter directory; saves the attached one as one.
    func loadAdapter(from directory: URL) throws
    func saveAdapter(to directory: URL) throws
    /// Folds the adapter into the weights; detaches it without folding.
    func mergeAdapter() throws
    func removeAdapter()
    /// The frozen base of projection `target` in layer `layer`.
    func base(layer: Int, _ target: LoRATarget) -> any BaseLinear
    /// Every weight of the model as what the Trainer trains (pretraining from scratch); the model must be
    /// dense and carry no adapter.
    func fullParameterTraining() throws -> any TrainableLanguageModel
    /// Replaces the frozen base of `targets` (all projections when nil) by `make(dense)`, e.g. NF4.
    func quantizeBaseLinears(targets: [LoRATarget]?, make: (DenseLinear) throws -> any BaseLinear) throws

    /// Grows the vocabulary with rows initialised from the tokens each new one replaces; `progress(done,
    /// total)` reports the forward passes an initialisation runs (`hidden`).
    func extendVocabulary(decompositions: [[Int]], method: NewTokenInitialization, progress: ((Int, Int) -> Void)?) throws
    /// Writes config.json, model.safetensors and the tokenizer files (the adapter folded in, or not).
    func saveModel(to directory: URL, mergeAdapter: Bool, companionsFrom: URL?) throws
    /// Every weight under its Hugging Face name, f32 on the CPU.
    func stateDictionary(mergeAdapter: Bool) throws -> [String: Tensor]
    /// llama.cpp's architecture name, metadata and tensors for a GGUF file.
    var ggufArchitecture: String { get }
    func ggufMetadata(name: String, type: GGUFExportType) throws -> [(String, GGUFValue)]
    func ggufTensors(type: GGUFExportType, mergeAdapter: Bool) throws -> [GGUFTensor]
}

extension CausalLanguageModel {
    public func logits(tokens: Tensor) throws -> Tensor {
        try forward(tokens: tokens, cache: nil, outputHiddenStates: false, computeLogits: true).logits!
    }
    public func generate(prompt: [Int], options: GenerationOptions = GenerationOptions()) throws -> GenerationResult {
        try generate(prompt: prompt, options: options, onToken: nil)
    }
    public func score(sequences: [[Int]]) throws -> ScoreResult { try score(sequences: sequences, batchSize: 8) }
    public func ggufTensors(type: GGUFExportType) throws -> [GGUFTensor] { try ggufTensors(type: type, mergeAdapter: true) }
    public func saveModel(to directory: URL, mergeAdapter: Bool = true) throws {
        try saveModel(to: directory, mergeAdapter: mergeAdapter, companionsFrom: nil)
    }
}

extension DecoderModel: CausalLanguageModel {
    public func fullParameterTraining() throws -> any TrainableLanguageModel { try FullParameterTraining(self) }
}

/// How the frozen projections of a loaded model are stored.
public enum BaseWeights: Sendable, Equatable {
    /// Dense, in the load's dtype (LoRA).
    case dense
    /// NF4 for these projections (all of the model's when nil), dequantised to the load's dtype to
    /// multiply (QLoRA).
    case nf4(targets: [LoRATarget]?)
}

/// Loads the Hugging Face model in `directory` as its family (config.json's `model_type`) — the one
/// function every stage and verb loads a model with. `baseWeights`: dense, or NF4 as each projection is
/// read (only one dense projection exists at a time); with `adapter`, an NF4 load quantises the
/// adapter's own targets (what its QLoRA training quantised) and the adapter is attached. `dtype`: how
/// the frozen matrices are stored and multiplied; `device`: where the model lives.
public func loadCausalLM(
    from directory: URL, adapter: URL? = nil, baseWeights: BaseWeights = .dense, dtype: DType = .float32, device: Device = .cpu
) throws -> any CausalLanguageModel {
    let model: DecoderModel
    switch baseWeights {
    case .dense:
        model = try DecoderModel.load(from: directory, device: device, dtype: dtype)
    case .nf4(let targets):
        var quantised = targets.map(Set.init)
        if let adapter, quantised == nil {
            let config = try ModelConfig.load(from: directory)
            let stored = try PEFTAdapter.readConfig(adapter.appendingPathComponent(PEFTAdapter.configFileName), projections: config.projectionTargets)
            quantised = Set(stored.configuration.targets)
        }
        model = try DecoderModel.load(
            from: directory, device: device,
            baseLinear: NF4Linear.quantizing(targets: quantised ?? Set(LoRATarget.allCases), computeDType: dtype))
    }
    if let adapter { try model.loadAdapter(from: adapter) }
    return model
}

/// A model of `config` with Hugging Face's default initialisation drawn from `seed` (pretraining from
/// scratch, benchmarks).
public func randomCausalLM(config: ModelConfig, seed: UInt64 = 0, device: Device = .cpu, dtype: DType = .float32) throws -> any CausalLanguageModel {
    try DecoderModel.random(config: config, seed: seed, device: device, dtype: dtype)
}
