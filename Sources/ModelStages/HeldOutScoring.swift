// HeldOutScoring — how well a model predicts whole scenes, in units that compare across vocabularies.
// Each scene is `<s>` + its tokens (no `</s>`: only the text's own bytes are predicted), cut into
// windows of at most `windowLength` ids that overlap by one, so every token of the text is predicted
// exactly once. Bits per byte = Σ nats / ln 2 / Σ UTF-8 bytes of the scenes: a model with a larger
// vocabulary predicts fewer, harder tokens, and only this figure stays fair between them.
import Foundation
import LLM

struct HeldOutScore: Codable, Equatable {
    /// Mean next-token loss in nats.
    var meanLoss: Double
    /// Tokens predicted (every text token).
    var tokens: Int
    /// UTF-8 bytes of the scored text.
    var bytes: Int

    var perplexity: Double { exp(meanLoss) }
    var bitsPerByte: Double { bytes == 0 ? 0 : meanLoss * Double(tokens) / log(2) / Double(bytes) }

    enum CodingKeys: String, CodingKey {
        case meanLoss = "mean_loss"
        case tokens, bytes
        case perplexity, bitsPerByte = "bits_per_byte"
    }

    init(meanLoss: Double, tokens: Int, bytes: Int) {
        self.meanLoss = meanLoss
        self.tokens = tokens
        self.bytes = bytes
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        meanLoss = try container.decode(Double.self, forKey: .meanLoss)
        tokens = try container.decode(Int.self, forKey: .tokens)
        bytes = try container.decode(Int.self, forKey: .bytes)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(meanLoss, forKey: .meanLoss)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(perplexity, forKey: .perplexity)
        try container.encode(bitsPerByte, forKey: .bitsPerByte)
    }
}

enum HeldOutScoring {
    /// Scores `windows` (TokenizedText.scoringWindows of the scenes) against the scenes' `bytes`.
    static func score(model: any CausalLanguageModel, windows: [[Int]], bytes: Int, batchSize: Int) throws -> HeldOutScore {
        guard !windows.isEmpty else { throw ModelError("the evaluated scenes hold no token to predict") }
        // Windows of one length batch without padding: longest first.
        let result = try model.score(sequences: windows.sorted { $0.count > $1.count }, batchSize: batchSize)
        return HeldOutScore(meanLoss: result.meanLoss, tokens: result.tokens, bytes: bytes)
    }
}
