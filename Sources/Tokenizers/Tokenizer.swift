// Tokenizer — the one protocol every Loom tokenizer implements (SentencePiece models, Hugging Face
// tokenizer.json files, tokenizers extended with hyperwords), and the special ids a model needs.
import Foundation

/// Text ↔ token ids.
///
/// `encode` never adds special tokens (no BOS/EOS): a caller that wants them prepends
/// `specialTokens.bos` itself, so that the ids of a text are the same wherever it appears.
/// This is `add_special_tokens=False` in Hugging Face terms.
public protocol Tokenizer: Sendable {
    /// The ids of `text`.
    func encode(_ text: String) -> [Int]
    /// The text of `ids`. Ids the vocabulary lacks are skipped.
    func decode(_ ids: [Int]) -> String
    /// One past the largest id in use (model vocabulary and added tokens): the number of
    /// embedding rows a model needs.
    var vocabularySize: Int { get }
    /// The vocabulary entry of `id` as the tokenizer file writes it (`Ġthe`, `▁the`, `<0x0A>`), or nil.
    func piece(for id: Int) -> String?
    /// The id of a vocabulary entry written as `piece(for:)` returns it, or nil.
    func id(for piece: String) -> Int?
    /// BOS, EOS, UNK and PAD ids where the tokenizer has them.
    var specialTokens: SpecialTokens { get }
}

/// The special ids a model stage needs; nil where the tokenizer has none.
public struct SpecialTokens: Sendable, Codable, Equatable {
    public var bos: Int?
    public var eos: Int?
    public var unk: Int?
    public var pad: Int?

    public init(bos: Int? = nil, eos: Int? = nil, unk: Int? = nil, pad: Int? = nil) {
        self.bos = bos
        self.eos = eos
        self.unk = unk
        self.pad = pad
    }
}

extension Tokenizer {
    /// The vocabulary entries of `text`'s tokens, in order.
    public func pieces(_ text: String) -> [String] {
        encode(text).map { piece(for: $0) ?? "" }
    }
}
