// TokenizerMeasures — the numbers that compare tokenizers fairly on the same text: bytes per
// token, tokens per word (fertility), the share of the vocabulary in use, encode throughput; and
// an extended tokenizer against its base (how many tokens the new entries save, how often they fire).
import Foundation

/// What encoding a set of texts with one tokenizer gave.
public struct TokenizationStats: Sendable, Codable, Equatable {
    public var texts: Int
    /// UTF-8 bytes of the texts.
    public var bytes: Int
    /// Maximal runs of non-whitespace characters.
    public var words: Int
    public var tokens: Int
    /// Distinct ids among the tokens.
    public var distinctTokens: Int
    public var vocabularySize: Int
    public var bytesPerToken: Double
    /// Tokens per word ("fertility").
    public var tokensPerWord: Double
    /// distinctTokens / vocabularySize.
    public var vocabularyShare: Double
    /// Wall-clock seconds spent in `encode`, and the throughput that gives.
    public var encodeSeconds: Double
    public var megabytesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case texts, bytes, words, tokens
        case distinctTokens = "distinct_tokens"
        case vocabularySize = "vocabulary_size"
        case bytesPerToken = "bytes_per_token"
        case tokensPerWord = "tokens_per_word"
        case vocabularyShare = "vocabulary_share"
        case encodeSeconds = "encode_seconds"
        case megabytesPerSecond = "megabytes_per_second"
    }
}

/// An extended tokenizer (base vocabulary + new tokens) against its base on the same texts.
public struct TokenizerComparison: Sendable, Codable, Equatable {
    public var base: TokenizationStats
    public var extended: TokenizationStats
    /// base.tokens − extended.tokens, and that as a share of base.tokens.
    public var tokensSaved: Int
    public var tokenReduction: Double
    /// New ids (≥ the base vocabulary size) among the extended tokens: how many distinct ones
    /// fired, and their share of all extended tokens.
    public var newTokensUsed: Int
    public var newTokenShare: Double

    enum CodingKeys: String, CodingKey {
        case base, extended
        case tokensSaved = "tokens_saved"
        case tokenReduction = "token_reduction"
        case newTokensUsed = "new_tokens_used"
        case newTokenShare = "new_token_share"
    }
}

public enum TokenizerMeasures {
    /// Encodes every text once and measures.
    public static func measure(_ tokenizer: any Tokenizer, texts: [String]) -> TokenizationStats {
        measure(tokenizer, texts: texts).stats
    }

    /// Compares `extended` with `base` on the same texts.
    public static func compare(base: any Tokenizer, extended: any Tokenizer, texts: [String]) -> TokenizerComparison {
        let baseStats = measure(base, texts: texts).stats
        let (extendedStats, counts) = measure(extended, texts: texts)
        let firstNew = base.vocabularySize
        var newTokens = 0, newDistinct = 0
        for (id, count) in counts where id >= firstNew {
            newTokens += count
            newDistinct += 1
        }
        let saved = baseStats.tokens - extendedStats.tokens
        return TokenizerComparison(
            base: baseStats, extended: extendedStats, tokensSaved: saved,
            tokenReduction: baseStats.tokens == 0 ? 0 : Double(saved) / Double(baseStats.tokens),
            newTokensUsed: newDistinct,
            newTokenShare: extendedStats.tokens == 0 ? 0 : Double(newTokens) / Double(extendedStats.tokens))
    }

    private static func measure(_ tokenizer: any Tokenizer, texts: [String]) -> (stats: TokenizationStats, counts: [Int: Int]) {
        var bytes = 0, words = 0
        for text in texts {
            bytes += text.utf8.count
            words += wordCount(text)
        }
        var counts: [Int: Int] = [:]
        var tokens = 0
        var seconds = 0.0
        for text in texts {
            let start = DispatchTime.now().uptimeNanoseconds
            let ids = tokenizer.encode(text)
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            tokens += ids.count
            for id in ids { counts[id, default: 0] += 1 }
        }
        let stats = TokenizationStats(
            texts: texts.count, bytes: bytes, words: words, tokens: tokens, distinctTokens: counts.count,
            vocabularySize: tokenizer.vocabularySize,
            bytesPerToken: tokens == 0 ? 0 : Double(bytes) / Double(tokens),
            tokensPerWord: words == 0 ? 0 : Double(tokens) / Double(words),
            vocabularyShare: tokenizer.vocabularySize == 0 ? 0 : Double(counts.count) / Double(tokenizer.vocabularySize),
            encodeSeconds: seconds, megabytesPerSecond: seconds == 0 ? 0 : Double(bytes) / 1e6 / seconds)
        return (stats, counts)
    }

    /// Maximal runs of characters that are not Unicode whitespace.
    public static func wordCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let isSpace = UnicodeClasses.classes(of: scalar.value) & UnicodeClasses.space != 0
            if !isSpace && !inWord { count += 1 }
            inWord = !isSpace
        }
        return count
    }
}
