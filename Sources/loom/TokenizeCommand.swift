// TokenizeCommand — `loom tokenize`: encode one file (the whole file is one text) and show the ids
// and pieces, or print them as JSON.
import ArgumentParser
import Foundation
import Tokenizers

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode a file with a tokenizer and show its ids and pieces.",
        discussion: """
            The whole file is one text; no BOS/EOS is added unless --special-tokens asks for the ones the \
            tokenizer adds (its post-processor's template, as transformers' tokenizer(text) does). Example:
              loom tokenize --tokenizer models/base/tokenizer.json --input scene.txt --json
              echo "Привет, мир!" | loom tokenize --tokenizer models/base/tokenizer.json --input -
            """)

    @Option(help: "A tokenizer.json, a SentencePiece .model, or a model directory holding one.")
    var tokenizer: String

    @Option(help: "The text file to encode (UTF-8); - reads standard input, and a pipe such as <(…) works.")
    var input: String

    @Flag(name: .customLong("special-tokens"), help: "Add the special tokens the tokenizer adds around a text (BOS for Llama or Gemma, none for Qwen).")
    var specialTokens = false

    @Flag(help: "Print {\"ids\": [...], \"tokens\": [...]} instead of a table.")
    var json = false

    func run() throws {
        try Output.guarded(encode)
    }

    private func encode() throws {
        let tokenizer = try TokenizerLoader.load(URL(fileURLWithPath: self.tokenizer))
        let text = try TextCorpus.read(path: input)
        let ids = specialTokens ? tokenizer.encodeWithSpecialTokens(text) : tokenizer.encode(text)
        let pieces = ids.map { tokenizer.piece(for: $0) ?? "" }
        if json {
            let document = OrderedJSON.object([
                JSONMember("ids", .array(ids.map { .int($0) })), JSONMember("tokens", .array(pieces.map { .string($0) })),
            ])
            print(document.serialized(compact: true), terminator: "")
            return
        }
        let bytes = text.utf8.count
        print("\(ids.count) tokens, \(bytes) bytes (\(ids.isEmpty ? "-" : String(format: "%.2f", Double(bytes) / Double(ids.count))) bytes/token)")
        let width = String(ids.max() ?? 0).count
        for (id, piece) in zip(ids, pieces) {
            print(String(id).leftPadded(to: width, with: " ") + "  " + piece.debugDescription.dropFirst().dropLast())
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character) -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
