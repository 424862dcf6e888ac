// TokenizerCommand — `loom tokenizer …`: train, convert, measure and extend tokenizers.
import ArgumentParser

struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train, convert, measure and extend tokenizers (SentencePiece, tokenizer.json, hyperwords).",
        subcommands: [TokenizerTrainCommand.self, TokenizerConvertCommand.self, TokenizerStatsCommand.self, TokenizerExtendCommand.self])
}
