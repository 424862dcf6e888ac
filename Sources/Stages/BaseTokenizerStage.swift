// BaseTokenizerStage — the `base-tokenizer` kind: the tokenizer everything after it builds on. Either
// it trains a SentencePiece BPE model on the train split of chosen corpus tiers (Llama-2's trainer
// settings, converted to a Llama-2-layout tokenizer.json), or — with `path` — it takes an existing
// model's tokenizer as is.
//
// Why a stage of its own and not part of `pretrain-base`: the tokenizer then reruns only when the
// corpus or its own parameters change (never for a new model size or learning rate), `hyperwords`
// depends on it alone and runs beside pretraining, and it needs no libtorch.
//
// Output (a Hugging Face tokenizer directory):
//   tokenizer.json          the runtime every later stage loads (TokenizerLoader)
//   tokenizer.model         the SentencePiece model (when trained, or when `path` had one)
//   tokenizer_config.json   names <s>, </s>, <unk> (trained), or the model's own (copied)
//   special_tokens_map.json when `path` had one
import Corpus
import Foundation
import LoomCore
import Pipeline
import Tokenizers

public struct BaseTokenizerStage: StageKind {
    public static let descriptor = StageKindDescriptor(
        name: "base-tokenizer", version: 1,
        summary: "Train a SentencePiece BPE base tokenizer on corpus tiers, or take an existing model's tokenizer (`path`).",
        executable: .loom,
        schema: ParamSchema([
            .path("path", .any, required: false,
                  doc: "use this tokenizer as is instead of training: a Hugging Face model directory (its tokenizer files are copied), a tokenizer.json, or a SentencePiece .model; the training keys are then unused"),
            .list("tiers", of: .string,
                  doc: "corpus tiers whose train split the tokenizer learns from and whose validation split measures it (empty: every tier)"),
            .int("vocab_size", default: 8000, range: 300...1_048_576, doc: "vocabulary size, the 3 specials and 256 byte pieces included"),
            .float("character_coverage", default: 0.9995, range: ParamRange(minimum: 0, maximum: 1, exclusiveMinimum: true),
                   doc: "share of characters the vocabulary covers; the rarest fall back to byte pieces"),
            .bool("byte_fallback", default: true, doc: "characters outside the vocabulary become <0xXX> byte pieces instead of <unk>"),
            .int("max_piece_length", default: 16, range: 1...64, doc: "longest piece, in characters"),
            .bool("split_digits", default: true, doc: "every digit is its own piece"),
            .list("user_defined_symbols", of: .string, doc: "pieces always kept whole"),
            .int("sample_mb", default: 0, minimum: 0, doc: "train on a seeded sample of about this many MiB of text (0: all of it)"),
            .int("seed", default: 0, minimum: 0, doc: "seeds the sample"),
            .int("threads", default: 1, range: 1...256,
                 doc: "SentencePiece trainer threads; the trained model differs with their number, so it is a parameter (and in the fingerprint)"),
        ]),
        metricGoals: ["tokenizer/vocab_size": .none],
        tierKeys: ["tiers"])

    /// The parameters as the kind reads them.
    public struct Parameters: KindParameters, Sendable, Equatable {
        /// An existing tokenizer to take as is (absolute); nil: train one.
        public var path: String?
        public var tiers: [String]
        public var vocabSize: Int
        public var characterCoverage: Double
        public var byteFallback: Bool
        public var maxPieceLength: Int
        public var splitDigits: Bool
        public var userDefinedSymbols: [String]
        public var sampleMb: Int
        public var seed: Int
        public var threads: Int
    }

