// HyperwordRankingTests — the `surprisal` ranking in the learner, with surprisal given by the tests: with
// every gain 0 it learns exactly what `tokens` learns (both layouts); a rarer phrase whose second word
// is far more predictable than usual comes first; the first merge equals an independent computation of
// every candidate's score; learning is deterministic and lossless; and the errors for missing or
// misaligned surprisal.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct HyperwordRankingTests {
    /// The surprisal of every id of `texts` (their base encoding) from `value(text, position, id)`.
    static func surprisal(_ base: HFTokenizer, _ texts: [String], _ value: (Int, Int, Int32) -> Float) -> HyperwordSurprisal {
        HyperwordSurprisal(texts: texts.enumerated().map { number, text in
            let ids = base.encode(text).map(Int32.init)
            return ScoredText(ids: ids, surprisal: ids.enumerated().map { value(number, $0, $1) })
        })
    }

    /// A value in [0.5, 6.5) from a few integers, the same for the same integers.
    static func pseudoRandom(_ values: Int...) -> Float {
        var hash: UInt64 = 1_469_598_103_934_665_603
        for value in values { hash = (hash ^ UInt64(bitPattern: Int64(value))) &* 1_099_511_628_211 }
        return 0.5 + Float((hash >> 40) % 6000) / 1000
    }

    @Test(arguments: HyperwordFixtures.layouts)
    func withEveryGainZeroItLearnsWhatTokensLearns(_ layout: String) throws {
        let base = try FixtureRows.tokenizer(layout)
        let texts = Array(HyperwordFixtures.trainingTexts.prefix(1500))
        var options = HyperwordOptions(targetCount: 120)
        options.minCount = 4
        let byTokens = try Hyperwords.learn(base: base, texts: texts, options: options)
        options.ranking = .surprisal
        // Each id exactly as predictable as it usually is; the first id of a text is predicted by nothing.
        let flat = Self.surprisal(base, texts) { _, position, id in position == 0 ? .nan : Float(id % 7) + 0.5 }
        let bySurprisal = try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: flat)
        #expect(byTokens.newTokens.count > 50)
        #expect(bySurprisal.newTokens == byTokens.newTokens)
        #expect(bySurprisal.training?.extendedTokens == byTokens.training?.extendedTokens)
    }

    @Test func aPredictableSecondWordOutranksAMoreFrequentPair() throws {
        let base = try FixtureRows.tokenizer("bytelevel-llama3")
        let texts = Array(repeating: "и в", count: 12) + Array(repeating: "the best", count: 10) + Array(repeating: ", best", count: 10)
        #expect(base.encode("the best").count == 2 && base.encode(", best").count == 2 && base.encode("и в").count == 2)
        // " best" is 0.5 nats after "the" and 4.5 after ","; everything else 3: after "the" it is
        // 2 nats more predictable than on average, so "the best" weighs 10 × e² ≈ 74 against 12 for "и в".
        let surprisal = Self.surprisal(base, texts) { number, position, _ in
            guard position == 1 else { return 3 }
            return texts[number] == "the best" ? 0.5 : texts[number] == ", best" ? 4.5 : 3
        }
        var options = HyperwordOptions(targetCount: 1)
        options.minCount = 3
        options.wordCompletions = false
        #expect(try Hyperwords.learn(base: base, texts: texts, options: options).newTokens.map(\.text) == ["и в"])
        options.ranking = .surprisal
        #expect(try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: surprisal).newTokens.map(\.text) == ["the best"])
    }

    @Test func theFirstMergeHasTheHighestScoreComputedIndependently() throws {
        let base = try FixtureRows.tokenizer("bytelevel-llama3")
        let words = ["он", "в", "и", "не", "что", "как", "так", "на", "мы", "да"]
        // Sentences of 2–4 words (each word one base token; the first is the collocation below), each
        // repeated 1–3 times: one chunk per text.
        var sentences = ["мы да"]
        var state: UInt64 = 7
        while sentences.count < 60 {
            var picked: [String] = []
            for _ in 0..<(2 + Int(state % 3)) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                picked.append(words[Int(state >> 33) % words.count])
            }
            let sentence = picked.joined(separator: " ")
            if !sentences.contains(sentence) { sentences.append(sentence) }
        }
        for sentence in sentences {
            try #require(base.encode(sentence).count == sentence.split(separator: " ").count, "\(sentence)")
        }
        let repeats = sentences.indices.map { $0 % 3 + 1 }
        let texts = zip(sentences, repeats).flatMap { Array(repeating: $0, count: $1) }
        let sentenceOf = zip(sentences.indices, repeats).flatMap { Array(repeating: $0, count: $1) }
        // Random surprisal, except that " да" is well predicted after "мы": a collocation.
        let collocation = try #require(base.encode("мы да").map(Int32.init)) as [Int32]
        let encoded = texts.map { base.encode($0).map(Int32.init) }
        let surprisal = Self.surprisal(base, texts) { number, position, id in
            position > 0 && [encoded[number][position - 1], id] == collocation ? 0.3 : Self.pseudoRandom(sentenceOf[number], position)
        }

        // Every adjacent pair's score by the formula: Σ over occurrences of exp(s̄(b) − s(b)) in 1/65536 units.
        var sums: [Int32: Double] = [:], counts: [Int32: Double] = [:]
        for text in surprisal.texts {
            for (id, value) in zip(text.ids, text.surprisal) {
                sums[id, default: 0] += Double(value)
                counts[id, default: 0] += 1
            }
        }
        var scores: [[Int32]: Int64] = [:], occurrences: [[Int32]: Int] = [:]
        for text in surprisal.texts {
            for position in 1..<text.ids.count {
                let id = text.ids[position]
                let gain = sums[id]! / counts[id]! - Double(text.surprisal[position])
                scores[[text.ids[position - 1], id], default: 0] += Int64((65536 * exp(gain)).rounded())
                occurrences[[text.ids[position - 1], id], default: 0] += 1
            }
        }
        let ranked = scores.sorted { $0.value > $1.value }
        // The weights matter here: the most frequent pair is another one.
        #expect(occurrences.max { $0.value < $1.value }!.key != ranked[0].key)
        // A clear winner, so float rounding in the learner's own sums cannot change it.
        try #require(ranked[0].value - ranked[1].value > 1000, "\(ranked.prefix(2))")

        var options = HyperwordOptions(targetCount: 1)
        options.minCount = 1
        options.wordCompletions = false
        options.ranking = .surprisal
        let learned = try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: surprisal)
        #expect(learned.newTokens.first?.decomposition == ranked[0].key.map(Int.init))
    }

    @Test func learningIsDeterministicAndLossless() throws {
        let base = try FixtureRows.tokenizer("spm-llama2")
        let texts = Array(HyperwordFixtures.trainingTexts.prefix(1000))
        var options = HyperwordOptions(targetCount: 80)
        options.minCount = 3
        options.ranking = .surprisal
        let surprisal = Self.surprisal(base, texts) { number, position, id in Self.pseudoRandom(number % 97, position, Int(id)) }
        let first = try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: surprisal)
        let second = try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: surprisal)
        #expect(first.newTokens.count > 20)
        #expect(first.newTokens == second.newTokens)
        for text in try FixtureRows.cases() + HyperwordFixtures.heldOutTexts {
            let ids = first.encode(text)
            #expect(first.expandToBase(ids) == base.encode(text))
            #expect(first.decode(ids) == base.decode(base.encode(text)))
        }
    }

    @Test func missingOrMisalignedSurprisalIsRefused() throws {
        let base = try FixtureRows.tokenizer("bytelevel-llama3")
        var options = HyperwordOptions(targetCount: 5)
        options.ranking = .surprisal
        let texts = ["и в том", "он сказал"]
        #expect { _ = try Hyperwords.learn(base: base, texts: texts, options: options) } throws: {
            "\($0)" == "ranking surprisal: give the base model's surprisal of the training texts (HyperwordSurprisal)"
        }
        let good = Self.surprisal(base, texts) { _, _, _ in 1 }
        #expect { _ = try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: HyperwordSurprisal(texts: [good.texts[0]])) } throws: {
            "\($0)" == "surprisal: 1 scored texts for 2 training texts; score every text once, in order"
        }
        var short = good.texts
        short[1].surprisal.removeLast()
        #expect { _ = try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: HyperwordSurprisal(texts: short)) } throws: {
            "\($0)" == "surprisal of text 1: 1 values for 2 ids; give one per id"
        }
        var swapped = good.texts
        swapped[0].ids.swapAt(0, 2)
        #expect { _ = try Hyperwords.learn(base: base, texts: texts, options: options, surprisal: HyperwordSurprisal(texts: swapped)) } throws: {
            "\($0)" == "surprisal of text 0: it was computed on other ids than the base tokenizer's encoding of the text (3 ids against 3, first different at 0): score the base tokenizer's `encode` of each training text"
        }
    }
}
