// PackedDocumentsTests — masked packing: a row holding two documents gives, with their boundary masked,
// exactly the loss of each document scored on its own (attention kept inside each, positions restarting,
// the boundary token not predicted) — for a Llama with its adapter, and for Gemma 3, whose windowed
// layers and local RoPE must respect the restarted positions too; with the fused and the composite
// kernels; and bad boundaries are named.
import Foundation
import LLM
import LoomCore
import TestSupport
import Testing
import Torch

@Suite struct PackedDocumentsTests {
    /// Two documents of `first` and `second` ids drawn from `tokens`' first row.
    static func documents(_ tokens: Tensor, first: Int, second: Int) throws -> (Tensor, Tensor, Tensor) {
        let row = try tokens.narrow(dim: 0, start: 0, length: 1)
        let a = try row.narrow(dim: 1, start: 0, length: first)
        let b = try row.narrow(dim: 1, start: first, length: second)
        return (a, b, try Tensor.cat([a, b], dim: 1))
    }

    func expectMaskedLossIsTheSeparateLosses(_ model: any CausalLanguageModel, tokens: Tensor, first: Int) throws {
        let second = tokens.shape[1] - first
        let (a, b, packed) = try Self.documents(tokens, first: first, second: second)
        try withNoGrad {
            let lossA = try model.loss(tokens: a, labels: a).scalar(Double.self)
            let lossB = try model.loss(tokens: b, labels: b).scalar(Double.self)
            let expected = (lossA * Double(first - 1) + lossB * Double(second - 1)) / Double(first + second - 2)
            for kernels in [ModelKernels.fused, .composite] {
                var model = model
                model.kernels = kernels
                let masked = try model.loss(tokens: packed, documentStarts: [[first]]).scalar(Double.self)
                #expect(abs(masked - expected) < 1e-5, "\(kernels == .fused ? "fused" : "composite"): \(masked) vs \(expected)")
                // Without the boundary the row is one document: the plain loss.
                let plain = try model.loss(tokens: packed, documentStarts: [[]]).scalar(Double.self)
                #expect(abs(plain - (try model.loss(tokens: packed, labels: packed).scalar(Double.self))) < 1e-6)
            }
        }
    }

    @Test func aLlamaWithItsAdapterScoresEachPackedDocumentAsIfAlone() throws {
        let directory = TestPaths.fixture("tiny-llama-a")
        let model = try loadCausalLM(from: directory, adapter: directory.appendingPathComponent("adapter"))
        try expectMaskedLossIsTheSeparateLosses(model, tokens: try fixtureInputIds(directory), first: 7)
    }

    @Test func gemma3sWindowsAndLocalRotationFollowTheRestartedPositions() throws {
        // Window 6, local and global bases, q/k norms: the second document (10 tokens) runs past the window.
        let directory = TestPaths.fixture("tiny-gemma3")
        try expectMaskedLossIsTheSeparateLosses(try loadCausalLM(from: directory), tokens: try fixtureInputIds(directory), first: 7)
    }

    @Test func badBoundariesAreNamed() throws {
        let directory = TestPaths.fixture("tiny-llama-a")
        let model = try loadCausalLM(from: directory)
        let tokens = try fixtureInputIds(directory)
        #expect(errorMessage { _ = try model.loss(tokens: tokens, documentStarts: [[3]]) } == "documentStarts has 1 rows, the tokens 2")
        #expect(errorMessage { _ = try model.loss(tokens: tokens, documentStarts: [[5, 3], []]) }
            == "document starts of row 0 must be increasing positions in 1..<17, got [5, 3]")
        #expect(errorMessage { _ = try model.loss(tokens: tokens, documentStarts: [[], [17]]) }
            == "document starts of row 1 must be increasing positions in 1..<17, got [17]")
    }
}