    /// Files of a Hugging Face model directory that make up its tokenizer.
    static let tokenizerFiles = ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]

    public init() {}

    public var descriptor: StageKindDescriptor { Self.descriptor }

    public func run(_ context: StageContext) throws {
        let upstream = UpstreamOutputs(context)
        let output = context.outputDirectory
        let parameters = try Parameters.load(context.params)
        if let path = parameters.path {
            try copyTokenizer(from: URL(fileURLWithPath: path), into: output, log: context.log)
        } else {
            try train(context, parameters: parameters, corpus: try upstream.corpus(), into: output)
        }
        try context.checkCancellation()
        let tokenizer = try TokenizerLoader.loadHF(output)
        context.metrics.log("tokenizer/vocab_size", Double(tokenizer.vocabularySize), step: 0)
        context.registerArtifact(name: "tokenizer", path: "tokenizer.json")
        // Measured on held-out text when there is a corpus to take it from.
        guard let corpusDirectory = try upstream.optionalDirectory(ofKind: CorpusStage.descriptor.name) else { return }
        let corpus = try CorpusReader(directory: corpusDirectory)
        let tiers = try CorpusSelection.tiers(parameters.tiers, in: corpus, parameter: "tiers")
        let heldOut = try CorpusSelection.texts(of: corpus, split: .validation, tiers: tiers, sampleBytes: CorpusSelection.measuredBytes)
        guard !heldOut.isEmpty else { return }
        let stats = TokenizerMeasures.measure(tokenizer, texts: heldOut)
        context.metrics.log(["tokenizer/bytes_per_token": stats.bytesPerToken, "tokenizer/tokens_per_word": stats.tokensPerWord], step: 0)
        context.log.info(String(format: "held-out text of %@: %.2f bytes per token, %.2f tokens per word",
                                tiers.joined(separator: "+"), stats.bytesPerToken, stats.tokensPerWord))
    }

    private func train(_ context: StageContext, parameters: Parameters, corpus: CorpusReader, into output: URL) throws {
        let tiers = try CorpusSelection.tiers(parameters.tiers, in: corpus, parameter: "tiers")
        // SentencePiece trains on lines: one paragraph per line, streamed to a scratch file.
        let input = context.scratchDirectory.appendingPathComponent("train.txt")
        try Data().write(to: input)
        let file = try FileHandle(forWritingTo: input)
        var buffer = Data()
        var bytes = 0
        var scenes = 0
        try CorpusSelection.forEachText(
            of: corpus, split: .train, tiers: tiers, sampleBytes: parameters.sampleMb << 20, seed: parameters.seed
        ) { text in
            scenes += 1
            if scenes % 4096 == 0 { try context.checkCancellation() }
            for paragraph in text.split(separator: "\n", omittingEmptySubsequences: true) {
                buffer.append(contentsOf: paragraph.utf8)
                buffer.append(0x0A)
            }
            if buffer.count >= 1 << 20 {
                try file.write(contentsOf: buffer)
                bytes += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try file.write(contentsOf: buffer)
        bytes += buffer.count
        try file.close()
        guard bytes > 0 else {
            throw UpstreamError("tiers: the train split of \(tiers.joined(separator: ", ")) holds no text to train a tokenizer on")
        }
        var options = SentencePieceTrainingOptions(vocabularySize: parameters.vocabSize, modelType: .bpe)
        options.characterCoverage = parameters.characterCoverage
        options.byteFallback = parameters.byteFallback
        options.maxSentencePieceLength = parameters.maxPieceLength
        options.splitDigits = parameters.splitDigits
        options.userDefinedSymbols = parameters.userDefinedSymbols
        options.threads = parameters.threads
        let megabytes = String(format: "%.1f", Double(bytes) / 1_000_000)
        context.progress.report(message: "training a \(options.vocabularySize)-piece BPE tokenizer on \(megabytes) MB of \(tiers.joined(separator: "+"))")
        context.log.info("training SentencePiece BPE (\(options.vocabularySize) pieces) on \(scenes) scenes, \(megabytes) MB of \(tiers.joined(separator: ", "))")
        try context.checkCancellation()
        let started = Date()
        let model = try SentencePieceTrainer.train(inputFiles: [input], options: options, output: output.appendingPathComponent("tokenizer.model"))
        try SentencePieceConversion.convert(model, to: output.appendingPathComponent("tokenizer.json"))
        try AtomicFile.write(Self.tokenizerConfig.prettyJSON, to: output.appendingPathComponent("tokenizer_config.json"))
        context.metrics.log("tokenizer/train_bytes", Double(bytes), step: 0)
        context.log.info(String(format: "trained %d pieces in %.1f s", model.vocabularySize, Date().timeIntervalSince(started)))
    }

    /// A Llama-2-style tokenizer_config.json for the trained model (ids 0, 1, 2 are <unk>, <s>, </s>).
    static let tokenizerConfig: JSONValue = .object([
        "tokenizer_class": .string("LlamaTokenizerFast"),
        "bos_token": .string("<s>"), "eos_token": .string("</s>"), "unk_token": .string("<unk>"),
        "add_bos_token": .bool(true), "add_eos_token": .bool(false),
        "clean_up_tokenization_spaces": .bool(false),
    ])

    /// Copies an existing tokenizer into the output, as a tokenizer directory.
    private func copyTokenizer(from source: URL, into output: URL, log: StageLog) throws {
        if (try? source.resourceValues(forKeys: [.isDirectoryKey]))?.isDirectory == true {
            let present = Self.tokenizerFiles.filter { FileManager.default.fileExists(atPath: source.appendingPathComponent($0).path) }
            guard present.contains("tokenizer.json") || present.contains("tokenizer.model") else {
                throw UpstreamError("path: \(source.path) holds neither tokenizer.json nor tokenizer.model")
            }
            for name in present {
                try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: output.appendingPathComponent(name))
            }
            if !present.contains("tokenizer.json") {
                let model = try SentencePieceModel(contentsOf: output.appendingPathComponent("tokenizer.model"))
                try SentencePieceConversion.convert(model, to: output.appendingPathComponent("tokenizer.json"))
            }
            log.info("copied \(present.joined(separator: ", ")) from \(source.path)")
            return
        }
        switch source.pathExtension {
        case "json":
            try FileManager.default.copyItem(at: source, to: output.appendingPathComponent("tokenizer.json"))
        case "model":
            try FileManager.default.copyItem(at: source, to: output.appendingPathComponent("tokenizer.model"))
            let model = try SentencePieceModel(contentsOf: output.appendingPathComponent("tokenizer.model"))
            try SentencePieceConversion.convert(model, to: output.appendingPathComponent("tokenizer.json"))
        default:
            throw UpstreamError("path: \(source.path) is not a tokenizer (expected a model directory, a tokenizer.json or a SentencePiece .model)")
        }
        log.info("copied the tokenizer \(source.path)")
    }
}
