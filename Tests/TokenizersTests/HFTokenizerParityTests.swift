// HFTokenizerParityTests — Loom's tokenizer.json runtime gives exactly the ids, tokens and decoded
// text of Hugging Face `tokenizers` 0.23.3 on all 361 fixture cases, for both layouts.
import Foundation
import Testing
@testable import Tokenizers

@Suite struct HFTokenizerParityTests {
    @Test(arguments: ["bytelevel-llama3", "spm-llama2"])
    func matchesHuggingFaceOnEveryCase(_ name: String) throws {
        let tokenizer = try FixtureRows.tokenizer(name)
        let rows = try FixtureRows.expected(name)
        #expect(rows.count == 361)
        var mismatches: [String] = []
        for row in rows {
            let ids = tokenizer.encode(row.text)
            let tokens = ids.map { tokenizer.piece(for: $0) ?? "?" }
            let decoded = tokenizer.decode(row.ids)
            if ids != row.ids || tokens != row.tokens || decoded != row.decoded {
                mismatches.append("\(row.text.debugDescription): ids \(ids) expected \(row.ids); decoded \(decoded.debugDescription)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(8).joined(separator: "\n"))")
    }

    @Test func casesFileMatchesExpectedRows() throws {
        let cases = try FixtureRows.cases()
        #expect(cases == (try FixtureRows.expected("spm-llama2")).map(\.text))
        #expect(cases.contains(""))
    }

    @Test func specialTokensAndVocabularySize() throws {
        let llama3 = try FixtureRows.tokenizer("bytelevel-llama3")
        #expect(llama3.vocabularySize == 4003)
        #expect(llama3.specialTokens == SpecialTokens(bos: 4000, eos: 4001, unk: nil, pad: nil))
        #expect(llama3.id(for: "<tool_call>") == 4002)
        #expect(llama3.piece(for: 256) == "ĠÐ")
        let llama2 = try FixtureRows.tokenizer("spm-llama2")
        #expect(llama2.vocabularySize == 3000)
        #expect(llama2.specialTokens == SpecialTokens(bos: 1, eos: 2, unk: 0, pad: nil))
        #expect(llama2.id(for: "<0x0A>") == 13)
    }
}

@Suite struct AddedTokenIdTests {
    /// Hugging Face gives an added token outside model.vocab the next id after the vocabulary,
    /// whatever id the file wrote; Loom's runtime does the same, so both agree on such files.
    @Test func addedTokensOutsideTheVocabularyTakeTheIdsHuggingFaceGives() throws {
        var document = try TokenizerErrorTests.fixtureDocument()
        document = try TokenizerErrorTests.replacing(["added_tokens", "0", "id"], in: document, with: .int(7000))
        let tokenizer = try HFTokenizer(document: document, source: "tokenizer.json")
        #expect(tokenizer.encode("<|begin_of_text|>") == [4000])
        // A token whose text is a model entry takes the entry's id.
        document = try TokenizerErrorTests.replacing(["added_tokens", "2", "content"], in: document, with: .string("Ġthe"))
        let shadowing = try HFTokenizer(document: document, source: "tokenizer.json")
        #expect(shadowing.id(for: "Ġthe") == shadowing.model.idsByText.find(Array("Ġthe".utf8)).map { Int($0) })
    }
}

@Suite struct ConcurrentEncodingTests {
    /// One tokenizer shared by many tasks encodes as it does alone (each call takes its own
    /// working memory from the pool).
    @Test func parallelEncodesMatchSerialOnes() async throws {
        let tokenizer = try FixtureRows.tokenizer("bytelevel-llama3")
        let texts = try FixtureRows.cases()
        let serial = texts.map { tokenizer.encode($0) }
        let parallel = await withTaskGroup(of: (Int, [[Int]]).self) { group in
            for worker in 0..<8 {
                group.addTask { (worker, texts.map { tokenizer.encode($0) }) }
            }
            var results: [[[Int]]] = []
            for await (_, encoded) in group { results.append(encoded) }
            return results
        }
        #expect(parallel.count == 8)
        #expect(parallel.allSatisfy { $0 == serial })
    }
}
