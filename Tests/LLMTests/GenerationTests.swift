// GenerationTests — the KV cache against recomputing the whole sequence (logits and greedy decoding),
// seeded sampling, nucleus filtering and stopping at end-of-sequence.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct GenerationTests {
    /// Checks cached greedy decoding against the whole sequence recomputed without a cache (teacher-forced):
    /// at every generated position the chosen token must be the recomputed argmax, up to ties within
    /// 1e-4 — the cached and full computations run GEMMs of other shapes and differ by ~1e-6 (see
    /// `cachedLogitsEqualFullRecomputation`), so a near-tie may break either way.
    private func expectGreedyUnderRecomputation(_ model: DecoderModel, prompt: [Int], generated: [Int]) throws {
        let sequence = prompt + generated
        let logits = try withNoGrad { try model.logits(tokens: Tensor(sequence.map { Int64($0) }, shape: [1, sequence.count])) }
        for (offset, token) in generated.enumerated() {
            let row = try logits.select(dim: 1, index: prompt.count - 1 + offset).reshape([-1])
            let best = try row.amax().scalar(Double.self)
            let chosen = try row.select(dim: 0, index: token).scalar(Double.self)
            #expect(chosen >= best - 1e-4, "generated token \(offset): \(chosen) against the best \(best)")
        }
    }

    @Test func cachedLogitsEqualFullRecomputation() throws {
        for config in [TinyConfigs.qwen2, TinyConfigs.llamaGQA, TinyConfigs.mistralWindow] {
            let model = try TinyConfigs.model(config)
            let tokens = try TinyConfigs.tokens(batch: 2, length: 11, vocabulary: config.vocabSize)
            let cache = try KVCache(config: config, batchSize: 2, capacity: 16)
            let (full, pieces) = try withNoGrad {
                let full = try model.logits(tokens: tokens)
                // A 6-token prompt, then one token at a time, then the last 2 together.
                var pieces = [try model.logits(tokens: tokens.narrow(dim: 1, start: 0, length: 6), cache: cache)]
                for position in 6..<9 { pieces.append(try model.logits(tokens: tokens.narrow(dim: 1, start: position, length: 1), cache: cache)) }
                pieces.append(try model.logits(tokens: tokens.narrow(dim: 1, start: 9, length: 2), cache: cache))
                return (full, try Tensor.cat(pieces, dim: 1))
            }
            #expect(cache.length == 11)
            #expect(try maxAbsDifference(full, pieces) < 1e-5, "\(config.modelType)")
        }
    }

    @Test func cachedGreedyGenerationEqualsUncachedArgmaxDecoding() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let prompt = [89, 106, 67, 172, 197]
        let generated = try model.generate(prompt: prompt, options: GenerationOptions(maxNewTokens: 12, stopTokenIds: []))
        #expect(generated.tokens.count == 12)
        try expectGreedyUnderRecomputation(model, prompt: prompt, generated: generated.tokens)
        #expect(generated.stopReason == .maxNewTokens)
        for config in [TinyConfigs.qwen2, TinyConfigs.mistralWindow] {
            let tiny = try TinyConfigs.model(config)
            let result = try tiny.generate(prompt: [3, 1, 4, 1], options: GenerationOptions(maxNewTokens: 10, stopTokenIds: []))
            #expect(result.tokens.count == 10, "\(config.modelType)")
            try expectGreedyUnderRecomputation(tiny, prompt: [3, 1, 4, 1], generated: result.tokens)
        }
    }

    @Test func samplingIsReproducibleWithASeed() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let options = GenerationOptions(maxNewTokens: 16, temperature: 1.0, topP: 0.9, seed: 42, stopTokenIds: [])
        let first = try model.generate(prompt: [1, 2, 3], options: options)
        #expect(first.tokens == (try model.generate(prompt: [1, 2, 3], options: options).tokens))
        var other = options
        other.seed = 43
        #expect(first.tokens != (try model.generate(prompt: [1, 2, 3], options: other).tokens))
        // A nucleus too small to hold two tokens leaves only the most likely one: greedy decoding.
        var narrow = options
        narrow.topP = 1e-6
        let greedy = try model.generate(prompt: [1, 2, 3], options: GenerationOptions(maxNewTokens: 16, stopTokenIds: []))
        #expect(try model.generate(prompt: [1, 2, 3], options: narrow).tokens == greedy.tokens)
    }

    @Test func generationStopsAtEndOfSequence() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let free = try model.generate(prompt: [89, 106], options: GenerationOptions(maxNewTokens: 8, stopTokenIds: []))
        let stop = free.tokens[3]
        let stopped = try model.generate(prompt: [89, 106], options: GenerationOptions(maxNewTokens: 8, stopTokenIds: [stop]))
        #expect(stopped.tokens == Array(free.tokens.prefix(through: free.tokens.firstIndex(of: stop)!)))
        #expect(stopped.stopReason == .endOfSequence)
    }

    @Test func badGenerationRequestsAreRefused() throws {
        let model = try TinyConfigs.model(TinyConfigs.qwen2)
        #expect(errorMessage { _ = try model.generate(prompt: []) } == "generation needs a prompt of at least one token")
        #expect(errorMessage { _ = try model.generate(prompt: [1], options: GenerationOptions(topP: 0)) } == "top-p must be in (0, 1], got 0.0")
        #expect(errorMessage { _ = try model.generate(prompt: [500]) } == "token id 500 is outside the vocabulary (0..<96)")
    }
}
