// SentencePieceTrainerTests — training through the shim: the options reach SentencePiece, a BPE
// model trained with the defaults converts to a tokenizer.json that encodes as the model does,
// and bad inputs give errors naming what is wrong.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct SentencePieceTrainerTests {
    /// The fixture case strings, one per line (newlines inside a case become spaces).
    static func writeCorpus(_ scratch: ScratchDirectory) throws -> URL {
        let lines = try FixtureRows.cases().map { $0.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ") }
        let url = scratch.path("corpus.txt")
        try (lines + lines).joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func bpeWithDefaultsConvertsExactly() throws {
        let scratch = try ScratchDirectory("spm-train")
        let corpus = try Self.writeCorpus(scratch)
        var options = SentencePieceTrainingOptions(vocabularySize: 1200)
        options.userDefinedSymbols = ["<sep>", "Loom"]
        let model = try SentencePieceTrainer.train(inputFiles: [corpus], options: options, output: scratch.path("t.model"))
        #expect(model.vocabularySize == 1200)
        #expect(try model.option("model_type") == "bpe")
        #expect(try model.option("byte_fallback") == "true")
        #expect(model.entries[3].type == .userDefined && model.entries[3].piece == "<sep>")
        #expect(model.entries[4].piece == "Loom")
        #expect(model.entries.filter { $0.type == .byte }.count == 256)

        let runtime = try SentencePieceConversion.convert(model, to: scratch.path("tokenizer.json"))
        for text in try FixtureRows.cases() where !["<s>", "</s>", "<unk>"].contains(where: text.contains) {
            #expect(runtime.encode(text) == (try model.encodeIds(text)), "\(text.debugDescription)")
        }
        // A user-defined symbol is one piece in both.
        #expect(runtime.encode("a<sep>b").contains(3))
        #expect(try model.encodeIds("a<sep>b").contains(3))
    }

    @Test func optionsReachSentencePiece() throws {
        let scratch = try ScratchDirectory("spm-train-options")
        let corpus = try Self.writeCorpus(scratch)
        var options = SentencePieceTrainingOptions(vocabularySize: 900)
        options.characterCoverage = 0.98
        options.splitByWhitespace = false
        options.byteFallback = false
        options.maxSentencePieceLength = 8
        options.sampledSentences = 300
        options.threads = 2
        let model = try SentencePieceTrainer.train(inputFiles: [corpus], options: options, output: scratch.path("w.model"))
        #expect(try model.option("byte_fallback") == "false")
        #expect(try model.option("split_by_whitespace") == "false")
        #expect(model.entries.allSatisfy { $0.type != .byte })
        #expect(model.entries.allSatisfy { $0.piece.unicodeScalars.count <= 8 || $0.type != .normal })
        // Without whitespace splitting some pieces hold a "▁" after other characters.
        #expect(model.entries.contains { $0.type == .normal && $0.piece.dropFirst().contains("▁") })

        let unigram = try SentencePieceTrainer.train(
            inputFiles: [corpus], options: SentencePieceTrainingOptions(vocabularySize: 1200, modelType: .unigram),
            output: scratch.path("u.model"))
        #expect(try unigram.option("model_type") == "unigram")
        #expect(try unigram.decodeIds(try unigram.encodeIds("Привет, мир!")) == "Привет, мир!")
    }

    @Test func badInputsNameTheProblem() throws {
        let scratch = try ScratchDirectory("spm-train-errors")
        let missing = scratch.path("absent.txt")
        #expect {
            _ = try SentencePieceTrainer.train(inputFiles: [missing], options: .init(vocabularySize: 100), output: scratch.path("m.model"))
        } throws: { "\($0)" == "\(missing.path): training input is missing or unreadable" }
        let corpus = try Self.writeCorpus(scratch)
        #expect {
            _ = try SentencePieceTrainer.train(inputFiles: [corpus], options: .init(vocabularySize: 0), output: scratch.path("m.model"))
        } throws: { "\($0)" == "vocabulary size must be positive, got 0" }
        var options = SentencePieceTrainingOptions(vocabularySize: 100)
        options.userDefinedSymbols = ["a,b"]
        #expect {
            _ = try SentencePieceTrainer.train(inputFiles: [corpus], options: options, output: scratch.path("m.model"))
        } throws: { "\($0)" == "user-defined symbol \"a,b\" is empty or contains a comma" }
        // SentencePiece's own complaint comes through, and no model file is left behind.
        #expect {
            _ = try SentencePieceTrainer.train(inputFiles: [corpus], options: .init(vocabularySize: 100), output: scratch.path("m.model"))
        } throws: {
            // SentencePiece's sentence, without its source file, line and failed condition.
            "\($0)".hasPrefix("Vocabulary size is smaller than required_chars. 100 vs ") && "\($0)".hasSuffix("Increase vocab_size or decrease character_coverage with --character_coverage option.")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("m.model").path))
    }

    @Test func emptyInputAndOutOfRangePieceLengthAreExplainedWithoutSentencePieceInternals() throws {
        let scratch = try ScratchDirectory("spm-train-empty")
        let empty = scratch.path("empty.txt")
        try "\n\n".write(to: empty, atomically: true, encoding: .utf8)
        #expect {
            _ = try SentencePieceTrainer.train(inputFiles: [empty], options: .init(vocabularySize: 100), output: scratch.path("m.model"))
        } throws: { "\($0)" == "no training sentences: the input files hold no non-empty lines (\(empty.path))" }
        let corpus = try Self.writeCorpus(scratch)
        var manyThreads = SentencePieceTrainingOptions(vocabularySize: 1200)
        manyThreads.threads = 129
        #expect {
            _ = try SentencePieceTrainer.train(inputFiles: [corpus], options: manyThreads, output: scratch.path("m.model"))
        } throws: { "\($0)" == "threads must be in 1...128, got 129" }
        for length in [0, 513] {
            var options = SentencePieceTrainingOptions(vocabularySize: 1200)
            options.maxSentencePieceLength = length
            #expect {
                _ = try SentencePieceTrainer.train(inputFiles: [corpus], options: options, output: scratch.path("m.model"))
            } throws: { "\($0)" == "max piece length must be in 1...512, got \(length)" }
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("m.model").path))
    }
}

@Suite struct TokenizerOptionDecodingTests {
    @Test func recipeStyleOptionsTakeDefaultsForMissingKeys() throws {
        let training = try JSONDecoder().decode(
            SentencePieceTrainingOptions.self, from: Data(#"{"vocab_size": 8000, "byte_fallback": false, "threads": 2}"#.utf8))
        var expected = SentencePieceTrainingOptions(vocabularySize: 8000)
        expected.byteFallback = false
        expected.threads = 2
        #expect(training == expected)
        let hyperwords = try JSONDecoder().decode(HyperwordOptions.self, from: Data(#"{"target_count": 500, "ranking": "bytes"}"#.utf8))
        var expectedHyperwords = HyperwordOptions(targetCount: 500)
        expectedHyperwords.ranking = .bytes
        #expect(hyperwords == expectedHyperwords)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(HyperwordOptions.self, from: Data("{}".utf8)) }
        // Encoding and decoding give the same options back.
        #expect(try JSONDecoder().decode(SentencePieceTrainingOptions.self, from: JSONEncoder().encode(expected)) == expected)
    }
}
