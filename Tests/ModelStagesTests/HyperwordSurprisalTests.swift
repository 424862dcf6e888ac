// HyperwordSurprisalTests — the `hyperwords` kind's `surprisal` ranking on the model side: per-token
// surprisal against transformers' logits (tiny-llama-a) and against the model's own loss, windows that
// predict every token once, batching that changes nothing; and the kind run for real after a base
// pretrained here — every hyperword decodes to its text, measures.json's mean surprisal equals the
// model's loss on the training text, and the error naming `ranking` when no base is upstream.
import Corpus
import Foundation
@testable import LLM
@testable import ModelStages
import Pipeline
import Stages
import StageTestSupport
import Testing
import TestSupport
import Tokenizers
import Torch

@Suite struct HyperwordSurprisalTests {
    @Test func surprisalIsTransformersNegativeLogSoftmaxOfTheNextId() throws {
        let directory = TestPaths.fixture("tiny-llama-a")
        let model = try loadCausalLM(from: directory)
        let rows = try JSONDecoder().decode([[Int]].self, from: Data(contentsOf: directory.appendingPathComponent("input_ids.json")))
        let surprisal = try TokenSurprisal.compute(model: model, sequences: rows, windowLength: 64, batchSize: 2)
        // transformers' logits (B, T, V), float32 eager attention: −log_softmax at the next id.
        let logits = try SafeTensorsFile(url: directory.appendingPathComponent("logits.safetensors")).tensor("logits")
        let reference = try logits.logSoftmax(dim: -1).toArray(Float.self)
        let vocabulary = logits.shape[2], length = logits.shape[1]
        for (row, ids) in rows.enumerated() {
            #expect(surprisal[row][0].isNaN)
            for position in 1..<ids.count {
                let expected = -reference[(row * length + position - 1) * vocabulary + ids[position]]
                // Our forward and transformers' differ in summation order only (logits within ~1e-5).
                #expect(abs(surprisal[row][position] - expected) < 1e-4, "row \(row) position \(position): \(surprisal[row][position]) vs \(expected)")
            }
        }
    }

