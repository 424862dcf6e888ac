// HyperwordTests — learning multi-word tokens on top of both fixture layouts: what is learned
// (whole words, at most max words, every token used at least min-count times), that the extended
// tokenizer is lossless and expands back to the base ids, the report, and the learner's rules on
// small corpora where the answer is known.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct HyperwordTests {
    @Test(arguments: HyperwordFixtures.layouts)
    func learnsReachableWordAlignedTokens(_ layout: String) throws {
        let (base, extended) = try HyperwordFixtures.extended(layout)
        let options = HyperwordFixtures.options
        #expect(extended.baseVocabularySize == base.vocabularySize)
        #expect(extended.newTokens.count > 100 && extended.newTokens.count <= options.targetCount)
        #expect(extended.vocabularySize == base.vocabularySize + extended.newTokens.count)
        #expect(extended.newTokens.filter { $0.words >= 2 }.count > 20)
        for (index, token) in extended.newTokens.enumerated() {
            #expect(token.id == base.vocabularySize + index)
            #expect(token.count >= options.minCount, "\(token.text) occurs \(token.count) times")
            #expect(token.words >= 1 && token.words <= options.maxWordsPerPiece)
            #expect(token.left < token.id && token.right < token.id)
            #expect(extended.decomposition(of: token.left) + extended.decomposition(of: token.right) == token.decomposition)
            // Whole words: it starts with a letter or a space before one, and ends with a letter.
            let scalars = Array(token.text.unicodeScalars)
            let first = scalars.first == " " ? scalars.dropFirst().first : scalars.first
            #expect(first?.properties.isAlphabetic == true && scalars.last?.properties.isAlphabetic == true, "\(token.text.debugDescription)")
            #expect(base.decode(token.decomposition).hasSuffix(token.text.trimmingCharacters(in: .whitespaces)))
        }
        let training = try #require(extended.training)
        #expect(training.texts == HyperwordFixtures.trainingTexts.count)
        #expect(training.extendedTokens < training.baseTokens)
        #expect(training.baseTokens - training.extendedTokens == extended.newTokens.reduce(0) { $0 + $1.tokensSaved })
    }

    @Test(arguments: HyperwordFixtures.layouts)
    func expandsToTheBaseEncodingAndDecodesLosslessly(_ layout: String) throws {
        let (base, extended) = try HyperwordFixtures.extended(layout)
        let texts = try FixtureRows.cases() + HyperwordFixtures.heldOutTexts
        var usedNew = 0
        for text in texts {
            let ids = extended.encode(text)
            usedNew += ids.filter { $0 >= extended.baseVocabularySize }.count
            #expect(extended.expandToBase(ids) == base.encode(text), "\(text.debugDescription)")
            #expect(extended.decode(ids) == base.decode(base.encode(text)))
        }
        #expect(usedNew > 0)
    }

    @Test(arguments: HyperwordFixtures.layouts)
    func measuresExtendedAgainstBase(_ layout: String) throws {
        let (base, extended) = try HyperwordFixtures.extended(layout)
        let comparison = TokenizerMeasures.compare(base: base, extended: extended, texts: HyperwordFixtures.heldOutTexts)
        #expect(comparison.base.bytes == comparison.extended.bytes)
        #expect(comparison.tokensSaved == comparison.base.tokens - comparison.extended.tokens)
        #expect(comparison.tokensSaved > 0)
        #expect(comparison.extended.bytesPerToken > comparison.base.bytesPerToken)
        #expect(comparison.extended.tokensPerWord < comparison.base.tokensPerWord)
        #expect(comparison.newTokensUsed > 0 && comparison.newTokenShare > 0 && comparison.newTokenShare < 1)
    }

    @Test(arguments: HyperwordFixtures.layouts)
    func savesAndLoadsTheExtendedTokenizer(_ layout: String) throws {
        let (_, extended) = try HyperwordFixtures.extended(layout)
        let scratch = try ScratchDirectory("hyperwords-save")
        try extended.save(to: scratch.url)
        let loaded = try ExtendedTokenizer(contentsOf: scratch.url)
        #expect(loaded.newTokens == extended.newTokens)
        var saved = try #require(extended.training)
        saved.learningSeconds = 0  // the wall-clock time stays out of the file (same inputs, same bytes)
        #expect(loaded.training == saved)
        #expect(loaded.baseVocabularySize == extended.baseVocabularySize)
        for text in HyperwordFixtures.heldOutTexts.prefix(200) {
            #expect(loaded.encode(text) == extended.encode(text))
        }
        // The plain loader reads the directory as an ordinary tokenizer.json.
        let plain = try TokenizerLoader.load(scratch.url)
        #expect(plain.vocabularySize == extended.vocabularySize)
        #expect(plain.encode("в том числе и не") == extended.encode("в том числе и не"))
    }

    @Test func byteLevelExportJoinsWordsOnlyInItsSplitPattern() throws {
        let (base, extended) = try HyperwordFixtures.extended("bytelevel-llama3")
        let pattern = try #require(extended.runtime.document["pre_tokenizer"]?["pretokenizers"]?.arrayValue?.first?["pattern"]?["Regex"])
        #expect(pattern == .string(SplitScanner(pattern: SplitScanner.llama3Pattern)!.joiningWords().pattern))
        #expect(extended.runtime.document["added_tokens"] == base.document["added_tokens"])
        #expect(extended.runtime.document["decoder"] == base.document["decoder"])
        let merges = try #require(extended.runtime.document["model"]?["merges"]?.arrayValue)
        #expect(merges.count == base.model.mergeList.count + extended.newTokens.count)
        // The base wrote "a b" strings; the extension keeps that form.
        if case .string = merges.last! {} else { Issue.record("new merges should be written as \"a b\" like the base's") }
    }

    @Test func spaceMarkerExportKeepsTheBaseLayout() throws {
        let (base, extended) = try HyperwordFixtures.extended("spm-llama2")
        for key in ["normalizer", "pre_tokenizer", "decoder", "added_tokens", "post_processor"] {
            #expect(extended.runtime.document[key] == base.document[key])
        }
        #expect(extended.newTokens.contains { $0.piece.hasPrefix("▁") && $0.piece.dropFirst().contains("▁") })
    }
}

extension OrderedJSON {
    var arrayValue: [OrderedJSON]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
