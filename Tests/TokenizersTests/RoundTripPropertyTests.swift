// RoundTripPropertyTests — seeded random Unicode through every tokenizer: decode(encode(x)) == x
// byte for byte (base and extended, both layouts), an extended encoding expands to the base's,
// the split scanners tile their input, and the Llama-2 runtime agrees with SentencePiece itself.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct RoundTripPropertyTests {
    static let samples = 1500

    @Test(arguments: HyperwordFixtures.layouts)
    func decodeOfEncodeIsTheText(_ layout: String) throws {
        let (base, extended) = try HyperwordFixtures.extended(layout)
        var generator = SeededGenerator(seed: 20_251_123)
        for _ in 0..<Self.samples {
            let text = RandomText.string(&generator)
            let baseIds = base.encode(text)
            let extendedIds = extended.encode(text)
            #expect(Array(base.decode(baseIds).utf8) == Array(text.utf8), "base: \(text.debugDescription)")
            #expect(Array(extended.decode(extendedIds).utf8) == Array(text.utf8), "extended: \(text.debugDescription)")
            #expect(extended.expandToBase(extendedIds) == baseIds, "\(text.debugDescription)")
        }
    }

    @Test func hyperwordsInRandomPhrasesStayLossless() throws {
        let (_, extended) = try HyperwordFixtures.extended("spm-llama2")
        let phrases = extended.newTokens.map(\.text)
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<Self.samples {
            var text = ""
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                text += Bool.random(using: &generator) ? phrases.randomElement(using: &generator)! : RandomText.atoms.randomElement(using: &generator)!
            }
            #expect(extended.decode(extended.encode(text)) == text, "\(text.debugDescription)")
        }
    }

    @Test func llama2RuntimeAgreesWithSentencePieceOnRandomText() throws {
        let model = try SentencePieceModel(contentsOf: SentencePieceTests.modelURL)
        let runtime = try FixtureRows.tokenizer("spm-llama2")
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<Self.samples {
            let text = RandomText.string(&generator)
            #expect(runtime.encode(text) == (try model.encodeIds(text)), "\(text.debugDescription)")
        }
    }

    @Test func splitScannersTileTheirInput() {
        let scanners = [
            SplitScanner(pattern: SplitScanner.llama3Pattern)!, SplitScanner(pattern: SplitScanner.qwen2Pattern)!,
            SplitScanner(pattern: SplitScanner.gpt2Pattern)!,
        ]
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<Self.samples {
            var text = RandomText.string(&generator)
            text.withUTF8 { bytes in
                for scanner in scanners + scanners.map({ $0.joiningWords() }) {
                    var previousEnd = 0
                    scanner.forEachPiece(bytes, 0..<bytes.count) { start, end in
                        #expect(start == previousEnd && end > start)
                        // Pieces end on scalar boundaries.
                        #expect(end == bytes.count || bytes[end] & 0xC0 != 0x80)
                        previousEnd = end
                    }
                    #expect(previousEnd == bytes.count)
                }
            }
        }
    }
}
