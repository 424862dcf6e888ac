// TokenizedText — corpus scenes as the model kinds feed them to a model: each scene is one document,
// the tokenizer's prefix (its BOS where it adds one, as Hugging Face's tokenizer does), its tokens, and
// the tokenizer's suffix or else EOS (so documents are always separated), packed into training sequences;
// or prefix + tokens cut into scoring windows.
import Corpus
import Foundation
import LLM
import LoomCore
import Pipeline
import Stages
import Tokenizers

enum TokenizedText {
    /// What a training kind trains on, read from the token store of `tokenizerDirectory`'s tokenizer (the
    /// upstream `tokenize` stage's, or one made now, see TokenizeStage.store): windows of the train split
    /// of `tiers` (an error when it holds less than one), and of at most `validationTokens` of the
    /// validation split of `validationTiers` (nil, with a warning in the log, when it holds less than one
    /// window).
    /// `books` > 0 trains on that many books of the tiers, in the seeded order `booksSeed` gives (nested:
    /// fewer books are a subset of more).
    static func trainingData(
        _ context: StageContext, corpus: CorpusReader, tokenizerDirectory: URL, tiers: [String], validationTiers: [String],
        sequenceLength: Int, validationTokens: Int, metric: String, books: Int = 0, booksSeed: Int = 0
    ) throws -> (training: TokenWindows, validation: TokenWindows?) {
        let store = try TokenizeStage.store(context, corpus: corpus, tokenizerDirectory: tokenizerDirectory)
        var trainName = "the train split of \(tiers.joined(separator: ", "))"
        let selection = store.documents(store.documents(split: .train, tiers: tiers), firstBooks: books, seed: booksSeed)
        let trainDocuments = selection.documents
        if books > 0 {
            trainName = "\(selection.books) of the \(selection.of) books of " + trainName
            context.log.info("training on \(trainName) (books_seed \(booksSeed))")
            if books > selection.of { context.log.warning("books: \(books) asked, the tiers hold \(selection.of): training on all of them") }
        }
        // The number of books trained on: the saturation curve's x.
        let prefix = metric.split(separator: "/").first.map(String.init) ?? "train"
        context.metrics.log("\(prefix)/books", Double(selection.books), step: 0)
        let training: TokenWindows
        do {
            training = try TokenWindows(store: store, documents: trainDocuments, sequenceLength: sequenceLength, name: trainName)
        } catch PackedTokens.PackingError.tooFewTokens {
            throw UpstreamError("tiers: \(trainName) holds fewer than seq_len = \(sequenceLength) tokens")
        }
        let validationName = "the validation split of \(validationTiers.joined(separator: ", "))"
        let validation = try? TokenWindows(
            store: store, documents: store.documents(split: .validation, tiers: validationTiers), sequenceLength: sequenceLength,
            maxTokens: validationTokens, name: validationName)
        if validation == nil { context.log.warning("\(validationName) holds less than one window of \(sequenceLength) tokens: no \(metric)") }
        return (training, validation)
    }

    /// Every scene as the tokenizer's prefix + its tokens, cut into scoring windows, in scene order.
    static func scoringWindows(scenes: [String], tokenizer: any Tokenizer, length: Int) -> [[Int]] {
        scenes.flatMap { scoringWindows(tokenizer.encodePrompt($0), length: length) }
    }

    /// Cuts one document into windows of at most `length` ids that overlap by one id, so that every id
    /// after the first is predicted exactly once when each window is scored on its own.
    static func scoringWindows(_ ids: [Int], length: Int) -> [[Int]] {
        guard ids.count >= 2 else { return [] }
        var windows: [[Int]] = []
        var start = 0
        while start < ids.count - 1 {
            let end = min(start + length, ids.count)
            windows.append(Array(ids[start..<end]))
            start = end - 1
        }
        return windows
    }
}
