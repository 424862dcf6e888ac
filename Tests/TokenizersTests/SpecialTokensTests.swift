// SpecialTokensTests — what goes around a text's ids is what transformers' AutoTokenizer(dir)(text) puts
// there, for the layouts of Llama-3, Qwen/SmolLM2, Llama-2, Gemma, a template ending in </s>, and
// tokenizer_config.json's add_bos_token / add_eos_token (which transformers 5 leaves to the template).
// The cases and ids are Tests/Fixtures/special-tokens/cases.json, made by scripts/make-fixtures.py.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct SpecialTokensTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let document: OrderedJSON
        var description: String { name }

        var expected: [(text: String, ids: [Int], plain: [Int])] {
            guard case .array(let rows)? = document["expected"] else { return [] }
            return rows.map { row in
                func ids(_ key: String) -> [Int] {
                    guard case .array(let values)? = row[key] else { return [] }
                    return values.compactMap { if case .int(let id) = $0 { id } else { nil } }
                }
                guard case .string(let text)? = row["text"] else { return ("", [], []) }
                return (text, ids("ids"), ids("ids_without_special_tokens"))
            }
        }

        /// The case's tokenizer directory: the base fixture's tokenizer.json patched (post-processor, extra
        /// added tokens) beside the case's tokenizer_config.json.
        func directory(in scratch: ScratchDirectory) throws -> URL {
            guard case .string(let base)? = document["base"], case .object(var members) = try OrderedJSON.parse(
                Data(contentsOf: TestPaths.fixture("tokenizers/\(base)/tokenizer.json")))
            else { throw TokenizerFileError(file: "cases.json", field: name, problem: "no base") }
            for index in members.indices {
                if members[index].key == "post_processor", let processor = document["post_processor"], processor != .null {
                    members[index].value = processor
                }
                if members[index].key == "added_tokens", case .array(let tokens) = members[index].value,
                   case .array(let extra)? = document["added_tokens"] {
                    members[index].value = .array(tokens + extra)
                }
            }
            let url = scratch.url.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try OrderedJSON.object(members).serialized().write(to: url.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
            try (document["tokenizer_config"] ?? .object([])).serialized()
                .write(to: url.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
            return url
        }
    }

    static let cases: [Case] = {
        let file = TestPaths.fixture("special-tokens/cases.json")
        guard let data = try? Data(contentsOf: file), let root = try? OrderedJSON.parse(data),
              case .array(let list)? = root["cases"] else { return [] }
        return list.compactMap { item in
            guard case .string(let name)? = item["name"] else { return nil }
            return Case(name: name, document: item)
        }
    }()

    @Test func everyLayoutHasACase() {
        #expect(Self.cases.map(\.name) == ["llama3", "qwen-smollm2", "llama2", "gemma", "eos-suffix",
                                           "template-over-add-bos-false", "no-template-over-add-bos-true"])
    }

    @Test(arguments: cases) func idsWithSpecialTokensAreTransformers(_ testCase: Case) throws {
        let scratch = try ScratchDirectory("loom-special-tokens")
        let tokenizer = try TokenizerLoader.load(try testCase.directory(in: scratch))
        #expect(testCase.expected.count == 4)
        for row in testCase.expected {
            #expect(tokenizer.encodeWithSpecialTokens(row.text) == row.ids, "\(row.text.debugDescription)")
            #expect(tokenizer.encode(row.text) == row.plain, "\(row.text.debugDescription)")
        }
    }

    @Test func promptsAndDocumentsFollowTheTokenizer() throws {
        let scratch = try ScratchDirectory("loom-special-tokens")
        func load(_ name: String) throws -> any Tokenizer {
            try TokenizerLoader.load(try #require(Self.cases.first { $0.name == name }).directory(in: scratch))
        }
        // Llama-3: BOS first; documents end with EOS. Qwen/SmolLM2: no BOS; EOS still separates documents.
        let llama3 = try load("llama3")
        let text = llama3.encode("hello world")
        #expect(llama3.encodePrompt("hello world") == [4000] + text)
        #expect(llama3.encodeDocument("hello world") == [4000] + text + [4001])
        let qwen = try load("qwen-smollm2")
        #expect(qwen.specialTokens.prefix.isEmpty && qwen.specialTokens.eos == 4001)
        #expect(qwen.encodePrompt("hello world") == text)
        #expect(qwen.encodeDocument("hello world") == text + [4001])
        // A template's suffix ends a document instead of a second EOS, and never ends a prompt.
        let suffixed = try load("eos-suffix")
        let plain = suffixed.encode("hello world")
        #expect(suffixed.encodeDocument("hello world") == [1] + plain + [2])
        #expect(suffixed.encodePrompt("hello world") == [1] + plain)
    }
}
