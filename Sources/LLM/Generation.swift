// Generation — autoregressive decoding with a KV cache: the prompt runs through the model once, then
// each new token alone. Greedy (temperature 0) or sampled with temperature and nucleus (top-p)
// filtering from a seeded generator, until an end-of-sequence id or the token budget.
import Torch

public struct GenerationOptions: Sendable, Equatable {
    public var maxNewTokens: Int
    /// 0 picks the most likely token (greedy); above 0 samples from softmax(logits / temperature).
    public var temperature: Double
    /// Nucleus sampling: only the most likely tokens whose probabilities add up to topP are drawn from.
    public var topP: Double
    public var seed: UInt64
    /// Ids that end generation (included in the output); nil uses the model's `eos_token_id`.
    public var stopTokenIds: [Int]?

    public init(maxNewTokens: Int = 32, temperature: Double = 0, topP: Double = 1, seed: UInt64 = 0, stopTokenIds: [Int]? = nil) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        self.stopTokenIds = stopTokenIds
    }
}

public struct GenerationResult: Sendable, Equatable {
    public enum StopReason: String, Sendable, Codable { case endOfSequence = "eos", maxNewTokens = "max_new_tokens" }
    /// The generated ids (not the prompt).
    public var tokens: [Int]
    public var stopReason: StopReason
}

extension DecoderModel {
    /// Continues `prompt` (token ids) by up to `options.maxNewTokens` tokens. `onToken` sees each new id
    /// as it is produced (for streaming output).
    public func generate(prompt: [Int], options: GenerationOptions = GenerationOptions(), onToken: ((Int) -> Void)? = nil) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw ModelError("generation needs a prompt of at least one token") }
        guard options.maxNewTokens >= 0 else { throw ModelError("maxNewTokens must not be negative, got \(options.maxNewTokens)") }
        guard options.temperature >= 0 else { throw ModelError("temperature must not be negative, got \(options.temperature)") }
        guard options.topP > 0, options.topP <= 1 else { throw ModelError("top-p must be in (0, 1], got \(options.topP)") }
        let stops = Set(options.stopTokenIds ?? config.eosTokenIds)
        let generator = try Generator(seed: options.seed)
        let wasTraining = isTraining
        isTraining = false
        defer { isTraining = wasTraining }
        return try withNoGrad {
            let cache = try KVCache(config: config, batchSize: 1, capacity: prompt.count + max(options.maxNewTokens, 1), device: device)
            var input = try Tensor(prompt.map { Int64($0) }, shape: [1, prompt.count])
            var generated: [Int] = []
            while generated.count < options.maxNewTokens {
                // The pick runs on the CPU, with the CPU generator `seed` made: the same draws on any device.
                let last = try nextTokenLogits(tokens: input, cache: cache).reshape([config.vocabSize]).to(.cpu)
                let next = try Self.pick(last, temperature: options.temperature, topP: options.topP, generator: generator)
                generated.append(next)
                onToken?(next)
                if stops.contains(next) { return GenerationResult(tokens: generated, stopReason: .endOfSequence) }
                input = try Tensor([Int64(next)], shape: [1, 1])
            }
            return GenerationResult(tokens: generated, stopReason: .maxNewTokens)
        }
    }

    /// The next id from last-position logits (vocab): argmax, or a draw after temperature and top-p.
    static func pick(_ logits: Tensor, temperature: Double, topP: Double, generator: Generator) throws -> Int {
        if temperature == 0 { return try logits.argmax().scalar(Int.self) }
        let probabilities = try (logits / temperature).softmax(dim: 0)
        guard topP < 1 else { return try probabilities.multinomial(samples: 1, generator: generator).scalar(Int.self) }
        let (sorted, order) = try probabilities.sort(dim: 0, descending: true)
        // Keep a token while the mass of the more likely ones before it is below topP (the most likely
        // token is always kept).
        let before = try sorted.cumsum(dim: 0) - sorted
        let kept = try sorted.maskedFill(before.ge(topP), value: 0)
        let drawn = try kept.multinomial(samples: 1, generator: generator).scalar(Int.self)
        return try order.select(dim: 0, index: drawn).scalar(Int.self)
    }
}
