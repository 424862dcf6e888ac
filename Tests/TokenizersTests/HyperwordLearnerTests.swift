// HyperwordLearnerTests — the learner's rules on corpora small enough to know the answer: the best
// pair first, no token left unreachable, whole words only, max words, min count, ranking by bytes,
// and pruning a token together with everything built on it.
import Foundation
import Testing
@testable import Tokenizers

@Suite struct HyperwordLearnerTests {
    static func learn(_ texts: [String], _ configure: (inout HyperwordOptions) -> Void = { _ in }) throws -> ExtendedTokenizer {
        var options = HyperwordOptions(targetCount: 20)
        options.minCount = 3
        configure(&options)
        return try Hyperwords.learn(base: try FixtureRows.tokenizer("bytelevel-llama3"), texts: texts, options: options)
    }

    @Test func mostFrequentPhraseFirst() throws {
        let texts = Array(repeating: "он сказал в том доме", count: 10) + Array(repeating: "и в том", count: 30)
        let extended = try Self.learn(texts)
        #expect(extended.newTokens.first?.text == " в том")
        #expect(extended.newTokens.contains { $0.text == "и в том" })
    }

    @Test func neverLeavesATokenUnreachable() throws {
        // Each word is one base token. "the cat" only ever occurs inside "the cat sat": learning
        // "the cat sat" on top of it would leave "the cat" unused, so the learner stops there.
        let extended = try Self.learn(Array(repeating: "the cat sat", count: 20))
        #expect(extended.newTokens.map(\.text) == ["the cat"])
        #expect(extended.newTokens[0].count == 20)
    }

    @Test func respectsMaxWordsAndMinCount() throws {
        let phrase = "раз два три четыре пять шесть"
        let extended = try Self.learn(Array(repeating: phrase, count: 10) + Array(repeating: "редко бывает", count: 2)) {
            $0.maxWordsPerPiece = 2
        }
        #expect(!extended.newTokens.isEmpty)
        #expect(extended.newTokens.allSatisfy { $0.words <= 2 && $0.count >= 3 })
        #expect(!extended.newTokens.contains { $0.text.contains("редко") })
    }

    @Test func wholeWordsOnly() throws {
        let extended = try Self.learn(Array(repeating: "«Кавычки» — да, 123 456 в (скобках) и т.д.", count: 10)) {
            $0.wordCompletions = false
        }
        for token in extended.newTokens {
            #expect(token.words >= 2)
            #expect(!token.text.contains { "«»—,()1234567890.".contains($0) }, "\(token.text)")
        }
    }

    @Test func rankingByBytesPrefersLongPhrases() throws {
        let texts = Array(repeating: "и в", count: 12) + Array(repeating: "the best of all", count: 10)
        let byTokens = try Self.learn(texts) { $0.targetCount = 1; $0.wordCompletions = false }
        let byBytes = try Self.learn(texts) { $0.targetCount = 1; $0.ranking = .bytes; $0.wordCompletions = false }
        #expect(byTokens.newTokens.map(\.text) == ["и в"])
        #expect(byBytes.newTokens.map(\.text) == ["the best"])
    }

    @Test func theSameTextsGiveTheSameFiles() throws {
        // A learning run's files are a function of its inputs (a cache that compares digests relies on it):
        // the wall-clock time is kept out of hyperwords.json, in memory and in the stage's metrics only.
        let texts = Array(repeating: "он сказал в том доме", count: 10) + Array(repeating: "и в том", count: 30)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loom-hyperwords-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var files: [[Data]] = []
        for run in 0..<2 {
            let directory = scratch.appendingPathComponent("\(run)")
            try Self.learn(texts).save(to: directory)
            files.append(try [ExtendedTokenizer.tokenizerFile, ExtendedTokenizer.hyperwordsFile].map {
                try Data(contentsOf: directory.appendingPathComponent($0))
            })
        }
        #expect(files[0] == files[1])
        let json = String(decoding: files[0][1], as: UTF8.self)
        #expect(!json.contains("seconds"))
        // A file written before, with the time in it, still reads.
        let old = scratch.appendingPathComponent("0")
        let withTime = json.replacingOccurrences(of: "\"pruned\"", with: "\"learning_seconds\":1.5,\"pruned\"")
        #expect(withTime != json)
        try Data(withTime.utf8).write(to: old.appendingPathComponent(ExtendedTokenizer.hyperwordsFile))
        let reread = try ExtendedTokenizer(contentsOf: old)
        #expect(reread.training?.learningSeconds == 0)
        #expect(reread.training?.pruned == (try Self.learn(texts)).training?.pruned)
    }

    @Test func removingATokenRemovesWhatIsBuiltOnIt() {
        let merges = [
            LearnedMerge(left: 1, right: 2, token: 100), LearnedMerge(left: 3, right: 4, token: 101),
            LearnedMerge(left: 100, right: 5, token: 102), LearnedMerge(left: 101, right: 6, token: 103),
        ]
        let kept = Hyperwords.removing([0], from: merges, firstNewId: 100)
        #expect(kept == [LearnedMerge(left: 3, right: 4, token: 100), LearnedMerge(left: 100, right: 6, token: 101)])
    }

    @Test func refusesBadOptionsAndLayouts() throws {
        let base = try FixtureRows.tokenizer("bytelevel-llama3")
        var options = HyperwordOptions(targetCount: 0)
        #expect { _ = try Hyperwords.learn(base: base, texts: ["a"], options: options) } throws: {
            "\($0)" == "target count must be positive, got 0"
        }
        options = HyperwordOptions(targetCount: 5)
        options.maxWordsPerPiece = 1
        #expect { _ = try Hyperwords.learn(base: base, texts: ["a"], options: options) } throws: {
            "\($0)" == "max words per piece must be at least 2, got 1"
        }
        options.maxWordsPerPiece = 3
        options.minCount = 0
        #expect { _ = try Hyperwords.learn(base: base, texts: ["a"], options: options) } throws: {
            "\($0)" == "min count must be at least 1, got 0"
        }
        // Extending an extended tokenizer again: extend its base instead.
        let (_, extended) = try HyperwordFixtures.extended("bytelevel-llama3")
        #expect { _ = try Hyperwords.learn(base: extended.runtime, texts: ["a b"], options: HyperwordOptions(targetCount: 5)) } throws: {
            "\($0)".hasSuffix("this tokenizer already has hyperwords (its split joins words); extend its base instead")
        }
        // A Metaspace layout splits words apart before the model: not supported.
        var document = base.document
        document = try TokenizerErrorTests.replacing(["pre_tokenizer"], in: document, with: .object([
            JSONMember("type", .string("Metaspace")), JSONMember("replacement", .string("▁")), JSONMember("prepend_scheme", .string("always")),
            JSONMember("split", .bool(true)),
        ]))
        let metaspace = try HFTokenizer(document: document, source: "metaspace.json")
        #expect { _ = try Hyperwords.learn(base: metaspace, texts: ["a b"], options: HyperwordOptions(targetCount: 5)) } throws: {
            "\($0)".hasPrefix("metaspace.json: hyperwords need a byte-level BPE")
        }
    }
}
