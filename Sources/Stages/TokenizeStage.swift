// TokenizeStage — the `tokenize` kind: the corpus's tokens under the tokenizer of the model a recipe
// trains, made once into a token store (LoomCore's TokenStore) that every variant's `train` and `eval`
// and every resumed attempt read, instead of tokenising the text again each time. Runs on every core
// with a progress line (scenes, MB/s, ETA); the store's bytes do not depend on the thread count. A
// book an earlier store already encoded under the same tokenizer is linked from it, so adding books to
// a tier encodes only them.
//
// Inputs (found by kind, see UpstreamOutputs): a `corpus` stage, and the tokenizer — an `extend-vocab`
// stage's model directory when there is one, else the base model's (a `pretrain-base` stage's).
//
// Output: store.json, records.bin, docs/<key>.tokens (see TokenStore).
import Corpus
import Foundation
import LoomCore
import Pipeline
import Tokenizers

public struct TokenizeStage: StageKind {
    public static let descriptor = StageKindDescriptor(
        name: "tokenize", version: 1,
        summary: "Tokenise the corpus once into a memory-mapped token store that train and eval read (every split and tier).",
        executable: .loom,
        schema: ParamSchema([
            ParamSpec.int("threads", default: 0, minimum: 0,
                          doc: "encoding threads (0: every core); the store is the same whatever the count, so it is not in the fingerprint")
                .notFingerprinted(),
        ]),
        metricGoals: [
            "tokenize/tokens": .none, "tokenize/documents": .none, "tokenize/reused_documents": .none,
            "tokenize/mb_per_second": .maximize, "tokenize/bytes_per_token": .none,
        ])

    public struct Parameters: KindParameters, Sendable, Equatable {
        public var threads: Int
    }

    public init() {}

    public var descriptor: StageKindDescriptor { Self.descriptor }

    /// The directory whose tokenizer the model kinds train with: an `extend-vocab` output, else the base model.
    public static func tokenizerDirectory(_ upstream: UpstreamOutputs) throws -> URL {
        try upstream.optionalDirectory(ofKind: ExtendVocabKind.descriptor.name) ?? upstream.baseModelDirectory()
    }

    public func run(_ context: StageContext) throws {
        let parameters = try Parameters.load(context.params)
        let upstream = UpstreamOutputs(context)
        let summary = try Self.build(
            context, corpus: try upstream.corpus(), tokenizerDirectory: try Self.tokenizerDirectory(upstream),
            into: context.outputDirectory, threads: parameters.threads)
        context.metrics.log([
            "tokenize/tokens": Double(summary.tokens), "tokenize/documents": Double(summary.documents),
            "tokenize/reused_documents": Double(summary.reused), "tokenize/mb_per_second": summary.encodedMegabytesPerSecond,
            "tokenize/bytes_per_token": summary.tokens > 0 ? Double(summary.bytes) / Double(summary.tokens) : 0,
        ], step: 0)
        context.registerArtifact(name: "store", path: TokenStoreHeader.fileName)
        context.registerArtifact(name: "records", path: TokenStoreHeader.recordsFileName)
    }

    /// Builds the store of `corpus` under the tokenizer in `tokenizerDirectory` into `directory`, linking
    /// the documents earlier stores of the home hold, with the progress line and a summary in the log.
    @discardableResult
    public static func build(
        _ context: StageContext, corpus: CorpusReader, tokenizerDirectory: URL, into directory: URL, threads: Int = 0
    ) throws -> TokenStoreBuilder.Summary {
        let tokenizer = try TokenizerLoader.loadHF(tokenizerDirectory)
        let digest = try TokenStoreBuilder.tokenizerDigest(directory: tokenizerDirectory)
        let dtype = TokenStoreHeader.TokenType.fitting(vocabularySize: tokenizer.vocabularySize)
        let reuse = context.cacheRoot.map { TokenStore.reusableDocuments(under: $0, tokenizer: digest, dtype: dtype) } ?? [:]
        context.log.info("tokenising the corpus (\(corpus.manifest.shards.reduce(0) { $0 + $1.bytes } >> 20) MiB) with \(tokenizer.source) into \(dtype.rawValue) ids\(reuse.isEmpty ? "" : "; \(reuse.count) documents of earlier stores can be linked")")
        let summary = try TokenStoreBuilder.build(
            corpus: corpus, tokenizer: tokenizer, tokenizerDigest: digest, into: directory, reuse: reuse, threads: threads,
            progress: { progress in
                let megabytes = Double(progress.bytes) / 1_048_576
                context.progress.report(
                    step: progress.scenes, total: progress.totalScenes,
                    tokensPerSecond: progress.seconds > 0 ? Double(progress.tokens) / progress.seconds : nil,
                    message: String(format: "tokenising: %.0f of %.0f MB, %.1f MB/s", megabytes, Double(progress.totalBytes) / 1_048_576,
                                    progress.seconds > 0 ? megabytes / progress.seconds : 0)
                        + (progress.reused > 0 ? ", \(progress.reused) documents linked" : ""))
            },
            checkCancellation: { try context.checkCancellation() })
        context.log.info("\(summary.tokens) tokens in \(summary.scenes) scenes of \(summary.documents) documents (\(summary.encoded) encoded at \(String(format: "%.1f", summary.encodedMegabytesPerSecond)) MB/s, \(summary.reused) linked from earlier stores) in \(String(format: "%.1f", summary.seconds)) s")
        return summary
    }

