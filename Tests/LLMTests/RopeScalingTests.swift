// RopeScalingTests — the rope_scaling types Loom reads (linear, llama3, yarn) against transformers 5.23 on
// Tests/Fixtures/rope-scaling (made by scripts/make-fixtures.py): the inverse frequencies and YaRN's
// attention factor, and the logits and loss of a tiny Llama over a sequence three times its original
// context. Tolerances: frequencies within 1 ulp-ish (1e-6 relative: the same f32 steps, but libm's pow
// and log may round differently from ATen's); logits within 1e-4, the loss within 1e-5, as the
// tiny-llama-a parity tests allow for a different summation order.
import Foundation
@testable import LLM
import TestSupport
import Testing
import Torch

@Suite struct RopeScalingTests {
    static let directory = TestPaths.fixture("rope-scaling")
    static let types = ["linear", "llama3", "yarn"]

    static func reference() throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("reference.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func inputIds() throws -> Tensor { try fixtureInputIds(directory) }

    @Test(arguments: types) func frequenciesAndAttentionFactorMatchTransformers(type: String) throws {
        let config = try ModelConfig.load(from: Self.directory.appendingPathComponent(type))
        let scaling = try #require(config.ropeScaling)
        #expect(scaling.ropeType == type)
        let reference = try Self.reference()
        let expected = try #require((reference["inv_freq"] as? [String: [Double]])?[type])
        let exponents = try Tensor.arange(0, config.headDim, step: 2, dtype: .int64).to(.float32) / Double(config.headDim)
        let powers = try Tensor.pow(config.ropeTheta, exponents).toArray(Float.self)
        let frequencies = scaling.inverseFrequencies(powers: powers, headDim: config.headDim, theta: config.ropeTheta)
        #expect(frequencies.count == expected.count)
        for (loom, hf) in zip(frequencies, expected) {
            #expect(abs(Double(loom) - hf) <= 1e-6 * hf, "inv_freq \(loom) vs transformers \(hf)")
        }
        let attention = try #require((reference["attention_scaling"] as? [String: Double])?[type])
        #expect(abs(scaling.attentionScaling - attention) < 1e-12)
    }

    @Test(arguments: types) func logitsAndLossMatchTransformers(type: String) throws {
        let directory = Self.directory.appendingPathComponent(type)
        let model = try DecoderModel.load(from: directory)
        let tokens = try Self.inputIds()
        try withNoGrad {
            let logits = try model.logits(tokens: tokens)
            let expected = try SafeTensorsFile(url: directory.appendingPathComponent("logits.safetensors")).tensor("logits")
            #expect(try maxAbsDifference(logits, expected) < 1e-4)
            let loss = try model.loss(tokens: tokens).scalar(Double.self)
            let expectedLoss = try #require((try Self.reference()["losses"] as? [String: Double])?[type])
            #expect(abs(loss - expectedLoss) < 1e-5, "loss \(loss) vs transformers \(expectedLoss)")
        }
    }

    @Test func theFixtureSequenceDependsOnTheScaling() throws {
        // Without its scaling the same weights give other logits: the fixture would catch a scaling ignored.
        var config = try ModelConfig.load(from: Self.directory.appendingPathComponent("llama3"))
        config.ropeScaling = nil
        let scratch = try ScratchDirectory("loom-rope")
        try JSONEncoder().encode(config).write(to: scratch.url.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: Self.directory.appendingPathComponent("model.safetensors"),
                                         to: scratch.url.appendingPathComponent("model.safetensors"))
        let unscaled = try DecoderModel.load(from: scratch.url)
        let expected = try SafeTensorsFile(url: Self.directory.appendingPathComponent("llama3/logits.safetensors")).tensor("logits")
        let logits = try withNoGrad { try unscaled.logits(tokens: try Self.inputIds()) }
        #expect(try maxAbsDifference(logits, expected) > 0.05)
    }

    @Test func aSavedConfigKeepsItsScaling() throws {
        let config = try ModelConfig.load(from: Self.directory.appendingPathComponent("yarn"))
        let again = try ModelConfig.decode(try JSONEncoder().encode(config), file: "config.json")
        #expect(again == config)
        #expect(again.ropeScaling == .yarn(factor: 4, originalMaxPositions: 16, betaFast: 32, betaSlow: 1, attentionFactor: nil,
                                           mscale: nil, mscaleAllDim: nil, truncate: true))
    }
}
