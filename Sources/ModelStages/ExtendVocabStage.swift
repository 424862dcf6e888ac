// ExtendVocabStage — the `extend-vocab` kind (descriptor and parameters: Stages/ExtendVocabKind).
//
// Loads the base model and the extended tokenizer of the `hyperwords` stage, appends one embedding row
// (and one head row when the head is untied) per new token, initialised from the token's decomposition
// into base ids (mean, first-last, random, or hidden: the base model's hidden state over the pieces
// mapped back to the embedding space, LLM/HiddenStateInitialization), and writes the grown model as a
// Hugging Face directory with the extended tokenizer beside it (tokenizer.json, hyperwords.json, tokenizer_config.json) — the
// base every adapter of the run trains on. Metrics: how many rows were added and the mean L2 norm of
// the base rows and of the new ones, for the embedding and for the head.
import Foundation
import LLM
import LoomCore
import Pipeline
import Stages
import Tokenizers
import Torch

struct ExtendVocabStage: StageKind {
    var descriptor: StageKindDescriptor { ExtendVocabKind.descriptor }

    func run(_ context: StageContext) throws {
        let parameters = try ExtendVocabKind.Parameters.load(context.params)
        let upstream = UpstreamOutputs(context)
        let baseDirectory = try upstream.baseModelDirectory()
        let tokenizerDirectory = try upstream.extendedTokenizerDirectory()
        let extended = try ExtendedTokenizer(contentsOf: tokenizerDirectory)
        // Only `hidden` runs the model; the other initialisations read rows, on the CPU.
        let device = parameters.initialisation == .hidden ? try ModelLoading.device(parameters.device, log: context.log) : .cpu
        let model = try loadCausalLM(from: baseDirectory, device: device)
        let baseSize = model.config.vocabSize
        guard extended.baseVocabularySize == baseSize else {
            throw UpstreamError(
                "\(tokenizerDirectory.appendingPathComponent(ExtendedTokenizer.hyperwordsFile).path): the hyperwords extend a vocabulary of \(extended.baseVocabularySize) tokens, but the base model \(baseDirectory.path) has vocab_size \(baseSize): learn them on this model's tokenizer")
        }
        let newTokens = extended.newTokens.sorted { $0.id < $1.id }
        if let gap = newTokens.indices.first(where: { newTokens[$0].id != baseSize + $0 }) {
            throw UpstreamError(
                "\(tokenizerDirectory.appendingPathComponent(ExtendedTokenizer.hyperwordsFile).path): new token ids must follow the base vocabulary without gaps; expected id \(baseSize + gap), found \(newTokens[gap].id)")
        }
        let decompositions = newTokens.map(\.decomposition)
        guard !decompositions.isEmpty else {
            throw UpstreamError("\(tokenizerDirectory.path): the extended tokenizer adds no tokens")
        }
        let method: NewTokenInitialization = switch parameters.initialisation {
        case .mean: .mean
        case .firstLast: .firstLast
        case .random: .random(seed: UInt64(parameters.seed))
        case .hidden: .hidden(HiddenStateInitialization(
            layer: parameters.layer, fitTokens: parameters.fitTokens, ridge: parameters.ridge,
            prefix: extended.specialTokens.prefix, batchSize: parameters.batchSize))
        }
        try model.extendVocabulary(decompositions: decompositions, method: method) { done, total in
            context.progress.report(step: done, total: total, message: "hidden states of base tokens and new tokens")
        }
        context.log.info("added \(decompositions.count) rows (\(parameters.initialisation.rawValue) initialisation): vocabulary \(baseSize) → \(model.config.vocabSize)")

        var metrics = ["extend/new_tokens": Double(decompositions.count)]
        for (name, matrix) in [("embedding", model.embedTokens), ("head", model.lmHead)] {
            guard let matrix else { continue }
            let norms = try rowNorms(matrix, split: baseSize)
            metrics["extend/\(name)_base_norm"] = norms.base
            metrics["extend/\(name)_new_norm"] = norms.new
        }
        context.metrics.log(metrics, step: 0)

        let output = context.outputDirectory
        try model.saveModel(to: output, mergeAdapter: false)
        // The extended tokenizer replaces the base's (saveModel copied the base directory's companions).
        for name in [ExtendedTokenizer.tokenizerFile, ExtendedTokenizer.hyperwordsFile, "tokenizer_config.json", "special_tokens_map.json"] {
            let source = tokenizerDirectory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            try AtomicFile.write(Data(contentsOf: source), to: output.appendingPathComponent(name))
        }
        // The base's SentencePiece model does not know the new tokens: a directory holding it would
        // make transformers' slow tokenizer disagree with tokenizer.json.
        try? FileManager.default.removeItem(at: output.appendingPathComponent("tokenizer.model"))
        context.registerArtifact(name: "model", path: "model.safetensors")
        context.registerArtifact(name: "tokenizer", path: ExtendedTokenizer.tokenizerFile)
    }

    /// Mean L2 norm of the rows before `split` and of those from it on.
    private func rowNorms(_ matrix: Tensor, split: Int) throws -> (base: Double, new: Double) {
        try withNoGrad {
            let rows = matrix.shape[0]
            let base = try matrix.narrow(dim: 0, start: 0, length: split).norm(2, dims: [1]).mean().scalar(Double.self)
            let new = try matrix.narrow(dim: 0, start: split, length: rows - split).norm(2, dims: [1]).mean().scalar(Double.self)
            return (base, new)
        }
    }
}
