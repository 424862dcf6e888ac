// Interfaces — the two seams inside LLM: a frozen base projection (dense or 4-bit) that LoRA wraps, and
// what the Trainer needs from a model. Keeping them small lets the model, QLoRA and the Trainer grow
// independently.
import Foundation
import Torch

/// A frozen base projection y = x·Wᵀ (+ b), W of shape (outFeatures, inFeatures): dense (f32/bf16) or
/// NF4-quantised. Never trained; gradients flow only to its input.
public protocol BaseLinear: AnyObject {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// (…, inFeatures) → (…, outFeatures).
    func callAsFunction(_ input: Tensor) throws -> Tensor
    /// W as a dense (outFeatures, inFeatures) tensor in `dtype` (dequantised when stored in 4 bits):
    /// for merging an adapter and for export.
    func denseWeight(dtype: DType) throws -> Tensor
    /// The optional bias (outFeatures).
    var bias: Tensor? { get }
    /// Bytes this layer's weight storage keeps resident (codes + scales for 4-bit, the weight otherwise).
    var residentBytes: Int { get }
}

/// What the Trainer needs from a model being fine-tuned or pretrained.
public protocol TrainableLanguageModel: AnyObject {
    /// Mean next-token cross-entropy over a batch of token ids (B, T) int64: the logits at positions
    /// 0..<T-1 against the ids at 1..<T (Hugging Face's causal-LM loss with labels = input_ids).
    func loss(tokens: Tensor) throws -> Tensor
    /// The tensors the optimizer updates, with stable names (optimizer state and checkpoints use them).
    var trainableParameters: [(name: String, tensor: Tensor)] { get }
    /// Training mode turns dropout on; evaluation mode turns it off.
    var isTraining: Bool { get set }
    /// Writes the trainable state (e.g. a PEFT adapter directory) into `directory`.
    func saveTrainableState(to directory: URL) throws
    /// Restores what `saveTrainableState` wrote, into the existing trainable tensors (in place).
    func loadTrainableState(from directory: URL) throws
    /// Names of trainable tensors AdamW applies no weight decay to (norm gains, biases).
    var parametersWithoutWeightDecay: Set<String> { get }
    /// The loss of rows that pack several documents which must not see each other: `documentStarts[b]`
    /// lists the positions of row b where a new document begins (0 implied).
    func loss(tokens: Tensor, documentStarts: [[Int]]) throws -> Tensor
}

extension TrainableLanguageModel {
    /// Every trainable tensor decays (LoRA matrices and token rows are all weights).
    public var parametersWithoutWeightDecay: Set<String> { [] }

    public func loss(tokens: Tensor, documentStarts: [[Int]]) throws -> Tensor {
        throw ModelError("\(type(of: self)) cannot mask attention between packed documents (packing: masked)")
    }
}
