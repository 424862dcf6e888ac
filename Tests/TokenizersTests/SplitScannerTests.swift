// SplitScannerTests — the hand-written split patterns on cases whose pieces are known, and the
// word-joining variants the extended tokenizers use.
import Testing
@testable import Tokenizers

@Suite struct SplitScannerTests {
    static func pieces(_ scanner: SplitScanner, _ text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var out: [String] = []
            scanner.forEachPiece(bytes, 0..<bytes.count) { out.append(String(decoding: bytes[$0..<$1], as: UTF8.self)) }
            return out
        }
    }

    @Test func recognisesExactlyTheKnownPatterns() {
        #expect(SplitScanner(pattern: SplitScanner.llama3Pattern) == SplitScanner(style: .llama3(digits: 3)))
        #expect(SplitScanner(pattern: SplitScanner.qwen2Pattern) == SplitScanner(style: .llama3(digits: 1)))
        #expect(SplitScanner(pattern: SplitScanner.gpt2Pattern) == SplitScanner(style: .gpt2))
        for scanner in [SplitScanner(style: .llama3(digits: 3)), SplitScanner(style: .llama3(digits: 1)), SplitScanner(style: .gpt2)] {
            #expect(SplitScanner(pattern: scanner.pattern) == scanner)
            #expect(SplitScanner(pattern: scanner.joiningWords().pattern) == scanner.joiningWords())
        }
        #expect(SplitScanner(pattern: SplitScanner.llama3Pattern + "|x") == nil)
    }

    @Test func llama3Pieces() {
        let llama3 = SplitScanner(style: .llama3(digits: 3))
        #expect(Self.pieces(llama3, "Hello, world! It's 1234567") == ["Hello", ",", " world", "!", " It", "'s", " ", "123", "456", "7"])
        #expect(Self.pieces(llama3, "a  b\n\n c") == ["a", " ", " b", "\n\n", " c"])
        #expect(Self.pieces(llama3, "x'ſa THEY'LL") == ["x", "'ſ", "a", " THEY", "'LL"])
        #expect(Self.pieces(llama3, "end   ") == ["end", "   "])
    }

    @Test func joiningVariantKeepsPhrasesTogether() {
        let chunks = SplitScanner(style: .llama3(digits: 3)).joiningWords()
        #expect(Self.pieces(chunks, "Он сказал, что в том  доме 12 окон") == ["Он сказал", ",", " что в том", " ", " доме", " ", "12", " окон"])
        #expect(Self.pieces(chunks, "it's a dog") == ["it", "'s", " a dog"])
        let marked = SplitScanner(style: .llama3(digits: 3)).readingSpaces(as: "▁").joiningWords()
        #expect(Self.pieces(marked, "▁в▁том,▁что▁▁▁это▁,") == ["▁в▁том", ",", "▁что", "▁▁", "▁это", "▁,"])
        let gpt2 = SplitScanner(style: .gpt2).joiningWords()
        #expect(Self.pieces(gpt2, "the cat sat. ok") == ["the cat sat", ".", " ok"])
    }
}
