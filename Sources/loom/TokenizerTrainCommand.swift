// TokenizerTrainCommand — `loom tokenizer train`: train a SentencePiece model on text files and,
// for BPE, write its Llama-2-layout tokenizer.json beside it.
import ArgumentParser
import Foundation
import Tokenizers

struct TokenizerTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a SentencePiece tokenizer (BPE or unigram) on text files.",
        discussion: """
            Every line of every input file is a training sentence. Writes OUTPUT/tokenizer.model and, \
            for BPE, OUTPUT/tokenizer.json (Llama-2 layout, encodes exactly as the model). Defaults are \
            Llama-2's trainer settings. Example:
              loom tokenizer train --input corpus.txt --output models/base --vocab-size 8000
            """)

    @Option(name: .customLong("input"), help: "A training text file (repeat for several).")
    var inputs: [String]

    @Option(help: "The directory to write tokenizer.model (and tokenizer.json) into.")
    var output: String

    @Option(help: "Vocabulary size, byte pieces and specials included.")
    var vocabSize: Int

    @Option(help: "bpe or unigram.")
    var modelType: SentencePieceTrainingOptions.ModelType = .bpe

    @Option(help: "Share of characters the vocabulary covers; the rest fall back to bytes.")
    var characterCoverage: Double = 0.9995

    @Flag(inversion: .prefixedNo, help: "Keep pieces inside words (--no-split-by-whitespace lets them span words).")
    var splitByWhitespace = true

    @Option(help: "Longest piece, in characters.")
    var maxPieceLength: Int = 16

    @Option(name: .customLong("user-defined-symbol"), help: "A piece always kept whole (repeat for several).")
    var userDefinedSymbols: [String] = []

    @Flag(inversion: .prefixedNo, help: "Encode unknown characters as <0xXX> byte pieces instead of <unk>.")
    var byteFallback = true

    @Option(help: "Sample this many sentences from the input (0: use all).")
    var sampleSentences: Int = 0

    @Option(help: "Seed of the sentence sampling.")
    var seed: UInt32 = 42

    @Option(help: "Training threads.")
    var threads: Int = 1

    @Flag(help: "Show SentencePiece's own progress log.")
    var verbose = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        try Output.guarded(train)
    }

    private func train() throws {
        try Output.checkOutputDirectory(output)
        var options = SentencePieceTrainingOptions(vocabularySize: vocabSize, modelType: modelType)
        options.characterCoverage = characterCoverage
        options.splitByWhitespace = splitByWhitespace
        options.maxSentencePieceLength = maxPieceLength
        options.userDefinedSymbols = userDefinedSymbols
        options.byteFallback = byteFallback
        options.sampledSentences = sampleSentences
        options.seed = seed
        options.threads = threads
        let directory = URL(fileURLWithPath: output)
        let existed = FileManager.default.fileExists(atPath: directory.path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let started = Date()
        let model: SentencePieceModel
        do {
            model = try SentencePieceTrainer.train(
                inputFiles: inputs.map { URL(fileURLWithPath: $0) }, options: options,
                output: directory.appendingPathComponent("tokenizer.model"), verbose: verbose)
        } catch {
            // A failed training leaves nothing behind, not even the directory made for it.
            if !existed { try? FileManager.default.removeItem(at: directory) }
            throw error
        }
        var written = [directory.appendingPathComponent("tokenizer.model").path]
        var conversionNote: String? = nil
        do {
            try SentencePieceConversion.convert(model, to: directory.appendingPathComponent("tokenizer.json"))
            written.append(directory.appendingPathComponent("tokenizer.json").path)
        } catch let error as TokenizerFileError {
            conversionNote = error.problem
        }
        let seconds = Date().timeIntervalSince(started)
        if json {
            var members = [
                JSONMember("files", .array(written.map { .string($0) })), JSONMember("vocabulary_size", .int(model.vocabularySize)),
                JSONMember("seconds", .double(seconds)),
            ]
            if let conversionNote { members.append(JSONMember("tokenizer_json_skipped", .string(conversionNote))) }
            print(OrderedJSON.object(members).serialized(), terminator: "")
            return
        }
        print("trained \(model.vocabularySize) pieces in \(String(format: "%.1f", seconds)) s")
        for file in written { print("  wrote \(file)") }
        if let conversionNote { print("  no tokenizer.json: \(conversionNote)") }
    }
}

extension SentencePieceTrainingOptions.ModelType: ExpressibleByArgument {}
