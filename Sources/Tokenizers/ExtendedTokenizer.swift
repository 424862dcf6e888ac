// ExtendedTokenizer — a base tokenizer plus new tokens (hyperwords) appended after its
// vocabulary, each with the base ids it stands for. It is an ordinary tokenizer.json underneath:
// the new tokens are real vocabulary entries with merges ranked after every base merge (never
// `added_tokens`), and for byte-level bases the split pattern lets letter words joined by single
// spaces stay in one pre-token. So Hugging Face `tokenizers` loads the saved file and encodes
// exactly as Loom does, and expanding each new id into its decomposition gives the base ids.
//
// Saved as a directory: tokenizer.json (the runtime) and hyperwords.json (the new tokens, their
// decompositions and the learning report).
import Foundation
import LoomCore

/// One token added after the base vocabulary.
public struct HyperwordToken: Sendable, Codable, Equatable {
    public let id: Int
    /// The vocabulary entry as tokenizer.json writes it (`ĠвĠтом`, `▁в▁том`).
    public let piece: String
    /// The text it stands for (" в том").
    public let text: String
    /// The merge that builds it: two earlier tokens.
    public let left: Int
    public let right: Int
    /// The base ids it replaces, in order (what the embedding initialiser averages).
    public let decomposition: [Int]
    /// Words it spans (1 for a whole-word token that hyperwords build on).
    public let words: Int
    /// Occurrences when the extended tokenizer encodes the training text.
    public var count: Int

    /// Base tokens each occurrence replaces.
    public var baseTokens: Int { decomposition.count }
    /// Tokens saved on the training text: count × (base tokens − 1).
    public var tokensSaved: Int { count * (decomposition.count - 1) }

    enum CodingKeys: String, CodingKey {
        case id, piece, text, left, right, decomposition, words, count
    }
}

/// What learning did, for the report.
public struct HyperwordTraining: Sendable, Codable, Equatable {
    public var options: HyperwordOptions
    public var texts: Int
    public var bytes: Int
    /// Tokens of the training text with the base tokenizer, and with the extended one.
    public var baseTokens: Int
    public var extendedTokens: Int
    /// Tokens learned and then dropped because the finished tokenizer used them fewer than
    /// `minCount` times (with every token built on them).
    public var pruned: Int
    /// Wall-clock time of the learning, for progress lines and the stage's metrics. Not written to
    /// hyperwords.json, so that the same inputs give the same bytes (read back as 0; files that still
    /// carry `learning_seconds` read as before).
    public var learningSeconds: Double = 0

    enum CodingKeys: String, CodingKey {
        case options, texts, bytes, pruned
        case baseTokens = "base_tokens"
        case extendedTokens = "extended_tokens"
    }
}

public final class ExtendedTokenizer: Tokenizer, Sendable {
    /// The tokenizer.json runtime with the new entries.
    public let runtime: HFTokenizer
    /// Ids below this are the base tokenizer's; new ids follow in order.
    public let baseVocabularySize: Int
    public let newTokens: [HyperwordToken]
    public let training: HyperwordTraining?

    init(runtime: HFTokenizer, baseVocabularySize: Int, newTokens: [HyperwordToken], training: HyperwordTraining?) {
        self.runtime = runtime
        self.baseVocabularySize = baseVocabularySize
        self.newTokens = newTokens
        self.training = training
    }

    // MARK: Tokenizer

    public func encode(_ text: String) -> [Int] { runtime.encode(text) }
    public func decode(_ ids: [Int]) -> String { runtime.decode(ids) }
    public var vocabularySize: Int { runtime.vocabularySize }
    public func piece(for id: Int) -> String? { runtime.piece(for: id) }
    public func id(for piece: String) -> Int? { runtime.id(for: piece) }
    public var specialTokens: SpecialTokens { runtime.specialTokens }

    // MARK: decompositions

    /// The base ids `id` stands for: itself for a base id, its decomposition for a new one.
    public func decomposition(of id: Int) -> [Int] {
        let index = id - baseVocabularySize
        return newTokens.indices.contains(index) ? newTokens[index].decomposition : [id]
    }

    /// `ids` with every new id replaced by its decomposition: the base tokenizer's ids for the text.
    public func expandToBase(_ ids: [Int]) -> [Int] {
        ids.flatMap { decomposition(of: $0) }
    }

    // MARK: files

    public static let tokenizerFile = "tokenizer.json"
    public static let hyperwordsFile = "hyperwords.json"

    /// Writes tokenizer.json and hyperwords.json into `directory` (created if needed), each atomically.
    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.write(runtime.document.serialized(), to: directory.appendingPathComponent(Self.tokenizerFile))
        let file = HyperwordsFile(format: HyperwordsFile.formatName, baseVocabularySize: baseVocabularySize, tokens: newTokens, training: training)
        try AtomicFile.writeJSON(file, to: directory.appendingPathComponent(Self.hyperwordsFile))
    }

    /// Reads a directory written by `save(to:)` (a tokenizer_config.json beside it names the
    /// special tokens, as for any model directory).
    public convenience init(contentsOf directory: URL) throws {
        let runtime = try TokenizerLoader.loadHF(directory)
        let url = directory.appendingPathComponent(Self.hyperwordsFile)
        let file: HyperwordsFile
        do {
            file = try JSONDecoder().decode(HyperwordsFile.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw TokenizerFileError(file: url.path, field: error.fieldPath, problem: error.problem)
        } catch {
            throw TokenizerFileError(file: url.path, field: "", problem: "cannot read: \(SystemErrorText.reason(error))")
        }
        guard file.format == HyperwordsFile.formatName else {
            throw TokenizerFileError(file: url.path, field: "format", problem: "\"\(file.format)\" is not \(HyperwordsFile.formatName)")
        }
        for (index, token) in file.tokens.enumerated() {
            guard token.id == file.baseVocabularySize + index else {
                throw TokenizerFileError(file: url.path, field: "tokens[\(index)].id", problem: "expected \(file.baseVocabularySize + index), found \(token.id)")
            }
            guard runtime.piece(for: token.id) == token.piece else {
                throw TokenizerFileError(
                    file: url.path, field: "tokens[\(index)].piece", problem: "tokenizer.json has a different entry for id \(token.id)")
            }
            if let bad = token.decomposition.first(where: { $0 < 0 || $0 >= file.baseVocabularySize }) {
                throw TokenizerFileError(
                    file: url.path, field: "tokens[\(index)].decomposition", problem: "\(bad) is not a base id (below \(file.baseVocabularySize))")
            }
        }
        self.init(runtime: runtime, baseVocabularySize: file.baseVocabularySize, newTokens: file.tokens, training: file.training)
    }
}

/// hyperwords.json.
struct HyperwordsFile: Codable {
    static let formatName = "loom-hyperwords/1"
    let format: String
    let baseVocabularySize: Int
    let tokens: [HyperwordToken]
    let training: HyperwordTraining?

    enum CodingKeys: String, CodingKey {
        case format, tokens, training
        case baseVocabularySize = "base_vocabulary_size"
    }
}

extension DecodingError {
    /// The JSON path of the failing field (`tokens[3].decomposition`).
    var fieldPath: String {
        let path: [CodingKey]
        switch self {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        @unknown default: path = []
        }
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    var problem: String {
        switch self {
        case .keyNotFound: return "is missing"
        case .typeMismatch(let type, _): return "expected \(type)"
        case .valueNotFound(let type, _): return "expected \(type), found null"
        case .dataCorrupted(let context): return context.debugDescription
        @unknown default: return "is invalid"
        }
    }
}
