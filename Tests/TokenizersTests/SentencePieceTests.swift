// SentencePieceTests — the shim over libsentencepiece (encode, pieces, decode, vocabulary and
// settings) and the .model → Llama-2 tokenizer.json conversion, checked against the fixture file
// and against SentencePiece itself.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct SentencePieceTests {
    static let modelURL = TestPaths.fixture("tokenizers/spm-llama2/tokenizer.model")

    @Test func vocabularyTypesAndSettings() throws {
        let model = try SentencePieceModel(contentsOf: Self.modelURL)
        #expect(model.vocabularySize == 3000)
        #expect(model.entries[0] == SentencePieceEntry(piece: "<unk>", score: 0, type: .unknown))
        #expect(model.entries[1].type == .control && model.entries[2].type == .control)
        #expect(model.entries[3].piece == "<0x00>" && model.entries[3].type == .byte)
        #expect(model.entries[259].type == .normal && model.entries[259].piece == "▁t")
        #expect(model.specialTokens == SpecialTokens(bos: 1, eos: 2, unk: 0, pad: nil))
        #expect(try model.option("model_type") == "bpe")
        #expect(try model.option("byte_fallback") == "true")
        #expect(try model.option("normalizer_name") == "identity")
        #expect(try model.option("remove_extra_whitespaces") == "false")
        #expect(try model.option("add_dummy_prefix") == "true")
        #expect(throws: SentencePieceError.self) { try model.option("no_such_option") }
    }

    @Test func encodesDecodesAndSplitsIntoPieces() throws {
        let model = try SentencePieceModel(contentsOf: Self.modelURL)
        let text = "Привет, мир! Hello\tworld 😀"
        let ids = try model.encodeIds(text)
        #expect(!ids.isEmpty)
        #expect(try model.decodeIds(ids) == text)
        let pieces = try model.encodePieces(text)
        #expect(pieces.count == ids.count)
        #expect(pieces.first?.hasPrefix("▁") == true)
        #expect(model.encode("") == [])
        #expect(model.id(for: "▁t") == 259)
        #expect(model.piece(for: 3000) == nil)
        #expect(throws: SentencePieceError.self) { try model.decodeIds([5000]) }
    }

    @Test func conversionEqualsTheFixtureTokenizerJSON() throws {
        let model = try SentencePieceModel(contentsOf: Self.modelURL)
        let converted = try SentencePieceConversion.llama2TokenizerJSON(from: model)
        let fixture = try OrderedJSON.parse(Data(contentsOf: TestPaths.fixture("tokenizers/spm-llama2/tokenizer.json")))
        #expect(converted["model"]?["vocab"] == fixture["model"]?["vocab"])
        #expect(converted["model"]?["merges"] == fixture["model"]?["merges"])
        #expect(converted == fixture)
    }

    @Test func convertedRuntimeEncodesAsSentencePieceOnFixtureCases() throws {
        let model = try SentencePieceModel(contentsOf: Self.modelURL)
        let scratch = try ScratchDirectory("spm-convert")
        let runtime = try SentencePieceConversion.convert(model, to: scratch.path("tokenizer.json"))
        // Reloading the written file gives the same tokenizer.
        let reloaded = try HFTokenizer(contentsOf: scratch.path("tokenizer.json"))
        var differing: [String] = []
        for text in try FixtureRows.cases() {
            let spm = try model.encodeIds(text)
            #expect(runtime.encode(text) == reloaded.encode(text))
            if runtime.encode(text) != spm { differing.append(text) }
        }
        // SentencePiece never parses control pieces out of its input; Hugging Face matches them as
        // added tokens. The fixture README lists exactly these 9 cases.
        #expect(differing.count == 9)
        #expect(differing.allSatisfy { $0.contains("<s>") || $0.contains("</s>") || $0.contains("<unk>") })
    }

    @Test(.enabled(if: FortuneTexts.isInstalled, "fortunes-ru is not installed (scripts/install-deps.sh installs it)"))
    func convertedRuntimeEncodesAsSentencePieceOnRussianFortunes() throws {
        let model = try SentencePieceModel(contentsOf: Self.modelURL)
        let runtime = try HFTokenizer(document: try SentencePieceConversion.llama2TokenizerJSON(from: model), source: "converted")
        let entries = try FortuneTexts.entries()
        #expect(entries.count > 20_000)
        var mismatches: [String] = []
        for entry in entries where runtime.encode(entry) != (try model.encodeIds(entry)) {
            mismatches.append(entry)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) entries differ, first: \(mismatches.first?.debugDescription ?? "")")
    }

    @Test func refusesModelsTheLayoutCannotReproduce() throws {
        let scratch = try ScratchDirectory("spm-refuse")
        let input = scratch.path("text.txt")
        try String(repeating: "мама мыла раму, папа читал газету\nthe quick brown fox\n", count: 50).write(to: input, atomically: true, encoding: .utf8)
        var options = SentencePieceTrainingOptions(vocabularySize: 36, modelType: .unigram)
        options.normalization = "nmt_nfkc"
        options.byteFallback = false
        let model = try SentencePieceTrainer.train(inputFiles: [input], options: options, output: scratch.path("u.model"))
        #expect {
            _ = try SentencePieceConversion.llama2TokenizerJSON(from: model)
        } throws: { error in
            "\(error)".contains("model type unigram: only BPE models convert")
        }
    }
}
