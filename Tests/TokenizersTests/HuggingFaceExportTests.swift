// HuggingFaceExportTests — the extended tokenizer.json, loaded by the Python `tokenizers` package,
// encodes every test string exactly as Loom does and decodes it back, Cyrillic hyperwords
// included. Runs the project venv's Python (`make` installs the pinned package there); skips, saying
// why, when the package cannot be imported.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

enum PythonTokenizers {
    /// Runs the project's Python (TestPaths.python) with `arguments`.
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
        try runProcess(TestPaths.python.executable, TestPaths.python.arguments + arguments, environment: environment)
    }

    static let isAvailable: Bool = {
        guard let result = try? run(["-c", "import tokenizers"]) else { return false }
        return result.status == 0
    }()

    /// Encodes and decodes `texts` with Hugging Face `tokenizers` (one thread): ids and decoded text per text.
    static func encode(tokenizerFile: URL, texts: [String], scratch: ScratchDirectory) throws -> [(ids: [Int], decoded: String)] {
        let input = scratch.path("texts.json"), output = scratch.path("encoded.json"), script = scratch.path("encode.py")
        try Data(OrderedJSON.array(texts.map { .string($0) }).serialized().utf8).write(to: input)
        try Data(
            """
            import json, sys
            from tokenizers import Tokenizer
            tokenizer = Tokenizer.from_file(sys.argv[1])
            texts = json.load(open(sys.argv[2], encoding="utf-8"))
            rows = []
            for text in texts:
                ids = tokenizer.encode(text, add_special_tokens=False).ids
                rows.append({"ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=False)})
            json.dump(rows, open(sys.argv[3], "w", encoding="utf-8"), ensure_ascii=False)
            """.utf8
        ).write(to: script)
        let result = try run([script.path, tokenizerFile.path, input.path, output.path], environment: ["RAYON_NUM_THREADS": "1"])
        guard result.status == 0 else { throw FixtureError("python failed: \(result.stderr)") }
        guard case .array(let rows) = try OrderedJSON.parse(Data(contentsOf: output)) else { throw FixtureError("bad python output") }
        return rows.map { row in
            let ids = row["ids"]?.arrayValue?.compactMap { value -> Int? in if case .int(let id) = value { id } else { nil } } ?? []
            let decoded: String
            if case .string(let text)? = row["decoded"] { decoded = text } else { decoded = "" }
            return (ids, decoded)
        }
    }
}

extension PythonTokenizers {
    /// Decodes each list of ids with Hugging Face `tokenizers` (special tokens kept).
    static func decode(tokenizerFile: URL, idLists: [[Int]], scratch: ScratchDirectory) throws -> [String] {
        let input = scratch.path("ids.json"), output = scratch.path("decoded.json"), script = scratch.path("decode.py")
        try Data(OrderedJSON.array(idLists.map { .array($0.map { .int($0) }) }).serialized(compact: true).utf8).write(to: input)
        try Data(
            """
            import json, sys
            from tokenizers import Tokenizer
            tokenizer = Tokenizer.from_file(sys.argv[1])
            lists = json.load(open(sys.argv[2]))
            json.dump([tokenizer.decode(ids, skip_special_tokens=False) for ids in lists], open(sys.argv[3], "w", encoding="utf-8"), ensure_ascii=False)
            """.utf8
        ).write(to: script)
        let result = try run([script.path, tokenizerFile.path, input.path, output.path])
        guard result.status == 0 else { throw FixtureError("python failed: \(result.stderr)") }
        guard case .array(let rows) = try OrderedJSON.parse(Data(contentsOf: output)) else { throw FixtureError("bad python output") }
        return rows.map { if case .string(let text) = $0 { text } else { "" } }
    }
}

@Suite(.enabled(if: PythonTokenizers.isAvailable, "the tokenizers package cannot be imported (make deps installs it into .venv/)"))
struct HuggingFaceExportTests {
    /// Random id sequences decode to the same text, including the U+FFFD Hugging Face writes for
    /// bytes that do not form UTF-8 (a lone continuation byte, a cut-off sequence, byte-fallback
    /// pieces out of order).
    @Test(arguments: HyperwordFixtures.layouts)
    func decodingArbitraryIdsMatches(_ layout: String) throws {
        let (base, extended) = try HyperwordFixtures.extended(layout)
        let scratch = try ScratchDirectory("hf-decode")
        try extended.save(to: scratch.url)
        var generator = SeededGenerator(seed: 11)
        let idLists = (0..<800).map { _ in
            (0..<Int.random(in: 0...12, using: &generator)).map { _ in Int.random(in: 0..<extended.vocabularySize, using: &generator) }
        }
        let decoded = try PythonTokenizers.decode(tokenizerFile: scratch.path("tokenizer.json"), idLists: idLists, scratch: scratch)
        for (ids, text) in zip(idLists, decoded) {
            #expect(extended.decode(ids) == text, "\(ids)")
            let baseIds = ids.filter { $0 < base.vocabularySize }
            #expect(base.decode(baseIds) == extended.decode(baseIds))
        }
        #expect(decoded.contains { $0.contains("\u{FFFD}") })
    }

