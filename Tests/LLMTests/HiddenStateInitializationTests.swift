// HiddenStateInitializationTests — `init: hidden` (new-token embedding rows from the base model's hidden
// state over the pieces, mapped back to the embedding space by a ridge regression) against the same
// computation in transformers and NumPy (Tests/Fixtures/hidden-init, made by scripts/make-init-fixture.py);
// against the model's own forward where the answer is known (layer 0: the map is the identity, the row the
// last piece's); the same rows whatever the batching; and the errors for bad settings and decompositions.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct HiddenStateInitializationTests {
    private let fixture = TestPaths.fixture("hidden-init")

    private func reference() throws -> (decompositions: [[Int]], cases: [String: [String: Any]]) {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("reference.json"))) as! [String: Any]
        return (json["decompositions"] as! [[Int]], json["cases"] as! [String: [String: Any]])
    }

    @Test func rowsMatchTransformersAndNumPy() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let head = try #require(model.lmHead)
        let (decompositions, cases) = try reference()
        #expect(cases.keys.sorted() == ["last", "middle"])
        for (name, settings) in cases {
            let initialisation = HiddenStateInitialization(
                layer: settings["layer"] as! Int, fitTokens: settings["fit_tokens"] as! Int, ridge: settings["ridge"] as! Double,
                prefix: settings["prefix"] as! [Int], batchSize: 3)
            var reported: [(Int, Int)] = []
            let rows = try model.newTokenRows(decompositions: decompositions, method: .hidden(initialisation)) { reported.append(($0, $1)) }
            let expected = try SafeTensorsFile(url: fixture.appendingPathComponent("expected.safetensors")).tensor("\(name).embedding")
            // transformers' f32 forward against ours (other kernels, batched and right-padded) differs in the last
            // bits of the hidden states, which the ridge solve (λ ≥ 1 % of the mean eigenvalue) may amplify by its
            // condition number; measured 3.6e-7 on rows of norm ~1.
            let difference = try maxAbsDifference(rows.embedding, expected)
            #expect(difference < 1e-5, "\(name): \(difference)")
            for (index, pieces) in decompositions.enumerated() {
                let mean = try head.indexSelect(dim: 0, index: Tensor(pieces.map(Int64.init))).mean(dims: [0])
                #expect(try rows.head!.select(dim: 0, index: index).equal(mean), "\(name): the mean of the pieces' head rows")
            }
            let total = (settings["fit_tokens"] as! Int == 0 ? 512 : settings["fit_tokens"] as! Int) + decompositions.count
            #expect(reported.last.map { [$0.0, $0.1] } == [total, total], "\(name): \(reported.suffix(2))")
        }
    }

    @Test func atLayerZeroTheRowIsTheLastPiecesAndBatchingChangesNothing() throws {
        // Hidden state 0 is the embedding itself: with every base token fitted and almost no ridge the map is
        // the identity, so each row is its last piece's row rescaled to its pieces' mean norm.
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let decompositions = [[10, 20, 30], [7, 300], [44]]
        let settings = HiddenStateInitialization(layer: 0, fitTokens: 0, ridge: 1e-9, prefix: [1], batchSize: 2)
        let rows = try model.newTokenRows(decompositions: decompositions, method: .hidden(settings)).embedding
        for (index, pieces) in decompositions.enumerated() {
            let last = try model.embedTokens.select(dim: 0, index: pieces.last!).to(.float64)
            let meanNorm = try pieces.map { try model.embedTokens.select(dim: 0, index: $0).to(.float64).norm().scalar(Double.self) }
                .reduce(0, +) / Double(pieces.count)
            let expected = try last * (meanNorm / last.norm().scalar(Double.self))
            #expect(try maxAbsDifference(rows.select(dim: 0, index: index).to(.float64), expected) < 1e-5)
        }
        var unbatched = settings
        unbatched.batchSize = 1
        unbatched.layer = 1
        var batched = settings
        batched.batchSize = 64
        batched.layer = 1
        // One sequence per pass against all in one right-padded pass: the same rows to float32 rounding.
        #expect(try maxAbsDifference(
            model.newTokenRows(decompositions: decompositions, method: .hidden(unbatched)).embedding,
            model.newTokenRows(decompositions: decompositions, method: .hidden(batched)).embedding) < 1e-5)
    }

    @Test func tiedHeadsGetTheEmbeddingRowAlone() throws {
        let tied = try TinyConfigs.model(TinyConfigs.qwen2)
        let rows = try tied.newTokenRows(decompositions: [[4, 5], [9]], method: .hidden(HiddenStateInitialization(fitTokens: 50)))
        #expect(rows.head == nil && rows.embedding.shape == [2, 32])
        try tied.extendVocabulary(decompositions: [[4, 5]], method: .hidden(HiddenStateInitialization(layer: 1)))
        #expect(tied.config.vocabSize == 97)
    }

    @Test func badSettingsAndDecompositionsAreRefused() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        func message(_ settings: HiddenStateInitialization, _ decompositions: [[Int]] = [[1, 2]]) -> String? {
            errorMessage { _ = try model.newTokenRows(decompositions: decompositions, method: .hidden(settings)) }
        }
        #expect(message(HiddenStateInitialization(layer: 3)) == "layer 3 is outside the model's hidden states (0…2, or −1…−3 from the end)")
        #expect(message(HiddenStateInitialization(layer: -4)) == "layer -4 is outside the model's hidden states (0…2, or −1…−3 from the end)")
        #expect(message(HiddenStateInitialization(fitTokens: 1)) == "the map needs at least 2 base tokens to fit, got 1")
        #expect(message(HiddenStateInitialization(ridge: 0)) == "ridge must be positive, got 0.0")
        #expect(message(HiddenStateInitialization(prefix: [512])) == "prefix id 512 is outside the vocabulary (0..<512)")
        #expect(message(HiddenStateInitialization(), [[3], []]) == "new token 1 has an empty decomposition")
        #expect(message(HiddenStateInitialization(), [[3, 900]]) == "new token 0: piece id 900 is outside the vocabulary (0..<512)")
    }
}
