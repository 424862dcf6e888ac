// TextInputOptions — the text files a tokenizer verb reads and how they are cut into texts.
import ArgumentParser
import Foundation
import Tokenizers

struct TextInputOptions: ParsableArguments {
    @Option(name: .customLong("input"), help: "A text file, UTF-8 (repeat for several); - reads standard input, and a pipe such as <(…) works.")
    var inputs: [String]

    @Option(help: "How files are cut into texts: file, paragraph (blank-line separated) or line.")
    var unit: TextCorpus.Unit = .paragraph

    func texts() throws -> [String] {
        try inputs.flatMap { TextCorpus.split(try TextCorpus.read(path: $0), unit: unit) }
    }
}

extension TextCorpus.Unit: ExpressibleByArgument {}
