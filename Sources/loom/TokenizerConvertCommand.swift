// TokenizerConvertCommand — `loom tokenizer convert`: a SentencePiece BPE .model as a Hugging Face
// tokenizer.json in the Llama-2 layout.
import ArgumentParser
import Foundation
import Tokenizers

struct TokenizerConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a SentencePiece BPE .model to a tokenizer.json (Llama-2 layout).",
        discussion: "Example:\n  loom tokenizer convert --model tokenizer.model --output tokenizer.json")

    @Option(help: "The SentencePiece .model file.")
    var model: String

    @Option(help: "Where to write tokenizer.json.")
    var output: String

    func run() throws {
        try Output.guarded(convert)
    }

    private func convert() throws {
        let model = try SentencePieceModel(contentsOf: URL(fileURLWithPath: self.model))
        let tokenizer = try SentencePieceConversion.convert(model, to: URL(fileURLWithPath: output))
        print("wrote \(output) (\(tokenizer.vocabularySize) entries)")
    }
}
