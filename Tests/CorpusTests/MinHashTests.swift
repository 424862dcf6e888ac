// MinHashTests — word scanning, the Jaccard estimate against the exact value, and the deduplicator's
// exact and near-duplicate verdicts; everything deterministic for a seed.
import Foundation
import Testing
@testable import Corpus

@Suite struct MinHashTests {
    private func words(_ text: String) -> Int {
        var count = 0
        var copy = text
        copy.withUTF8 { WordScanner.forEachWord($0) { _ in count += 1 } }
        return count
    }

    private func analyse(_ text: String, seed: UInt64 = 0) -> MinHasher.Result {
        var copy = text
        return copy.withUTF8 { MinHasher(seed: seed, shingleWords: 5).analyse($0, signature: true) }
    }

    private func estimate(_ a: String, _ b: String) -> Double {
        let x = analyse(a).fingerprint, y = analyse(b).fingerprint
        return x.withUnsafeBufferPointer { x in y.withUnsafeBufferPointer { y in MinHasher.similarity(x, y) } }
    }

    /// Exact Jaccard similarity of the 5-word shingle sets (case-folded words).
    private func jaccard(_ a: String, _ b: String) -> Double {
        func shingles(_ text: String) -> Set<String> {
            let words = text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
            return Set((0...(words.count - 5)).map { words[$0..<($0 + 5)].joined(separator: " ") })
        }
        let x = shingles(a), y = shingles(b)
        return Double(x.intersection(y).count) / Double(x.union(y).count)
    }

    @Test func wordsKeepInnerHyphensAndApostrophes() {
        #expect(words("Кто-нибудь, don't — 42 раза; ёлка-палка - нет.") == 6)
        #expect(words("") == 0)
        #expect(words("— … !") == 0)
    }

    @Test func estimateTracksTheExactJaccard() {
        let base = sentences(60, seed: 3).joined(separator: " ")
        var wordsOfBase = base.split(separator: " ").map(String.init)
        for index in stride(from: 0, to: wordsOfBase.count, by: 40) { wordsOfBase[index] = "изменено" }
        let lightlyEdited = wordsOfBase.joined(separator: " ")
        let other = sentences(60, seed: 99).joined(separator: " ")
        let halfShared = (sentences(30, seed: 3) + sentences(30, seed: 5)).joined(separator: " ")
        for (a, b) in [(base, lightlyEdited), (base, halfShared), (base, other)] {
            let exact = jaccard(a, b), estimated = estimate(a, b)
            #expect(abs(exact - estimated) < 0.15, "exact \(exact), estimated \(estimated)")
        }
        #expect(estimate(base, base) == 1)
        #expect(estimate(base, base.uppercased()) == 1)  // case-folded
    }

    @Test func signaturesAreDeterministicForASeed() {
        let text = sentences(20, seed: 1).joined(separator: " ")
        #expect(analyse(text, seed: 5).bandKeys == analyse(text, seed: 5).bandKeys)
        #expect(analyse(text, seed: 5).bandKeys != analyse(text, seed: 6).bandKeys)
        #expect(analyse(text).bandKeys.count == MinHasher.bands)
        #expect(analyse("— …").bandKeys.isEmpty)
    }

    @Test func deduplicatorVerdicts() {
        var deduplicator = Deduplicator(threshold: 0.8)
        let base = sentences(40, seed: 21).joined(separator: " ")
        var edited = base.split(separator: " ").map(String.init)
        edited[100] = "одно"
        edited[200] = "слово"
        let near = edited.joined(separator: " ")
        let different = sentences(40, seed: 22).joined(separator: " ")
        func admit(_ text: String, key: UInt64) -> Deduplicator.Verdict {
            let result = analyse(text)
            return deduplicator.admit(exactKey: ExactKey(high: key, low: key), bandKeys: result.bandKeys, fingerprint: result.fingerprint)
        }
        #expect(admit(base, key: 1) == .kept)
        #expect(admit(base, key: 1) == .exactDuplicate)
        #expect(admit(near, key: 2) == .nearDuplicate)
        #expect(admit(different, key: 3) == .kept)
        var exactOnly = Deduplicator(threshold: 1)
        let result = analyse(base)
        #expect(exactOnly.admit(exactKey: ExactKey(high: 1, low: 1), bandKeys: result.bandKeys, fingerprint: result.fingerprint) == .kept)
        let nearResult = analyse(near)
        #expect(exactOnly.admit(exactKey: ExactKey(high: 2, low: 2), bandKeys: nearResult.bandKeys, fingerprint: nearResult.fingerprint) == .kept)
    }
}
