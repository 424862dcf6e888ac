// SceneSynthesizerTests — the n-gram scene generator on real fortunes (the stage fixtures): units give
// the text back, hyperwords become one unit, the same seed gives the same scenes and another seed others,
// every unit and every adjacent pair of units of a synthetic scene occurred in the training text,
// scenes stay within their word limit and hold hyperwords, and `novelOnly` keeps out training scenes.
import Foundation
import Testing
@testable import Corpus
import TestSupport

@Suite struct SceneSynthesizerTests {
    static let phrases = [" Евгений Кащеев", " вы теряете", " вы говорите женщине", "Когда вы", "Кащеев"]

    /// The fortunes of two fixture files, one scene each.
    let texts: [String]

    init() throws {
        texts = try ["stages/man_and_woman", "stages/lovers"].flatMap { fixture in
            try String(contentsOf: TestPaths.fixture(fixture), encoding: .utf8).components(separatedBy: "\n%\n")
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
    }

    func model(order: Int = 3, texts: [String]? = nil) -> (SceneSynthesizerBuilder, SceneSynthesizer) {
        var builder = SceneSynthesizerBuilder(order: order, phrases: Self.phrases)
        for text in texts ?? self.texts { builder.add(text) }
        return (builder, builder.build())
    }

    @Test func unitsGiveTheTextBackAndWordsKeepTheirInnerHyphens() {
        let text = "Любовь — это то, что\nкто-то сказал: «don't»...  2003г. "
        let units = SynthesisUnits.split(text)
        #expect(units == ["Любовь", " —", " это", " то", ",", " что", "\nкто-то", " сказал", ":", " «", "don't", "»...", "  2003г", "."])
        #expect(units.joined() == "Любовь — это то, что\nкто-то сказал: «don't»...  2003г.")
        #expect(units.map(SynthesisUnits.words(of:)) == [1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0])
        for text in texts { #expect(SynthesisUnits.split(text).joined() == text) }
    }

    @Test func hyperwordsBecomeOneUnitLongestFirst() {
        let builder = SceneSynthesizerBuilder(order: 3, phrases: Self.phrases)
        // "Кащеев" is one unit of its own: not a phrase.
        #expect(builder.phraseCount == 4)
        #expect(builder.segment("Когда вы говорите женщине, вы теряете.")
            == ["Когда вы", " говорите", " женщине", ",", " вы теряете", "."])
        #expect(builder.segment("А вы говорите женщине") == ["А", " вы говорите женщине"])
    }

    @Test func theSameSeedGivesTheSameScenesAndAnotherSeedOthers() {
        let (_, synthesizer) = model()
        let first = synthesizer.generate(count: 300, maxWords: 40, seed: 7, novelOnly: true)
        let again = synthesizer.generate(count: 300, maxWords: 40, seed: 7, novelOnly: true)
        let other = synthesizer.generate(count: 300, maxWords: 40, seed: 8, novelOnly: true)
        #expect(first.scenes.count == 300)
        #expect(first.scenes == again.scenes)
        #expect(first.scenes.map(\.text) != other.scenes.map(\.text))
        // A second model learned from the same text draws the same scenes: nothing depends on hashing order.
        #expect(model().1.generate(count: 300, maxWords: 40, seed: 7, novelOnly: true).scenes == first.scenes)
    }

    @Test func everyUnitAndEveryAdjacentPairOccurredInTheTrainingText() {
        let (builder, synthesizer) = model(order: 4)
        var seenUnits = Set<String>()
        var seenPairs = Set<[String]>()
        for text in texts {
            let units = [""] + builder.segment(text).map(String.init) + [""]
            seenUnits.formUnion(units)
            for index in 1..<units.count { seenPairs.insert([units[index - 1], units[index]]) }
        }
        let generation = synthesizer.generate(count: 500, maxWords: 30, seed: 1, novelOnly: false)
        #expect(generation.scenes.count == 500)
        #expect(generation.backoffs > 0)
        var pairs = 0
        for scene in generation.scenes {
            let units = scene.units.map { synthesizer.units[Int($0)] }
            #expect(units.joined() == scene.text)
            #expect(units.allSatisfy(seenUnits.contains))
            let bounded = [""] + units
            for index in 1..<bounded.count {
                #expect(seenPairs.contains([bounded[index - 1], bounded[index]]), "\(bounded[index - 1]) → \(bounded[index])")
                pairs += 1
            }
        }
        #expect(pairs > 2000)
    }

    @Test func scenesStayWithinTheirWordsAndHoldHyperwords() {
        let (builder, synthesizer) = model()
        // " вы говорите женщине" only follows "Когда", and the leftmost hyperword wins: "Когда вы" + " говорите" + …
        #expect(synthesizer.phraseTypes == 3)
        #expect(builder.phraseOccurrences >= 90)
        for maxWords in [1, 5, 12] {
            let generation = synthesizer.generate(count: 200, maxWords: maxWords, seed: 3, novelOnly: false)
            for scene in generation.scenes {
                #expect(scene.words >= 1 && scene.words <= maxWords)
                #expect(scene.words == scene.units.reduce(0) { $0 + synthesizer.words(of: $1) })
                // Counted as the corpus counts words, the text holds no more.
                let counted = Array(scene.text.utf8).withUnsafeBufferPointer {
                    MinHasher(seed: 0, shingleWords: 1).analyse($0, signature: false).words
                }
                #expect(counted <= maxWords)
            }
        }
        let generation = synthesizer.generate(count: 300, maxWords: 40, seed: 5, novelOnly: true)
        let phraseUnits = generation.scenes.flatMap(\.units).filter(synthesizer.isPhrase)
        #expect(phraseUnits.count > 50)
        #expect(Set(phraseUnits.map { synthesizer.units[Int($0)] }).isSubset(of: Set(Self.phrases)))
        #expect(generation.scenes.contains { $0.text.contains(" Евгений Кащеев") })
    }

    @Test func novelOnlyKeepsTrainingScenesOutAndGivesUpAfterTwentyDraws() {
        let (_, synthesizer) = model()
        let generation = synthesizer.generate(count: 400, maxWords: 60, seed: 2, novelOnly: true)
        #expect(generation.copyDraws > 0)
        let training = Set(texts)
        #expect(generation.scenes.allSatisfy { !training.contains($0.text) })
        let withCopies = synthesizer.generate(count: 400, maxWords: 60, seed: 2, novelOnly: false)
        #expect(withCopies.scenes.contains { training.contains($0.text) })

        // One training scene, whose every context has one continuation: the model can only say it again.
        let single = model(order: 6, texts: ["Муж не вовремя хуже татарина."]).1
        #expect(single.generate(count: 3, maxWords: 60, seed: 0, novelOnly: false).scenes.map(\.text)
            == Array(repeating: "Муж не вовремя хуже татарина.", count: 3))
        let none = single.generate(count: 3, maxWords: 60, seed: 0, novelOnly: true)
        #expect(none.scenes.isEmpty && none.copyDraws == 60)
    }

    @Test func punctuationOnlyTextHasNoWords() {
        var builder = SceneSynthesizerBuilder(order: 2, phrases: [])
        builder.add("... !!! ?")
        builder.add("   ")
        #expect(builder.scenes == 1 && builder.unitCount == 3)
        let synthesizer = builder.build()
        #expect(!synthesizer.hasWords)
        let generation = synthesizer.generate(count: 2, maxWords: 10, seed: 0, novelOnly: false)
        #expect(generation.scenes.isEmpty && generation.emptyDraws == 40)
    }
}
