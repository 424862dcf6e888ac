// ProbeDivergence — how far tuning moved the model's next-token distributions: on probe windows of
// held-out text in the BASE tokenization (valid input for the tuned model too, whose vocabulary
// extends the base's), KL(base ‖ tuned) per position in nats and the share of positions whose most
// likely next token is the same. The tuned model's distribution is taken over the base vocabulary
// (its logits for new tokens dropped, the rest renormalised), so both are over the same outcomes.
import Foundation
import LLM
import LoomCore
import Torch

enum ProbeDivergence {
    struct Result: Codable, Equatable {
        var klDivergence: Double
        var topOneAgreement: Double
        var windows: Int
        var positions: Int

        enum CodingKeys: String, CodingKey {
            case klDivergence = "kl_base_tuned"
            case topOneAgreement = "top1_agreement"
            case windows, positions
        }
    }

    /// `count` of the scenes' scoring windows in the base tokenization (`all`, in scene order), chosen
    /// by a seeded hash of their position, so the probe does not depend on anything but the text.
    static func windows(from all: [[Int]], count: Int, seed: Int) -> [[Int]] {
        guard count > 0 else { return [] }
        let ranked = all.indices.sorted { rank($0, seed) < rank($1, seed) }
        return ranked.prefix(count).map { all[$0] }
    }

    private static func rank(_ index: Int, _ seed: Int) -> String { Digest.sha256Hex("loom-probe:\(seed):\(index)") }

    /// nil without windows.
    static func measure(base: any CausalLanguageModel, tuned: any CausalLanguageModel, windows: [[Int]]) throws -> Result? {
        guard !windows.isEmpty else { return nil }
        let vocabulary = base.config.vocabSize
        guard tuned.config.vocabSize >= vocabulary else {
            throw ModelError("the tuned model's vocabulary (\(tuned.config.vocabSize)) is smaller than the base's (\(vocabulary))")
        }
        var divergence = 0.0
        var agreements = 0.0
        var positions = 0
        try withNoGrad {
            for window in windows {
                let tokens = try Tensor(window.map { Int64($0) }, shape: [1, window.count])
                let baseLog = try base.logits(tokens: tokens).logSoftmax(dim: -1)
                let tunedLog = try tuned.logits(tokens: tokens).narrow(dim: 2, start: 0, length: vocabulary).logSoftmax(dim: -1)
                divergence += try (baseLog.exp() * (baseLog - tunedLog)).sum().scalar(Double.self)
                agreements += try baseLog.argmax(dim: -1).eq(tunedLog.argmax(dim: -1)).to(.float32).sum().scalar(Double.self)
                positions += window.count
            }
        }
        return Result(
            klDivergence: divergence / Double(positions), topOneAgreement: agreements / Double(positions), windows: windows.count,
            positions: positions)
    }
}
