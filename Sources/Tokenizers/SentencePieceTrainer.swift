// SentencePieceTrainer — trains a SentencePiece model (unigram or BPE) on text files through the
// shim and writes the `.model` file atomically. The defaults are Llama-2's trainer settings, so a
// BPE model converts exactly to the Llama-2 tokenizer.json layout (SentencePieceConversion).
import Foundation
import LoomCore

/// What SentencePiece trains; every field maps to one of its trainer flags.
public struct SentencePieceTrainingOptions: Sendable, Codable, Equatable {
    public enum ModelType: String, Sendable, Codable, CaseIterable {
        case bpe, unigram
    }

    public var vocabularySize: Int
    public var modelType: ModelType
    /// Share of characters the vocabulary must cover (`character_coverage`); the rest go to byte
    /// fallback or unk.
    public var characterCoverage: Double = 0.9995
    /// Pieces never span whitespace (`split_by_whitespace`); false lets pieces hold several words.
    public var splitByWhitespace: Bool = true
    public var maxSentencePieceLength: Int = 16
    /// Pieces that are always kept whole and never split (`user_defined_symbols`).
    public var userDefinedSymbols: [String] = []
    /// Unknown characters become `<0xXX>` byte pieces instead of `<unk>`.
    public var byteFallback: Bool = true
    /// Sentences sampled from the input (`input_sentence_size`); 0 uses every line.
    public var sampledSentences: Int = 0
    /// Seed of the sampling above.
    public var seed: UInt32 = 42
    public var threads: Int = 1
    public var splitDigits: Bool = true
    public var addDummyPrefix: Bool = true
    public var removeExtraWhitespaces: Bool = false
    public var allowWhitespaceOnlyPieces: Bool = true
    /// SentencePiece's normalization rule: `identity` (what Llama-2 uses) or `nmt_nfkc`, `nfkc`, ….
    public var normalization: String = "identity"
    public var maxSentenceLength: Int = 16384