    @Test func windowsPredictEveryIdOnceAndBatchingChangesNothing() throws {
        #expect(TokenSurprisal.windows(lengths: [1, 2, 7], length: 3) == [
            .init(sequence: 1, start: 0, count: 2), .init(sequence: 2, start: 0, count: 3), .init(sequence: 2, start: 2, count: 3),
            .init(sequence: 2, start: 4, count: 3),
        ])
        let model = try loadCausalLM(from: TestPaths.fixture("tiny-llama-a"))
        let sequences = [23, 5, 1, 40, 12, 0, 31].map { length in (0..<length).map { ($0 * 37 + length * 11) % 512 } }
        let together = try TokenSurprisal.compute(model: model, sequences: sequences, windowLength: 16, batchSize: 3)
        let alone = try sequences.map { try TokenSurprisal.compute(model: model, sequences: [$0], windowLength: 16, batchSize: 1)[0] }
        for (a, b) in zip(together, alone) {
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) {
                // Right padding leaves the real positions' values; a batched matmul may round differently.
                #expect(x.isNaN == y.isNaN && (x.isNaN || abs(x - y) < 1e-5))
            }
        }
        // The model's own loss over each window is the mean of the window's surprisals.
        for (sequence, values) in zip(sequences, together) where sequence.count >= 2 {
            let windows = TokenSurprisal.windows(lengths: [sequence.count], length: 16)
            let loss = try model.score(sequences: windows.map { Array(sequence[$0.start..<$0.start + $0.count]) }, batchSize: 8)
            let mean = values.dropFirst().reduce(0.0) { $0 + Double($1) } / Double(sequence.count - 1)
            #expect(abs(mean - loss.meanLoss) < 1e-5 * max(1, loss.meanLoss), "\(mean) vs \(loss.meanLoss)")
        }
    }

    /// corpus → tokenizer (→ base) → hyperwords with `ranking`, after the stages `after` names.
    static func recipe(ranking: String, after: String, withBase: Bool = true) -> String {
        let tokenizer = "  tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}\n"
        let base = """
              base:
                kind: pretrain-base
                after: [corpus, tokenizer]
                params:
                  model: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64}
                  seq_len: 32
                  steps: 12
                  batch_size: 4
                  lr: 1.0e-2
                  warmup_steps: 2
                  eval_every: 12
                  checkpoint_every: 12

            """
        return "stages:\n" + StagesProject.corpusStage() + tokenizer + (withBase ? base : "") + """
              hyperwords:
                kind: hyperwords
                after: [\(after)]
                params: {count: 30, min_count: 3, ranking: \(ranking), score_seq_len: 48, score_batch_size: 4, heldout_tier: core}

            """
    }

    @Test func theKindRanksBySurprisalAfterAPretrainedBase() throws {
        let project = try StagesProject(registry: ModelStageCatalog.registry())
        try project.addFortuneTiers()
        try project.write("recipes/meaning.yaml", Self.recipe(ranking: "surprisal", after: "corpus, tokenizer, base"))
        let meaning = try project.run("recipes/meaning.yaml")
        #expect(meaning.status == .succeeded, "\(project.error(meaning.id, "hyperwords") ?? "")")

        let output = try project.outputDirectory(meaning.id, "hyperwords")
        let extended = try ExtendedTokenizer(contentsOf: output)
        let base = try TokenizerLoader.loadHF(try project.outputDirectory(meaning.id, "tokenizer"))
        #expect(extended.training?.options.ranking == .surprisal)
        #expect(!extended.newTokens.isEmpty && extended.newTokens.allSatisfy { $0.count >= 3 })
        // After a word, so that no decoder strips a leading space.
        let word = base.encode("да")
        for token in extended.newTokens {
            #expect(extended.decode(word + [token.id]) == "да" + token.text)
            #expect(base.decode(word + token.decomposition) == "да" + token.text)
        }
        let corpus = try CorpusReader(directory: try project.outputDirectory(meaning.id, "corpus"))
        for text in try CorpusSelection.texts(of: corpus, split: .validation, tiers: ["core"]) {
            #expect(extended.decode(extended.encode(text)) == base.decode(base.encode(text)))
            #expect(extended.expandToBase(extended.encode(text)) == base.encode(text))
        }

        // The mean surprisal the stage ranked with is the model's own loss on the same windows.
        let model = try loadCausalLM(from: try project.outputDirectory(meaning.id, "base"))
        let texts = try CorpusSelection.texts(of: corpus, split: .train, tiers: corpus.tierNames)
        let windows = TokenizedText.scoringWindows(scenes: texts, tokenizer: base, length: 48)
        let loss = try model.score(sequences: windows, batchSize: 8)
        let measures = try JSONValue.parse(try #require(try project.output(meaning.id, "hyperwords", "measures.json")))
        let mean = try #require(measures.value(atKeyPath: "surprisal.mean_nats")?.doubleValue)
        // Same model, same windows; the sums run in another order (float32 per token, double here).
        #expect(abs(mean - loss.meanLoss) < 1e-4 * loss.meanLoss, "\(mean) vs \(loss.meanLoss)")
        #expect(measures.value(atKeyPath: "surprisal.scored_tokens")?.intValue == loss.tokens)
        let metrics = try project.metrics(meaning.id, "hyperwords")
        #expect(metrics["hyperwords/train_surprisal"] == mean)
        #expect(metrics["hyperwords/new_tokens"] == Double(extended.newTokens.count))

        // The same stage ranked by tokens saved learns another list (corpus, tokenizer, base cached).
        try project.write("recipes/frequency.yaml", Self.recipe(ranking: "tokens", after: "corpus, tokenizer, base"))
        let frequency = try project.run("recipes/frequency.yaml")
        #expect(frequency.status == .succeeded, "\(project.error(frequency.id, "hyperwords") ?? "")")
        let byFrequency = try ExtendedTokenizer(contentsOf: try project.outputDirectory(frequency.id, "hyperwords"))
        #expect(byFrequency.newTokens.map(\.text) != extended.newTokens.map(\.text))
        #expect(try project.output(frequency.id, "hyperwords", "measures.json")?.contains("\"surprisal\"") == false)
    }

    @Test func rankingBySurprisalWithoutABaseNamesTheKey() throws {
        let project = try StagesProject(registry: ModelStageCatalog.registry())
        try project.addFortuneTiers()
        try project.write("recipes/r.yaml", Self.recipe(ranking: "surprisal", after: "corpus, tokenizer", withBase: false))
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .failed)
        #expect(project.error(result.id, "hyperwords") == """
            ranking: surprisal ranks merges with the base model, but stage hyperwords has no `pretrain-base` stage in its `after:` list \
            (its inputs: corpus (corpus), tokenizer (base-tokenizer)): add the base, or rank by tokens or bytes
            """)
    }
}
