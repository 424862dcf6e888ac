// SceneCompute — what a scene costs a model to train on, from the shapes alone: its tokens, the LoRA
// training FLOPs per MB of text, and the activations a batch of scene-length sequences keeps for backward.
// eval reports it for the base tokenizer and the extended one, so what hyperwords save is a number beside
// the researcher's expectation ("2–4× less memory"), not a guess.
//
// FLOPs per token of one LoRA training step (frozen base, f32):
//   4 · (projection weights + head)      forward GEMMs (2 per weight) and the input gradients in backward (2):
//                                        a frozen weight gets no weight gradient
//   6 · trainable parameters             LoRA A/B and token rows: forward, input and weight gradients
//   12 · layers · hidden · T              attention scores and weighted values over T positions (PaLM's
//                                        term; bench/lora-train's MFU uses the same formula)
// Activations kept for backward per layer and token (f32, the composite attention path; Loom's fused CPU
// attention keeps less): the two norm inputs (2 · hidden), q, k, v ((heads + 2 · kv heads) · head_dim),
// the attention output (heads · head_dim), gate, up and their product (3 · intermediate), and the softmax
// probabilities (heads · T). The embedding, head and logits are left out: they do not depend on how
// many layers a model has and the memory-lean loss chunks the logits.
import Foundation
import LLM

struct SceneCompute: Codable, Equatable {
    /// Mean tokens per scene, as the scene is fed (with the tokenizer's prefix).
    let tokensPerScene: Double
    /// Training FLOPs for one MB (10⁶ bytes) of text.
    let trainingFLOPsPerMB: Double
    /// Bytes of activations kept for backward by a batch of `batch` sequences of one mean scene's length.
    let activationBytes: Double
    let batch: Int

    init(config: ModelConfig, trainableParameters: Int, sceneTokens: [Int], bytes: Int, batch: Int) {
        let scenes = max(sceneTokens.count, 1)
        let tokens = sceneTokens.reduce(0, +)
        tokensPerScene = Double(tokens) / Double(scenes)
        let length = tokensPerScene
        let (layers, hidden) = (Double(config.numHiddenLayers), Double(config.hiddenSize))
        let weights = Double(config.projectionWeights() + config.vocabSize * config.hiddenSize)
        let flopsPerToken = 4 * weights + 6 * Double(trainableParameters) + 12 * layers * hidden * length
        trainingFLOPsPerMB = bytes > 0 ? flopsPerToken * Double(tokens) / (Double(bytes) / 1e6) : 0
        let headDim = Double(config.headDim)
        let (heads, kvHeads) = (Double(config.numAttentionHeads), Double(config.numKeyValueHeads))
        let perToken = 2 * hidden + (heads + 2 * kvHeads) * headDim + heads * headDim + 3 * Double(config.intermediateSize) + heads * length
        activationBytes = 4 * layers * perToken * length * Double(batch)
        self.batch = batch
    }
}
