// HuggingFaceVariantsTests — tokenizer.json features the two fixtures do not exercise, on variants
// of them: the Metaspace layout of newer Llama/Mistral files, the Qwen2 split with an NFC
// normalizer, GPT-2's ByteLevel-with-regex, and added tokens with single_word / lstrip / rstrip.
// Each variant is checked against the Python `tokenizers` package when it is installed, and
// against SentencePiece or hand-derived results that need no Python.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct HuggingFaceVariantsTests {
    static func object(_ members: [(String, OrderedJSON)]) -> OrderedJSON { .object(members.map { JSONMember($0.0, $0.1) }) }

    /// The Llama-2 fixture rewritten in the Metaspace layout (no normalizer; Metaspace pre-tokenizer
    /// and decoder).
    static func metaspace(split: Bool) throws -> OrderedJSON {
        var document = try TokenizerErrorTests.fixtureDocument("spm-llama2")
        document = try TokenizerErrorTests.replacing(["normalizer"], in: document, with: .null)
        let step = object([("type", .string("Metaspace")), ("replacement", .string("▁")), ("prepend_scheme", .string("first")), ("split", .bool(split))])
        document = try TokenizerErrorTests.replacing(["pre_tokenizer"], in: document, with: step)
        return try TokenizerErrorTests.replacing(["decoder"], in: document, with: object([
            ("type", .string("Sequence")),
            ("decoders", .array([object([("type", .string("Metaspace")), ("replacement", .string("▁")), ("prepend_scheme", .string("first")), ("split", .bool(split))]), object([("type", .string("ByteFallback"))]), object([("type", .string("Fuse"))])])),
        ]))
    }

    /// The Llama-3 fixture with Qwen2's split (single digits) and an NFC normalizer.
    static func qwen2Style() throws -> OrderedJSON {
        var document = try TokenizerErrorTests.fixtureDocument()
        document = try TokenizerErrorTests.replacing(["normalizer"], in: document, with: object([("type", .string("NFC"))]))
        return try TokenizerErrorTests.replacing(["pre_tokenizer", "pretokenizers", "0", "pattern", "Regex"], in: document, with: .string(SplitScanner.qwen2Pattern))
    }

    /// The Llama-3 fixture with GPT-2's pre-tokenizer: ByteLevel splitting by its own regex.
    static func gpt2Style() throws -> OrderedJSON {
        try TokenizerErrorTests.replacing(["pre_tokenizer"], in: try TokenizerErrorTests.fixtureDocument(), with: object([
            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)), ("use_regex", .bool(true)),
        ]))
    }

    /// The Llama-3 fixture with added tokens that strip whitespace or must stand alone.
    static func addedTokenFlags() throws -> OrderedJSON {
        let document = try TokenizerErrorTests.fixtureDocument()
        func token(_ id: Int, _ content: String, singleWord: Bool, lstrip: Bool, rstrip: Bool, normalized: Bool) -> OrderedJSON {
            object([
                ("id", .int(id)), ("content", .string(content)), ("single_word", .bool(singleWord)), ("lstrip", .bool(lstrip)),
                ("rstrip", .bool(rstrip)), ("normalized", .bool(normalized)), ("special", .bool(false)),
            ])
        }
        let added = (document["added_tokens"]?.arrayValue ?? []) + [
            token(4003, "<mask>", singleWord: true, lstrip: false, rstrip: false, normalized: false),
            token(4004, "[sep]", singleWord: false, lstrip: true, rstrip: true, normalized: false),
            token(4005, "ёлка", singleWord: true, lstrip: false, rstrip: true, normalized: true),
        ]
        return try TokenizerErrorTests.replacing(["added_tokens"], in: document, with: .array(added))
    }

    static let extraTexts = [
        "<mask> My name <mask> A<mask> <mask>ony <mask>", "<mask>, <mask>- ◌̰<mask>", "Hi [sep] there\t[sep]\t[sep]\u{2000}",
        "ёлка ёлкаёлка ёлка, ёлка\n", "e\u{0301}tude — café (e\u{0301}) 12345", "Ǆ ǅ ǆ ﬁ Å Å",
    ]

    static func texts() throws -> [String] { try FixtureRows.cases() + extraTexts }

    static let variantNames = ["metaspace-split", "metaspace-whole", "qwen2-nfc", "gpt2-bytelevel", "added-token-flags"]

    static func variant(_ name: String) throws -> OrderedJSON {
        switch name {
        case "metaspace-split": return try metaspace(split: true)
        case "metaspace-whole": return try metaspace(split: false)
        case "qwen2-nfc": return try qwen2Style()
        case "gpt2-bytelevel": return try gpt2Style()
        default: return try addedTokenFlags()
        }
    }

    @Test(.enabled(if: PythonTokenizers.isAvailable, "the tokenizers package cannot be imported (make deps installs it into .venv/)"),
        arguments: variantNames)
    func matchesPythonTokenizers(_ name: String) throws {
        let document = try Self.variant(name)
        let scratch = try ScratchDirectory("hf-variant")
        let file = scratch.path("tokenizer.json")
        try Data(document.serialized().utf8).write(to: file)
        let loom = try HFTokenizer(contentsOf: file)
        let texts = try Self.texts()
        let rows = try PythonTokenizers.encode(tokenizerFile: file, texts: texts, scratch: scratch)
        var mismatches: [String] = []
        for (text, row) in zip(texts, rows) {
            let ids = loom.encode(text)
            if ids != row.ids || loom.decode(row.ids) != row.decoded {
                mismatches.append("\(text.debugDescription): HF \(row.ids) \(row.decoded.debugDescription), Loom \(ids) \(loom.decode(row.ids).debugDescription)")
            }
        }
        #expect(mismatches.isEmpty, "\(name): \(mismatches.count) differ:\n\(mismatches.prefix(5).joined(separator: "\n"))")
    }

    /// llama.cpp splits text by a pattern built into it for each `tokenizer.ggml.pre` name, never by the
    /// file's: the name must be the one whose pattern is the file's (GGUFExportTests runs llama.cpp itself on
    /// exported files where the venv has it). An extended tokenizer names its base pattern.
    @Test func ggufNamesEachSplitPatternAsLlamaCppDoes() throws {
        #expect(try HFTokenizer(document: Self.variant("gpt2-bytelevel"), source: "gpt2").preTokenizerName == "gpt-2")
        #expect(try HFTokenizer(document: Self.variant("qwen2-nfc"), source: "qwen2").preTokenizerName == "qwen2")
        #expect(try FixtureRows.tokenizer("bytelevel-llama3").preTokenizerName == "llama-bpe")
        #expect(try HyperwordFixtures.extended("bytelevel-llama3").extended.runtime.preTokenizerName == "llama-bpe")
        // Metaspace (the Llama-2 layout) has no split pattern: llama.cpp's SentencePiece-style model ignores the name.
        #expect(try FixtureRows.tokenizer("spm-llama2").preTokenizerName == "default")
    }

    /// Hugging Face's Metaspace prepends "▁" only to text that does not start with a space, where
    /// SentencePiece always adds its dummy prefix; elsewhere the two agree.
    @Test func metaspaceWithoutSplittingEncodesAsSentencePiece() throws {
        let model = try SentencePieceModel(contentsOf: SentencePieceTests.modelURL)
        let runtime = try HFTokenizer(document: try Self.metaspace(split: false), source: "metaspace.json")
        for text in try FixtureRows.cases()
        where !["<s>", "</s>", "<unk>"].contains(where: text.contains) && !text.hasPrefix(" ") {
            #expect(runtime.encode(text) == (try model.encodeIds(text)), "\(text.debugDescription)")
            #expect(runtime.decode(runtime.encode(text)) == text)
        }
    }

    @Test func nfcNormalizerComposes() throws {
        let runtime = try HFTokenizer(document: try Self.qwen2Style(), source: "qwen2.json")
        #expect(runtime.encode("e\u{0301}tude") == runtime.encode("\u{00E9}tude"))
        #expect(runtime.decode(runtime.encode("e\u{0301}tude")) == "\u{00E9}tude")
        // Qwen2 splits numbers into single digits.
        #expect(runtime.pieces("12345") == ["1", "2", "3", "4", "5"])
    }

    @Test func addedTokenFlagsAsHuggingFaceDocumentsThem() throws {
        let runtime = try HFTokenizer(document: try Self.addedTokenFlags(), source: "added.json")
        let text = "<mask> My name <mask> A<mask> <mask>ony <mask>"
        // single_word: only the stand-alone masks (first, third and last) are tokens.
        #expect(runtime.encode(text).filter { $0 == 4003 }.count == 3)
        // lstrip/rstrip swallow the whitespace around "[sep]".
        let ids = runtime.encode("Hi [sep] there")
        #expect(ids.contains(4004))
        #expect(runtime.decode(ids) == "Hi[sep]there")
    }
}
