// HyperwordOptions — what hyperword learning is asked for: how many new tokens, how often a piece
// must occur, how many words it may span, and how candidates are ranked (by frequency, or by
// frequency weighted with a base model's surprisal: HyperwordSurprisal).
import Foundation

public struct HyperwordOptions: Sendable, Codable, Equatable {
    /// How candidate merges are ranked at each step of the second-stage BPE.
    public enum Ranking: String, Sendable, Codable, CaseIterable {
        /// Occurrences: each merge saves one token per occurrence, so this ranks by tokens saved
        /// (and a piece of k base tokens saves occurrences × (k − 1) in all).
        case tokensSaved = "tokens"
        /// Occurrences × UTF-8 bytes of the merged piece: prefers long phrases, which move the most
        /// text under single tokens.
        case bytes
        /// Occurrences weighted by how much more predictable the base model finds the right part at
        /// each occurrence than it usually finds those tokens — a collocation scores high, a chance
        /// neighbour low (see HyperwordSurprisal for the formula). Needs the model's surprisal of the
        /// training text.
        case surprisal
    }

    /// New tokens to add (whole-word supporting tokens included).
    public var targetCount: Int
    /// A piece must occur at least this often in the training text — when learned, and again when
    /// the finished tokenizer encodes the training text (otherwise it is dropped).
    public var minCount: Int = 8
    /// The most words one new token may span.
    public var maxWordsPerPiece: Int = 4
    public var ranking: Ranking = .tokensSaved
    /// Allow a word of two base tokens to become one token, so that hyperwords can build on it.
    /// When false, only words that are already one base token join hyperwords.
    public var wordCompletions: Bool = true

    public init(targetCount: Int) {
        self.targetCount = targetCount
    }

    enum CodingKeys: String, CodingKey {
        case targetCount = "target_count"
        case minCount = "min_count"
        case maxWordsPerPiece = "max_words_per_piece"
        case ranking
        case wordCompletions = "word_completions"
    }

    /// Missing keys take the defaults above (only `target_count` is required).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        targetCount = try container.decode(Int.self, forKey: .targetCount)
        minCount = try container.decodeIfPresent(Int.self, forKey: .minCount) ?? minCount
        maxWordsPerPiece = try container.decodeIfPresent(Int.self, forKey: .maxWordsPerPiece) ?? maxWordsPerPiece
        ranking = try container.decodeIfPresent(Ranking.self, forKey: .ranking) ?? ranking
        wordCompletions = try container.decodeIfPresent(Bool.self, forKey: .wordCompletions) ?? wordCompletions
    }

    func validate() throws {
        guard targetCount > 0 else { throw HyperwordError("target count must be positive, got \(targetCount)") }
        guard minCount >= 1 else { throw HyperwordError("min count must be at least 1, got \(minCount)") }
        guard maxWordsPerPiece >= 2 else { throw HyperwordError("max words per piece must be at least 2, got \(maxWordsPerPiece)") }
    }
}

public struct HyperwordError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
