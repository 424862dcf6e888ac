// CorpusAndTokenizer — a real corpus (the fortune tiers) and a trained tokenizer, made by running the
// `corpus` and `base-tokenizer` kinds in a scratch project: what the token-store tests build stores from.
import Corpus
import Foundation
import LoomCore
import Stages
import Testing
import Tokenizers

public struct CorpusAndTokenizer {
    /// Kept for the value's life: its scratch directory holds the corpus and anything built from it.
    public let project: StagesProject
    public let corpus: CorpusReader
    public let tokenizerDirectory: URL
    public let tokenizer: any Tokenizer

    public init(vocabularySize: Int = 400) throws {
        project = try StagesProject()
        try project.addFortuneTiers()
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: \(vocabularySize)}}
            """)
        let result = try project.run("recipes/r.yaml")
        try #require(result.status == .succeeded, "\(project.error(result.id, "tokenizer") ?? "")")
        corpus = try CorpusReader(directory: try project.outputDirectory(result.id, "corpus"))
        tokenizerDirectory = try project.outputDirectory(result.id, "tokenizer")
        tokenizer = try TokenizerLoader.loadHF(tokenizerDirectory)
    }

    /// A token store of the corpus under the tokenizer, built into `name` under the project.
    public func buildStore(
        _ name: String, threads: Int, reuse: [String: TokenStore.ReusableDocument] = [:], batchBytes: Int = 4096
    ) throws -> (URL, TokenStoreBuilder.Summary) {
        let directory = project.root.appendingPathComponent("stores/\(name)")
        let summary = try TokenStoreBuilder.build(
            corpus: corpus, tokenizer: tokenizer, tokenizerDigest: try TokenStoreBuilder.tokenizerDigest(directory: tokenizerDirectory),
            into: directory, reuse: reuse, threads: threads, batchBytes: batchBytes)
        return (directory, summary)
    }
}
