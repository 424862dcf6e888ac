// Tokenizer — the one protocol every Loom tokenizer implements (SentencePiece models, Hugging Face
// tokenizer.json files, tokenizers extended with hyperwords), and the special ids a model needs.
import Foundation

/// Text ↔ token ids.
///
/// `encode` never adds special tokens (no BOS/EOS), so that the ids of a text are the same wherever it
/// appears: `add_special_tokens=False` in Hugging Face terms. `encodeWithSpecialTokens` adds what the
/// tokenizer says it adds (`specialTokens.prefix` / `.suffix`), as `AutoTokenizer(...)(text)` does.
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
    /// The ids the tokenizer puts before a text's own (Hugging Face's post-processor template: `<s>` for
    /// Llama-2, `<|begin_of_text|>` for Llama-3, `<bos>` for Gemma; none for Qwen or SmolLM2).
    public var prefix: [Int]
    /// The ids it puts after them (a template ending in `</s>`; rarely any for a causal LM).
    public var suffix: [Int]

    /// `prefix` defaults to BOS where there is one (SentencePiece's and Llama's convention).
    public init(bos: Int? = nil, eos: Int? = nil, unk: Int? = nil, pad: Int? = nil, prefix: [Int]? = nil, suffix: [Int] = []) {
        self.bos = bos
        self.eos = eos
        self.unk = unk
        self.pad = pad
        self.prefix = prefix ?? bos.map { [$0] } ?? []
        self.suffix = suffix
    }
}

extension Tokenizer {
    /// `text`'s ids with the special tokens the tokenizer adds: what `AutoTokenizer(...)(text)["input_ids"]`
    /// gives (`add_special_tokens=True`).
    public func encodeWithSpecialTokens(_ text: String) -> [Int] {
        specialTokens.prefix + encode(text) + specialTokens.suffix
    }

    /// What a prompt or a scored text starts as: the tokenizer's prefix (its BOS, where it adds one) and
    /// the text's ids, without a suffix (the text goes on).
    public func encodePrompt(_ text: String) -> [Int] {
        specialTokens.prefix + encode(text)
    }

    /// One document of a training stream: prefix, the text's ids, and the tokenizer's suffix, or EOS
    /// where it adds none, so that consecutive documents are always separated.
    public func encodeDocument(_ text: String) -> [Int] {
        let special = specialTokens
        let end = special.suffix.isEmpty ? (special.eos.map { [$0] } ?? []) : special.suffix
        return special.prefix + encode(text) + end
    }

    /// The vocabulary entries of `text`'s tokens, in order.
    public func pieces(_ text: String) -> [String] {
        encode(text).map { piece(for: $0) ?? "" }
    }
}