    /// The token store a model kind reads for the tokenizer in `tokenizerDirectory`: the upstream
    /// `tokenize` stage's when it was made with that tokenizer, else one made now in the stage's scratch
    /// directory (linking what earlier stores hold), said in the log.
    public static func store(_ context: StageContext, corpus: CorpusReader, tokenizerDirectory: URL) throws -> TokenStore {
        if let store = try upstreamStore(context, tokenizerDirectory: tokenizerDirectory) { return store }
        if let other = UpstreamOutputs(context).inputs(ofKind: descriptor.name).first {
            context.log.warning("the token store of stage \(other.stage) was made with another tokenizer than \(tokenizerDirectory.path); tokenising here")
        }
        let directory = context.scratchDirectory.appendingPathComponent("token-store")
        try build(context, corpus: corpus, tokenizerDirectory: tokenizerDirectory, into: directory)
        return try TokenStore(directory: directory)
    }
}

extension TokenizeStage {
    /// The upstream `tokenize` stage's store when it was made with the tokenizer in `tokenizerDirectory`
    /// (said in the log), else nil.
    public static func upstreamStore(_ context: StageContext, tokenizerDirectory: URL) throws -> TokenStore? {
        let digest = try TokenStoreBuilder.tokenizerDigest(directory: tokenizerDirectory)
        for input in UpstreamOutputs(context).inputs(ofKind: descriptor.name) {
            let store = try TokenStore(directory: input.directory)
            if store.header.tokenizer == digest {
                context.log.info("reading tokens from the token store of stage \(input.stage)")
                return store
            }
        }
        return nil
    }
}

extension TokenStore {
    /// The books (source files) of `documents`, in a seeded order: a hash of the seed and each book's
    /// path, so the order does not depend on the corpus's file order and the first N books of one seed
    /// are always among its first N + 1.
    public func booksInSeededOrder(of documents: [Int], seed: Int) -> [String] {
        var books: [String] = []
        var seen = Set<String>()
        for index in documents where seen.insert(self.documents[index].source).inserted { books.append(self.documents[index].source) }
        return books.map { ($0, Digest.sha256Hex("loom-books:\(seed):\($0)")) }.sorted { $0.1 < $1.1 }.map(\.0)
    }

    /// The documents of the first `count` books of `documents` in the seeded order (all when `count` is 0
    /// or not less than the books there are), in store order.
    public func documents(_ documents: [Int], firstBooks count: Int, seed: Int) -> (documents: [Int], books: Int, of: Int) {
        let order = booksInSeededOrder(of: documents, seed: seed)
        guard count > 0, count < order.count else { return (documents, order.count, order.count) }
        let chosen = Set(order.prefix(count))
        return (documents.filter { chosen.contains(self.documents[$0].source) }, count, order.count)
    }

    /// The prompts — prefix and text ids, without the suffix or EOS a training document ends with — of
    /// the first `count` scenes of `split` in `tiers`, in corpus order.
    public func scenePrompts(split: CorpusSplit, tiers: [String], count: Int) throws -> [[Int]] {
        var prompts: [[Int]] = []
        for index in documents(split: split, tiers: tiers) where prompts.count < count {
            let tokens = try self.tokens(ofDocument: index)
            for record in records(ofDocument: index) where prompts.count < count {
                prompts.append(Array(tokens[record.offset..<(record.offset + record.tokens - header.suffixTokens)]))
            }
        }
        return prompts
    }

    /// Store indices of the documents of `split` in `tiers`, in store (corpus) order.
    public func documents(split: CorpusSplit, tiers: [String]) -> [Int] {
        let wanted = Set(tiers)
        return documents.indices.filter { documents[$0].split == split.rawValue && wanted.contains(documents[$0].tier) }
    }
}
