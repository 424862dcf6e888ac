// TokenizedText — corpus scenes as the model kinds feed them to a model: each scene is one document,
// the tokenizer's prefix (its BOS where it adds one, as Hugging Face's tokenizer does), its tokens, and
// the tokenizer's suffix or else EOS (so documents are always separated), packed into training sequences;
// or prefix + tokens cut into scoring windows.
import Corpus
import Foundation
import LLM
import Pipeline
import Stages
import Tokenizers

enum TokenizedText {
    /// The scenes of `split` in `tiers` as one packed token stream of `sequenceLength` windows, at most
    /// `maxTokens` of it (0: all). nil when the text holds less than one window.
    static func packed(
        corpus: CorpusReader, split: CorpusSplit, tiers: [String], tokenizer: any Tokenizer, sequenceLength: Int,
        maxTokens: Int = 0, name: String
    ) throws -> PackedTokens? {
        var stream: [Int] = []
        try CorpusSelection.forEachText(of: corpus, split: split, tiers: tiers) { text in
            if maxTokens > 0, stream.count >= maxTokens { return }
            stream += tokenizer.encodeDocument(text)
        }
        if maxTokens > 0, stream.count > maxTokens { stream.removeLast(stream.count - maxTokens) }
        guard stream.count >= sequenceLength else { return nil }
        return try PackedTokens(tokens: stream, sequenceLength: sequenceLength, name: name)
    }

    /// What a training kind trains on: the train split of `tiers` packed into seq_len windows (an error
    /// when it holds less than one), and at most `validationTokens` of the validation split of
    /// `validationTiers` (nil, with a warning in the log, when it holds less than one window).
    static func trainingData(
        corpus: CorpusReader, tiers: [String], validationTiers: [String], tokenizer: any Tokenizer, sequenceLength: Int,
        validationTokens: Int, log: StageLog, metric: String
    ) throws -> (training: PackedTokens, validation: PackedTokens?) {
        let trainName = "the train split of \(tiers.joined(separator: ", "))"
        guard let training = try packed(corpus: corpus, split: .train, tiers: tiers, tokenizer: tokenizer, sequenceLength: sequenceLength, name: trainName) else {
            throw UpstreamError("tiers: \(trainName) holds fewer than seq_len = \(sequenceLength) tokens")
        }
        let validationName = "the validation split of \(validationTiers.joined(separator: ", "))"
        let validation = try packed(
            corpus: corpus, split: .validation, tiers: validationTiers, tokenizer: tokenizer, sequenceLength: sequenceLength,
            maxTokens: validationTokens, name: validationName)
        if validation == nil { log.warning("\(validationName) holds less than one window of \(sequenceLength) tokens: no \(metric)") }
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
