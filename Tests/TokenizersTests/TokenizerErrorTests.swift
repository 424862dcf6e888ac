// TokenizerErrorTests — a corrupt or unsupported tokenizer file gives an error naming the file and
// the field, one test per error.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct TokenizerErrorTests {
    static func fixtureDocument(_ name: String = "bytelevel-llama3") throws -> OrderedJSON {
        try OrderedJSON.parse(Data(contentsOf: TestPaths.fixture("tokenizers/\(name)/tokenizer.json")))
    }

    /// `document` with the value at `path` (object keys, or array indices as "3") replaced.
    static func replacing(_ path: [String], in document: OrderedJSON, with value: OrderedJSON) throws -> OrderedJSON {
        guard let key = path.first else { return value }
        switch document {
        case .object(var members):
            let inner = members.first { $0.key == key }?.value ?? .null
            let replaced = try replacing(Array(path.dropFirst()), in: inner, with: value)
            if let index = members.firstIndex(where: { $0.key == key }) {
                members[index].value = replaced
            } else {
                members.append(JSONMember(key, replaced))
            }
            return .object(members)
        case .array(var items):
            guard let index = Int(key), items.indices.contains(index) else { throw FixtureError("no index \(key)") }
            items[index] = try replacing(Array(path.dropFirst()), in: items[index], with: value)
            return .array(items)
        default:
            throw FixtureError("cannot descend into \(key)")
        }
    }

    /// The error message loading `document` gives (as if from tokenizer.json).
    static func message(_ path: [String], _ value: OrderedJSON, base: String = "bytelevel-llama3") throws -> String {
        let document = try replacing(path, in: try fixtureDocument(base), with: value)
        do {
            _ = try HFTokenizer(document: document, source: "tokenizer.json")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func unsupportedModelType() throws {
        #expect(try Self.message(["model", "type"], .string("WordPiece")) == #"tokenizer.json: model.type: "WordPiece" is not supported (expected BPE)"#)
    }

    @Test func mergeOfTheWrongShape() throws {
        #expect(try Self.message(["model", "merges", "12"], .int(42)) == #"tokenizer.json: model.merges[12]: expected "a b" or ["a", "b"], found 42"#)
        #expect(
            try Self.message(["model", "merges", "3"], .string("a b c"))
                == #"tokenizer.json: model.merges[3]: expected "a b" (two tokens and one space), found "a b c""#)
        #expect(
            try Self.message(["model", "merges", "0"], .array([.string("a")]), base: "spm-llama2")
                == #"tokenizer.json: model.merges[0]: expected ["a", "b"], found an array of 1 items"#)
    }

    @Test func mergeOfUnknownTokens() throws {
        #expect(try Self.message(["model", "merges", "5"], .string("zzz Ġ")) == #"tokenizer.json: model.merges[5]: token "zzz" is not in model.vocab"#)
        #expect(try Self.message(["model", "merges", "5"], .string("Ġ zzz")) == #"tokenizer.json: model.merges[5]: token "zzz" is not in model.vocab"#)
        #expect(try Self.message(["model", "merges", "5"], .string("z z")) == #"tokenizer.json: model.merges[5]: merged token "zz" is not in model.vocab"#)
    }

    @Test func badVocabulary() throws {
        #expect(try Self.message(["model", "vocab"], .array([])) == "tokenizer.json: model.vocab: expected an object, found an array")
        #expect(try Self.message(["model", "vocab", "!"], .string("zero")) == #"tokenizer.json: model.vocab.!: expected an integer, found "zero""#)
        #expect(try Self.message(["model", "vocab", "!"], .int(-4)) == "tokenizer.json: model.vocab.!: ids must be between 0 and 2147483647, found -4")
        #expect(try Self.message(["model", "vocab"], .null) == "tokenizer.json: model.vocab: is missing")
    }

    @Test func missingModel() throws {
        #expect(try Self.message(["model"], .null) == "tokenizer.json: model: is missing")
    }

    @Test func unknownUnkToken() throws {
        #expect(try Self.message(["model", "unk_token"], .string("<nope>"), base: "spm-llama2") == #"tokenizer.json: model.unk_token: "<nope>" is not in model.vocab"#)
    }

    @Test func unsupportedModelOptions() throws {
        #expect(try Self.message(["model", "dropout"], .double(0.1)) == "tokenizer.json: model.dropout: BPE dropout is not supported (use null)")
        #expect(try Self.message(["model", "continuing_subword_prefix"], .string("##")) == "tokenizer.json: model.continuing_subword_prefix: is not supported (expected null)")
        #expect(try Self.message(["model", "ignore_merges"], .string("yes")) == #"tokenizer.json: model.ignore_merges: expected true or false, found "yes""#)
    }

    @Test func unsupportedNormalizer() throws {
        #expect(
            try Self.message(["normalizer"], .object([JSONMember("type", .string("BertNormalizer"))]))
                == #"tokenizer.json: normalizer.type: "BertNormalizer" is not supported (expected NFC, NFD, NFKC, NFKD, Prepend, Replace or Sequence)"#)
        #expect(
            try Self.message(["normalizer", "normalizers", "1", "pattern"], .object([JSONMember("Regex", .string(" +"))]), base: "spm-llama2")
                == "tokenizer.json: normalizer.normalizers[1].pattern.Regex: regex patterns are not supported in Replace (only {\"String\": …})")
    }

    @Test func unsupportedPreTokenizers() throws {
        #expect(
            try Self.message(["pre_tokenizer", "pretokenizers", "0", "pattern", "Regex"], .string(#"\w+"#))
                == "tokenizer.json: pre_tokenizer.pretokenizers[0].pattern.Regex: this split pattern is not supported (Loom implements the GPT-2, Llama-3 and Qwen2 patterns and their hyperword variants)")
        #expect(
            try Self.message(["pre_tokenizer", "pretokenizers", "0", "behavior"], .string("Removed"))
                == #"tokenizer.json: pre_tokenizer.pretokenizers[0].behavior: "Removed" is not supported (expected Isolated)"#)
        #expect(
            try Self.message(["pre_tokenizer", "pretokenizers", "0"], .object([JSONMember("type", .string("Whitespace"))]))
                == #"tokenizer.json: pre_tokenizer.pretokenizers[0].type: "Whitespace" is not supported (expected Split, ByteLevel, Metaspace or Sequence)"#)
        let reversed = OrderedJSON.array([
            .object([JSONMember("type", .string("ByteLevel")), JSONMember("add_prefix_space", .bool(false)), JSONMember("use_regex", .bool(false))]),
            .object([
                JSONMember("type", .string("Split")), JSONMember("pattern", .object([JSONMember("Regex", .string(SplitScanner.llama3Pattern))])),
                JSONMember("behavior", .string("Isolated")),
            ]),
        ])
        #expect(
            try Self.message(["pre_tokenizer", "pretokenizers"], reversed)
                == "tokenizer.json: pre_tokenizer: ByteLevel must be the last pre-tokenizer (it turns bytes into characters)")
    }

    @Test func unsupportedDecoder() throws {
        #expect(
            try Self.message(["decoder"], .object([JSONMember("type", .string("WordPiece"))]))
                == #"tokenizer.json: decoder.type: "WordPiece" is not supported (expected ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace or Sequence)"#)
        #expect(
            try Self.message(["decoder", "decoders", "3", "content"], .string("ab"), base: "spm-llama2")
                == "tokenizer.json: decoder.decoders[3].content: expected one character")
    }

    @Test func badAddedToken() throws {
        #expect(try Self.message(["added_tokens", "0", "id"], .null) == "tokenizer.json: added_tokens[0].id: is missing")
        #expect(try Self.message(["added_tokens", "1", "content"], .int(7)) == "tokenizer.json: added_tokens[1].content: expected a string, found 7")
    }

    @Test func notAnObjectAndInvalidJSON() throws {
        #expect(throws: TokenizerFileError.self) { _ = try HFTokenizer(document: .array([]), source: "tokenizer.json") }
        do {
            _ = try HFTokenizer(data: Data("{\n  \"model\": {\n    \"vocab\": [1,]\n}".utf8), source: "broken.json")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "broken.json: invalid JSON at line 3, column 17: unexpected character")
        }
    }

    @Test func missingFilesAndUnknownKinds() throws {
        let scratch = try ScratchDirectory("tokenizer-errors")
        #expect { _ = try TokenizerLoader.load(scratch.path("absent.json")) } throws: {
            "\($0)" == "\(scratch.path("absent.json").path): no such file or directory"
        }
        try Data("x".utf8).write(to: scratch.path("vocab.txt"))
        #expect { _ = try TokenizerLoader.load(scratch.path("vocab.txt")) } throws: {
            "\($0)".hasSuffix("vocab.txt: not a tokenizer (expected a tokenizer.json, a SentencePiece .model, or a directory holding one)")
        }
        #expect { _ = try TokenizerLoader.load(scratch.url) } throws: {
            "\($0)" == "\(scratch.url.path): the directory holds neither tokenizer.json nor tokenizer.model"
        }
    }

    @Test func tokenizerConfigNamesAMissingSpecialToken() throws {
        let scratch = try ScratchDirectory("tokenizer-config")
        try FileManager.default.copyItem(
            at: TestPaths.fixture("tokenizers/bytelevel-llama3/tokenizer.json"), to: scratch.path("tokenizer.json"))
        try Data(#"{"bos_token": "<|begin_of_text|>", "eos_token": {"content": "<tool_call>"}, "pad_token": "<|end_of_text|>"}"#.utf8)
            .write(to: scratch.path("tokenizer_config.json"))
        let tokenizer = try TokenizerLoader.load(scratch.url)
        #expect(tokenizer.specialTokens == SpecialTokens(bos: 4000, eos: 4002, unk: nil, pad: 4001))
        try Data(#"{"eos_token": "<|eot_id|>"}"#.utf8).write(to: scratch.path("tokenizer_config.json"))
        #expect { _ = try TokenizerLoader.load(scratch.url) } throws: {
            "\($0)" == "\(scratch.path("tokenizer_config.json").path): eos_token: \"<|eot_id|>\" is not in the tokenizer's vocabulary"
        }
    }

    @Test func corruptHyperwordsFile() throws {
        let (_, extended) = try HyperwordFixtures.extended("spm-llama2")
        let scratch = try ScratchDirectory("hyperwords-corrupt")
        try extended.save(to: scratch.url)
        let url = scratch.path("hyperwords.json")
        var document = try OrderedJSON.parse(Data(contentsOf: url))
        document = try Self.replacing(["tokens", "2", "id"], in: document, with: .int(7))
        try Data(document.serialized().utf8).write(to: url)
        #expect { _ = try ExtendedTokenizer(contentsOf: scratch.url) } throws: {
            "\($0)" == "\(url.path): tokens[2].id: expected \(extended.baseVocabularySize + 2), found 7"
        }
        document = try Self.replacing(["tokens", "2", "id"], in: document, with: .string("x"))
        try Data(document.serialized().utf8).write(to: url)
        #expect { _ = try ExtendedTokenizer(contentsOf: scratch.url) } throws: {
            "\($0)" == "\(url.path): tokens[2].id: expected Int"
        }
        document = try Self.replacing(["tokens", "2", "id"], in: document, with: .int(extended.baseVocabularySize + 2))
        document = try Self.replacing(["tokens", "2", "decomposition"], in: document, with: .array([.int(99_999)]))
        try Data(document.serialized().utf8).write(to: url)
        #expect { _ = try ExtendedTokenizer(contentsOf: scratch.url) } throws: {
            "\($0)" == "\(url.path): tokens[2].decomposition: 99999 is not a base id (below \(extended.baseVocabularySize))"
        }
    }
}