    public init(vocabularySize: Int, modelType: ModelType = .bpe) {
        self.vocabularySize = vocabularySize
        self.modelType = modelType
    }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case modelType = "model_type"
        case characterCoverage = "character_coverage"
        case splitByWhitespace = "split_by_whitespace"
        case maxSentencePieceLength = "max_sentencepiece_length"
        case userDefinedSymbols = "user_defined_symbols"
        case byteFallback = "byte_fallback"
        case sampledSentences = "input_sentence_size"
        case seed, threads
        case splitDigits = "split_digits"
        case addDummyPrefix = "add_dummy_prefix"
        case removeExtraWhitespaces = "remove_extra_whitespaces"
        case allowWhitespaceOnlyPieces = "allow_whitespace_only_pieces"
        case normalization = "normalization_rule_name"
        case maxSentenceLength = "max_sentence_length"
    }

    /// SentencePiece's own option names; missing keys take the defaults above (only `vocab_size`
    /// is required), so a recipe can name just what it changes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            vocabularySize: try container.decode(Int.self, forKey: .vocabularySize),
            modelType: try container.decodeIfPresent(ModelType.self, forKey: .modelType) ?? .bpe)
        func value<T: Decodable>(_ key: CodingKeys, _ current: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? current
        }
        characterCoverage = try value(.characterCoverage, characterCoverage)
        splitByWhitespace = try value(.splitByWhitespace, splitByWhitespace)
        maxSentencePieceLength = try value(.maxSentencePieceLength, maxSentencePieceLength)
        userDefinedSymbols = try value(.userDefinedSymbols, userDefinedSymbols)
        byteFallback = try value(.byteFallback, byteFallback)
        sampledSentences = try value(.sampledSentences, sampledSentences)
        seed = try value(.seed, seed)
        threads = try value(.threads, threads)
        splitDigits = try value(.splitDigits, splitDigits)
        addDummyPrefix = try value(.addDummyPrefix, addDummyPrefix)
        removeExtraWhitespaces = try value(.removeExtraWhitespaces, removeExtraWhitespaces)
        allowWhitespaceOnlyPieces = try value(.allowWhitespaceOnlyPieces, allowWhitespaceOnlyPieces)
        normalization = try value(.normalization, normalization)
        maxSentenceLength = try value(.maxSentenceLength, maxSentenceLength)
    }

    /// The flags SentencePiece reads, by its names.
    var flags: [(String, String)] {
        [
            ("model_type", modelType.rawValue),
            ("vocab_size", String(vocabularySize)),
            ("character_coverage", String(characterCoverage)),
            ("split_by_whitespace", String(splitByWhitespace)),
            ("max_sentencepiece_length", String(maxSentencePieceLength)),
            ("byte_fallback", String(byteFallback)),
            ("input_sentence_size", String(sampledSentences)),
            ("shuffle_input_sentence", String(sampledSentences > 0)),
            ("random_seed", String(seed)),
            ("num_threads", String(threads)),
            ("split_digits", String(splitDigits)),
            ("add_dummy_prefix", String(addDummyPrefix)),
            ("remove_extra_whitespaces", String(removeExtraWhitespaces)),
            ("allow_whitespace_only_pieces", String(allowWhitespaceOnlyPieces)),
            ("normalization_rule_name", normalization),
            ("max_sentence_length", String(maxSentenceLength)),
            ("unk_id", "0"), ("bos_id", "1"), ("eos_id", "2"), ("pad_id", "-1"),
        ] + (userDefinedSymbols.isEmpty ? [] : [("user_defined_symbols", userDefinedSymbols.joined(separator: ","))])
    }

    func validate() throws {
        guard vocabularySize > 0 else { throw SentencePieceError("vocabulary size must be positive, got \(vocabularySize)") }
        guard characterCoverage > 0 && characterCoverage <= 1 else {
            throw SentencePieceError("character coverage must be in (0, 1], got \(characterCoverage)")
        }
        guard (1...128).contains(threads) else { throw SentencePieceError("threads must be in 1...128, got \(threads)") }
        guard sampledSentences >= 0 else {
            throw SentencePieceError("sampled sentences must be at least 0 (0: use all), got \(sampledSentences)")
        }
        guard (1...512).contains(maxSentencePieceLength) else {
            throw SentencePieceError("max piece length must be in 1...512, got \(maxSentencePieceLength)")
        }
        if let bad = userDefinedSymbols.first(where: { $0.isEmpty || $0.contains(",") }) {
            throw SentencePieceError("user-defined symbol \"\(bad)\" is empty or contains a comma")
        }
    }
}

public enum SentencePieceTrainer {
    /// Trains on every line of `inputFiles` and writes the model to `output` (a `.model` file).
    /// `verbose` lets SentencePiece log its progress to stderr (else only warnings and errors).
    public static func train(
        inputFiles: [URL], options: SentencePieceTrainingOptions, output: URL, verbose: Bool = false
    ) throws -> SentencePieceModel {
        try options.validate()
        guard !inputFiles.isEmpty else { throw SentencePieceError("no training input files") }
        for file in inputFiles {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw SentencePieceError("\(file.path): training input is a directory, not a text file")
            }
            if !FileManager.default.isReadableFile(atPath: file.path) {
                throw SentencePieceError("\(file.path): training input is missing or unreadable")
            }
        }
        let library = try SentencePieceLibrary.shared()
        let flags = options.flags
        var model: CString? = nil
        var length = 0
        do {
            try withCStrings(flags.map(\.0)) { keys in
                try withCStrings(flags.map(\.1)) { values in
                    try withCStrings(inputFiles.map(\.path)) { paths in
                        try library.check {
                            library.train(keys, values, flags.count, paths, inputFiles.count, verbose ? 0 : 1, &model, &length, $0)
                        }
                    }
                }
            }
        } catch let error as SentencePieceError where error.failedCheck == "!sentences_.empty()" {
            throw SentencePieceError("no training sentences: the input files hold no non-empty lines (\(inputFiles.map(\.path).joined(separator: ", ")))")
        }
        defer { library.freeString(model) }
        guard let model else { throw SentencePieceError("sentencepiece returned no model") }
        try AtomicFile.write(Data(bytes: model, count: length), to: output)
        return try SentencePieceModel(contentsOf: output)
    }

    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> Result
    ) throws -> Result {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return try pointers.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
