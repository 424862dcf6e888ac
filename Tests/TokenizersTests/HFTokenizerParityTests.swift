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
