// LLMTestHelpers — what the LLM tests share: the tiny-llama-a fixture (transformers 5.23 + peft 0.21
// outputs), tiny configurations for the other architectures, and tensor comparisons.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

enum TinyLlamaFixture {
    static let directory = TestPaths.fixture("tiny-llama-a")
    static var adapterDirectory: URL { directory.appendingPathComponent("adapter") }

    /// input_ids.json as a (2, 17) int64 tensor.
    static func inputIds() throws -> Tensor { try fixtureInputIds(directory) }

    static func reference(_ file: String, _ name: String) throws -> Tensor {
        try SafeTensorsFile(url: directory.appendingPathComponent(file)).tensor(name)
    }

    static func referenceJSON() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("reference.json"))) as! [String: Any]
    }
}

/// After a backward pass: every trainable tensor of `model` has PEFT's gradient (the file's tensor of
/// the same name) within 1e-4 relative, and the file names no other.
func expectGradientsMatch(_ model: any CausalLanguageModel, _ file: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let references = try SafeTensorsFile(url: file)
    let parameters = model.trainableParameters
    #expect(Set(parameters.map(\.name)) == Set(references.names), sourceLocation: sourceLocation)
    for (name, tensor) in parameters {
        let gradient = try #require(tensor.grad, "no gradient for \(name)", sourceLocation: sourceLocation)
        #expect(try relativeDifference(gradient, references.tensor(name)) < 1e-4, "\(name)", sourceLocation: sourceLocation)
    }
}

/// A fixture directory's input_ids.json (equally long rows of token ids) as a (rows, length) int64 tensor.
func fixtureInputIds(_ directory: URL) throws -> Tensor {
        let rows = try JSONDecoder().decode([[Int64]].self, from: Data(contentsOf: directory.appendingPathComponent("input_ids.json")))
        return try Tensor(rows.flatMap { $0 }, shape: [rows.count, rows[0].count])
}

/// max |a − b| over all elements.
func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
    try (a.detach().to(.float64) - b.detach().to(.float64)).abs().amax().scalar(Double.self)
}

/// max |a − b| / max |b|: a relative error that does not blow up at elements near zero.
func relativeDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
    try maxAbsDifference(a, b) / max(b.detach().to(.float64).abs().amax().scalar(Double.self), 1e-30)
}


/// Tiny configurations of the other shapes the model supports.
enum TinyConfigs {
    /// Qwen2-style: q/k/v biases, grouped-query attention (4 query heads over 2 key/value heads), tied head.
    static let qwen2 = ModelConfig(
        modelType: "qwen2", hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 4,
        numKeyValueHeads: 2, vocabSize: 96, ropeTheta: 1_000_000, tieWordEmbeddings: true)
    /// Llama with GQA (8 heads over 2), an explicit head_dim different from hidden/heads, untied head.
    static let llamaGQA = ModelConfig(
        hiddenSize: 48, intermediateSize: 64, numHiddenLayers: 3, numAttentionHeads: 8, numKeyValueHeads: 2, headDim: 8,
        vocabSize: 80)
    /// Mistral with a sliding window shorter than the test sequences.
    static let mistralWindow = ModelConfig(
        modelType: "mistral", hiddenSize: 32, intermediateSize: 40, numHiddenLayers: 2, numAttentionHeads: 4,
        numKeyValueHeads: 1, vocabSize: 64, slidingWindow: 5)

    /// A random model whose weights are large enough (σ 0.2) that mistakes move the logits visibly.
    static func model(_ config: ModelConfig, seed: UInt64 = 3) throws -> DecoderModel {
        try DecoderModel.random(config: config, seed: seed, standardDeviation: 0.2)
    }

    /// Deterministic token ids (batch, length) inside the vocabulary.
    static func tokens(batch: Int, length: Int, vocabulary: Int, seed: UInt64 = 11) throws -> Tensor {
        try Tensor.randint(0, vocabulary, shape: [batch, length], generator: Generator(seed: seed))
    }
}
