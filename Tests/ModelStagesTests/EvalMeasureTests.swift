// EvalMeasureTests — the pieces of `eval` on their own: scoring windows predict every token exactly
// once, bits per byte from the summed loss, and KL(base‖tuned) / top-1 agreement against a direct
// computation over the logits (a tuned model with extra vocabulary rows compared on the base's).
import Foundation
@testable import LLM
@testable import ModelStages
import Testing
import TestSupport
import Torch

@Test func scoringWindowsOverlapByOneSoEveryTokenIsPredictedOnce() {
    let ids = Array(100..<117)
    let windows = TokenizedText.scoringWindows(ids, length: 5)
    #expect(windows.allSatisfy { $0.count <= 5 && $0.count >= 2 })
    #expect(windows.reduce(0) { $0 + $1.count - 1 } == ids.count - 1)
    for (left, right) in zip(windows, windows.dropFirst()) { #expect(left.last == right.first) }
    #expect(Array(windows.map { $0.dropFirst() }.joined()) == Array(ids.dropFirst()))
    #expect(TokenizedText.scoringWindows([7], length: 5).isEmpty)
    #expect(TokenizedText.scoringWindows([7, 8], length: 5) == [[7, 8]])
}

@Test func bitsPerByteIsTheSummedLossInBitsOverTheBytes() {
    let score = HeldOutScore(meanLoss: 2.0, tokens: 300, bytes: 1200)
    #expect(abs(score.bitsPerByte - 2.0 * 300 / log(2) / 1200) < 1e-12)
    #expect(abs(score.perplexity - exp(2.0)) < 1e-12)
}

@Test func divergenceMatchesADirectComputationOverTheBaseVocabulary() throws {
    let config = LlamaConfig(hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, vocabSize: 40)
    let base = try LlamaModel.random(config: config, seed: 1)
    #expect(try ProbeDivergence.measure(base: base, tuned: base, windows: [[1, 5, 9, 3]])?.klDivergence == 0)

    let tuned = try LlamaModel.random(config: config, seed: 1)
    try tuned.extendVocabulary(decompositions: [[5, 9], [3, 4, 7]], method: .random(seed: 3))
    try tuned.applyLoRA(LoRAConfiguration(rank: 2, alpha: 4, targets: LoRATarget.allCases), seed: 2)
    for parameter in tuned.trainableParameters where parameter.name.contains("lora_B") {
        try withNoGrad { try parameter.tensor.normalInPlace(mean: 0, std: 0.5, generator: Generator(seed: 4)) }
    }
    let windows = [[1, 5, 9, 3, 12], [2, 39, 8]]
    let result = try #require(try ProbeDivergence.measure(base: base, tuned: tuned, windows: windows))

    var divergence = 0.0, agreements = 0.0, positions = 0
    for window in windows {
        let tokens = try Tensor(window.map { Int64($0) }, shape: [1, window.count])
        let p = try withNoGrad { try base.logits(tokens: tokens).to(.float64).toArray(Double.self) }
        let q = try withNoGrad { try tuned.logits(tokens: tokens).to(.float64).toArray(Double.self) }
        for position in 0..<window.count {
            let baseRow = Array(p[(position * 40)..<((position + 1) * 40)])
            let tunedRow = Array(q[(position * 42)..<(position * 42 + 40)])  // new-token logits dropped
            func logSoftmax(_ row: [Double]) -> [Double] {
                let top = row.max()!
                let total = log(row.reduce(0) { $0 + exp($1 - top) }) + top
                return row.map { $0 - total }
            }
            let (lp, lq) = (logSoftmax(baseRow), logSoftmax(tunedRow))
            divergence += zip(lp, lq).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
            agreements += lp.firstIndex(of: lp.max()!) == lq.firstIndex(of: lq.max()!) ? 1 : 0
            positions += 1
        }
    }
    #expect(result.positions == positions && result.windows == 2)
    #expect(abs(result.klDivergence - divergence / Double(positions)) < 1e-5)
    #expect(result.klDivergence > 0)
    #expect(result.topOneAgreement == agreements / Double(positions))
}
