// TokenizerStatsCommand — `loom tokenizer stats`: bytes per token, tokens per word, vocabulary
// share and throughput of a tokenizer on text files; with --base, extended against base.
import ArgumentParser
import Foundation
import Tokenizers

struct TokenizerStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Measure a tokenizer on text: bytes/token, tokens/word, vocabulary share, MB/s.",
        discussion: """
            Example:
              loom tokenizer stats --tokenizer models/base --input heldout.txt
              loom tokenizer stats --tokenizer models/extended --base models/base --input heldout.txt --json
            """)

    @Option(help: "A tokenizer.json, a SentencePiece .model, or a model directory holding one.")
    var tokenizer: String

    @OptionGroup var input: TextInputOptions

    @Option(help: "Compare with this base tokenizer (the one TOKENIZER extends).")
    var base: String?

    @Flag(help: "Print the measures as JSON.")
    var json = false

    func run() throws {
        try Output.guarded(measure)
    }

    private func measure() throws {
        let tokenizer = try TokenizerLoader.load(URL(fileURLWithPath: self.tokenizer))
        let texts = try input.texts()
        if let base {
            let baseTokenizer = try TokenizerLoader.load(URL(fileURLWithPath: base))
            let comparison = TokenizerMeasures.compare(base: baseTokenizer, extended: tokenizer, texts: texts)
            if json { return try printJSON(comparison) }
            print("base:")
            printStats(comparison.base)
            print("extended:")
            printStats(comparison.extended)
            print(String(format: "tokens saved  %d (%.1f%%); new tokens used: %d distinct, %.1f%% of tokens",
                comparison.tokensSaved, comparison.tokenReduction * 100, comparison.newTokensUsed, comparison.newTokenShare * 100))
            return
        }
        let stats = TokenizerMeasures.measure(tokenizer, texts: texts)
        if json { return try printJSON(stats) }
        printStats(stats)
    }

    private func printStats(_ stats: TokenizationStats) {
        print(String(format: "  texts %d, bytes %d, words %d, tokens %d", stats.texts, stats.bytes, stats.words, stats.tokens))
        print(String(format: "  bytes/token %.3f   tokens/word %.3f", stats.bytesPerToken, stats.tokensPerWord))
        print(String(format: "  vocabulary used %d of %d (%.1f%%)", stats.distinctTokens, stats.vocabularySize, stats.vocabularyShare * 100))
        print(String(format: "  encode %.3f s (%.2f MB/s, one thread)", stats.encodeSeconds, stats.megabytesPerSecond))
    }
}

/// Prints a value as pretty JSON with sorted keys.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