    @Test(arguments: HyperwordFixtures.layouts)
    func pythonTokenizersEncodesAsLoomDoes(_ layout: String) throws {
        let (base, extended) = try HyperwordFixtures.extended(layout)
        let scratch = try ScratchDirectory("hf-export")
        try extended.save(to: scratch.url)
        let phrases = extended.newTokens.filter { $0.words >= 2 }.prefix(50).map { "Он сказал:\($0.text), и ушёл." }
        let texts = try FixtureRows.cases() + HyperwordFixtures.trainingTexts.prefix(500) + HyperwordFixtures.heldOutTexts.prefix(500) + phrases
        let rows = try PythonTokenizers.encode(tokenizerFile: scratch.path("tokenizer.json"), texts: texts, scratch: scratch)
        #expect(rows.count == texts.count)
        var mismatches: [String] = []
        var hyperwordsSeen = Set<Int>()
        for (text, row) in zip(texts, rows) {
            let ids = extended.encode(text)
            if row.ids != ids { mismatches.append("\(text.debugDescription): HF \(row.ids) Loom \(ids)") }
            #expect(row.decoded == extended.decode(ids))
            #expect(row.decoded == base.decode(base.encode(text)))
            hyperwordsSeen.formUnion(row.ids.filter { $0 >= extended.baseVocabularySize && extended.newTokens[$0 - extended.baseVocabularySize].words >= 2 })
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ:\n\(mismatches.prefix(5).joined(separator: "\n"))")
        // Cyrillic multi-word tokens are used by Hugging Face too, and decode to their text.
        #expect(hyperwordsSeen.count >= 20)
        #expect(hyperwordsSeen.contains { extended.newTokens[$0 - extended.baseVocabularySize].text.unicodeScalars.contains { (0x400..<0x500).contains($0.value) } })
    }

    @Test func addedTokensInsteadOfVocabularyEntriesGoWrong() throws {
        // The traps Loom avoids, shown on the Python library itself: a hyperword added as an
        // added_token fires inside a longer word, and ByteLevel decoding garbles a Latin-1 one.
        let scratch = try ScratchDirectory("hf-added-trap")
        var document = try TokenizerErrorTests.fixtureDocument()
        let added: [OrderedJSON] = (document["added_tokens"]?.arrayValue ?? []) + [
            .object([
                JSONMember("id", .int(4003)), JSONMember("content", .string(" в том")), JSONMember("single_word", .bool(false)),
                JSONMember("lstrip", .bool(false)), JSONMember("rstrip", .bool(false)), JSONMember("normalized", .bool(true)),
                JSONMember("special", .bool(false)),
            ]),
            .object([
                JSONMember("id", .int(4004)), JSONMember("content", .string("naïve")), JSONMember("single_word", .bool(false)),
                JSONMember("lstrip", .bool(false)), JSONMember("rstrip", .bool(false)), JSONMember("normalized", .bool(true)),
                JSONMember("special", .bool(false)),
            ]),
        ]
        document = try TokenizerErrorTests.replacing(["added_tokens"], in: document, with: .array(added))
        let file = scratch.path("tokenizer.json")
        try Data(document.serialized().utf8).write(to: file)
        let texts = ["суп в томате", "a naïve idea"]
        let rows = try PythonTokenizers.encode(tokenizerFile: file, texts: texts, scratch: scratch)
        #expect(rows[0].ids.contains(4003))
        #expect(rows[1].decoded == "a na\u{FFFD}ve idea")
        // Loom's runtime reproduces the library's behaviour for such files too.
        let loom = try HFTokenizer(contentsOf: file)
        #expect(loom.encode(texts[0]) == rows[0].ids)
        #expect(loom.decode(rows[1].ids) == rows[1].decoded)
    }
}

@Suite(.enabled(if: PythonTokenizers.isAvailable, "the tokenizers package cannot be imported (make deps installs it into .venv/)"))
struct HuggingFaceExportVariantTests {
    /// GPT-2's ByteLevel-with-regex and Qwen2's split + NFC bases: the export rewrites their
    /// pre-tokenizers, and Python still encodes as Loom does.
    @Test(arguments: ["gpt2-bytelevel", "qwen2-nfc"])
    func otherByteLevelBasesExportExactly(_ name: String) throws {
        let base = try HFTokenizer(document: try HuggingFaceVariantsTests.variant(name), source: name)
        var options = HyperwordOptions(targetCount: 120)
        options.minCount = 4
        let extended = try Hyperwords.learn(base: base, texts: Array(HyperwordFixtures.trainingTexts.prefix(1500)), options: options)
        #expect(extended.newTokens.count > 40)
        let scratch = try ScratchDirectory("hf-export-variant")
        try extended.save(to: scratch.url)
        let texts = try FixtureRows.cases() + HyperwordFixtures.heldOutTexts.prefix(300)
        let rows = try PythonTokenizers.encode(tokenizerFile: scratch.path("tokenizer.json"), texts: texts, scratch: scratch)
        let mismatches = zip(texts, rows).filter { extended.encode($0) != $1.ids || extended.decode($1.ids) != $1.decoded }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ, first \(mismatches.first.map { $0.0.debugDescription } ?? "")")
        #expect(rows.contains { $0.ids.contains { $0 >= extended.baseVocabularySize } })
    }
}
