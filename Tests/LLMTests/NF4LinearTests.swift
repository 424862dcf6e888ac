// NF4LinearTests — QLoRA storage: resident bytes per parameter, the quantisation error within each
// block's NF4 step, what double quantisation of the absmax costs, forward and backward equal to a
// dense layer over the dequantised weight, bf16 compute, bitsandbytes' 8-bit dynamic code, and the
// errors for weights it cannot take.
import Foundation
@testable import LLM
import Testing
import TestSupport
import Torch

private func randomWeight(_ rows: Int, _ columns: Int, seed: UInt64 = 11) throws -> Tensor {
    try Tensor.randn([rows, columns], generator: Generator(seed: seed)) * 0.02
}

@Test func residentBytesAreAboutHalfAByteAParameter() throws {
    let layer = try NF4Linear(weight: randomWeight(1376, 512))
    let n = 1376 * 512
    let absmaxCount = n / 64  // 11008, in 43 blocks of 256
    #expect(layer.residentBytes == n / 2 + absmaxCount + (absmaxCount + 255) / 256 * 4 + 4)
    let perParameter = Double(layer.residentBytes) / Double(layer.parameterCount)
    #expect(perParameter > 0.515 && perParameter < 0.52, "\(perParameter) bytes per parameter")
    #expect(layer.inFeatures == 512 && layer.outFeatures == 1376)
    let withBias = try NF4Linear(weight: randomWeight(1376, 512), bias: Tensor.zeros([1376]))
    #expect(withBias.residentBytes == layer.residentBytes + 1376 * 4)
}

@Test func quantisationErrorStaysWithinEachBlocksNF4Step() throws {
    let weight = try randomWeight(256, 384)
    let layer = try NF4Linear(weight: weight)
    let dense = try weight.toArray(Float.self)
    let restored = try layer.denseWeight(dtype: .float32).toArray(Float.self)
    let absmax = try layer.blockAbsmax().toArray(Float.self)
    let levels = Quantization4Bit.nf4Levels
    let halfStep = zip(levels, levels.dropFirst()).map { ($1 - $0) / 2 }.max()!
    for block in 0..<(dense.count / 64) {
        let range = (block * 64)..<((block + 1) * 64)
        let trueAbsmax = range.map { abs(dense[$0]) }.max()!
        let absmaxError = abs(absmax[block] - trueAbsmax)
        let worst = range.map { abs(dense[$0] - restored[$0]) }.max()!
        #expect(worst <= halfStep * trueAbsmax + absmaxError + 1e-7, "block \(block): error \(worst), absmax \(trueAbsmax)")
        #expect(absmaxError <= 0.01 * trueAbsmax, "block \(block): absmax \(trueAbsmax) came back as \(absmax[block])")
    }
}

@Test func doubleQuantisedAbsmaxIsWithinHalfACodeStepOfTheBlockScale() throws {
    // 600 absmax values: two full 256-blocks and a partial one.
    let absmax = (0..<600).map { (index: Int) -> Float in
        let wave = 0.02 * sin(Double(index) * 0.7)
        return Float(0.03 + wave + 0.001 * Double(index % 7))
    }
    let quantised = try DoubleQuantizedAbsmax(absmax: absmax)
    let restored = try quantised.dequantize(code: Tensor(DynamicCode8Bit.values)).toArray(Float.self)
    let scales = try quantised.scales.toArray(Float.self)
    #expect(restored.count == 600 && scales.count == 3 && quantised.codes.count == 600)
    let code = DynamicCode8Bit.values
    let largestHalfStep = zip(code, code.dropFirst()).map { ($1 - $0) / 2 }.max()!  // 0.9/64/2 near ±1
    for (index, value) in absmax.enumerated() {
        #expect(abs(restored[index] - value) <= largestHalfStep * scales[index / 256] + 1e-7, "absmax \(index)")
    }
}

@Test func doubleQuantisationAddsLittleError() throws {
    let weight = try randomWeight(512, 512, seed: 5)
    let layer = try NF4Linear(weight: weight)
    let codebook = try Tensor(Quantization4Bit.nf4Levels)
    let (packed, exactAbsmax) = try Quantization4Bit.quantize(weight, codebook: codebook)
    let singlyQuantised = try Quantization4Bit.dequantize(packed: packed, absmax: exactAbsmax, codebook: codebook, shape: [512, 512])
    func rmsError(_ restored: Tensor) throws -> Double {
        try (restored - weight).square().mean().sqrt().scalar(Double.self)
    }
    let single = try rmsError(singlyQuantised)
    let double = try rmsError(layer.denseWeight(dtype: .float32))
    #expect(double <= single * 1.01, "rms error \(single) with f32 absmax, \(double) double-quantised")
    #expect(single < 0.1 * 0.02, "NF4's rms error \(single) for weights of std 0.02")
}

@Test func forwardAndBackwardMatchADenseLayerOverTheDequantisedWeight() throws {
    let layer = try NF4Linear(weight: randomWeight(96, 128), bias: Tensor.randn([96], generator: Generator(seed: 3)))
    let dense = try layer.denseWeight(dtype: .float32)
    let input = try Tensor.randn([2, 5, 128], generator: Generator(seed: 4)).setRequiresGrad()
    let upstream = try Tensor.randn([2, 5, 96], generator: Generator(seed: 6))

    let output = try layer(input)
    #expect(output.shape == [2, 5, 96] && output.dtype == .float32)
    try output.backward(upstream)
    let gradient = try #require(input.grad).toArray(Float.self)
    try input.clearGrad()

    let reference = try input.linear(weight: dense, bias: layer.bias)
    try reference.backward(upstream)
    let referenceGradient = try #require(input.grad).toArray(Float.self)
    let difference = try (output - reference).abs().amax().scalar(Float.self)
    #expect(difference <= 1e-5)
    #expect(zip(gradient, referenceGradient).allSatisfy { abs($0 - $1) <= 1e-5 })
}

@Test func bfloat16ComputeStaysCloseToFloat32() throws {
    let weight = try randomWeight(64, 256)
    let f32 = try NF4Linear(weight: weight)
    let bf16 = try NF4Linear(weight: weight, computeDType: .bfloat16)
    let input = try Tensor.randn([4, 256], generator: Generator(seed: 9))
    let exact = try f32(input)
    let approximate = try bf16(input)
    #expect(approximate.dtype == .float32 && bf16.computeDType == .bfloat16)
    let relative = try ((approximate - exact).abs().amax() / exact.abs().amax()).scalar(Float.self)
    #expect(relative > 0 && relative < 2e-2, "bf16 relative error \(relative)")
    #expect(try bf16.denseWeight(dtype: .bfloat16).dtype == .bfloat16)
}

@Test func weightsItCannotQuantiseAreRejected() throws {
    let flat = #expect(throws: TorchError.self) { try NF4Linear(weight: Tensor.zeros([64])) }
    #expect(flat?.description == "NF4Linear: the weight must be 2-D (outFeatures, inFeatures), got shape [64]")
    let integer = #expect(throws: TorchError.self) { try NF4Linear(weight: Tensor.zeros([4, 64], dtype: .int64)) }
    #expect(integer?.description == "NF4Linear: the weight must be floating point, got i64")
    let dtype = #expect(throws: TorchError.self) { try NF4Linear(weight: Tensor.zeros([4, 64]), computeDType: .float64) }
    #expect(dtype?.description == "NF4Linear: compute dtype f64 is not supported; use one of f32, bf16, f16")
    let bias = #expect(throws: TorchError.self) { try NF4Linear(weight: Tensor.zeros([4, 64]), bias: Tensor.zeros([5])) }
    #expect(bias?.description == "NF4Linear: the bias must have shape [4], got [5]")
}

@Test func anAllZeroWeightStaysZero() throws {
    let layer = try NF4Linear(weight: Tensor.zeros([8, 64]))
    #expect(try layer.denseWeight(dtype: .float32).abs().amax().scalar(Float.self) == 0)
}

@Test func theEightBitDynamicCodeIsBitsandbytesSigned() {
    let code = DynamicCode8Bit.values
    #expect(code.count == 256)
    #expect(zip(code, code.dropFirst()).allSatisfy { $0 < $1 }, "ascending, no duplicates")
    #expect(code.last == 1 && code.contains(0))
    // The most negative value is −(0.9859375 + 1) / 2: the top midpoint of linspace(0.1, 1, 65), negated.
    #expect(abs(code.first! + 0.99296875) < 1e-7)
    // Seven decades of 1, 2, 4, …, 64 values on each side of zero.
    #expect(code.filter { $0 > 0 && $0 < 1e-6 }.count == 1 && code.filter { $0 >= 0.1 && $0 < 1 }.count == 64)
    #expect(DynamicCode8Bit.nearestCode(1) == 255 && DynamicCode8Bit.nearestCode(-1) == 0)
    #expect(code[Int(DynamicCode8Bit.nearestCode(0))] == 0)
}

@Test func aQuantisedLlamaScoresLikeTheDenseOne() throws {
    let config = ModelConfig(hiddenSize: 128, intermediateSize: 192, numHiddenLayers: 2, numAttentionHeads: 4, vocabSize: 96)
    let tokens = try Tensor.randint(0, 96, shape: [2, 24], generator: Generator(seed: 4))
    let dense = try DecoderModel.random(config: config, seed: 8, standardDeviation: 0.1)
    let mlpOnly = try DecoderModel.random(config: config, seed: 8, standardDeviation: 0.1, baseLinear: NF4Linear.quantizing(targets: [.gate, .up, .down]))
    let all = try DecoderModel.random(config: config, seed: 8, standardDeviation: 0.1, baseLinear: NF4Linear.quantizing())
    #expect(mlpOnly.base(layer: 0, .up) is NF4Linear && mlpOnly.base(layer: 0, .query) is DenseLinear)
    #expect(all.base(layer: 1, .output) is NF4Linear)

    // Quantising after loading gives the same bases as quantising while building.
    try dense.quantizeBaseLinears(targets: [.gate, .up, .down]) { try NF4Linear(dense: $0) }
    let denseLoss = try DecoderModel.random(config: config, seed: 8, standardDeviation: 0.1).loss(tokens: tokens).scalar(Double.self)
    let afterwards = try dense.loss(tokens: tokens).scalar(Double.self)
    let whileBuilding = try mlpOnly.loss(tokens: tokens).scalar(Double.self)
    let allQuantised = try all.loss(tokens: tokens).scalar(Double.self)
    #expect(afterwards == whileBuilding)
    #expect(abs(allQuantised - denseLoss) < 0.02 * denseLoss && allQuantised != denseLoss, "dense \(denseLoss), NF4 \(allQuantised)")
}

@Test func jointNF4ProjectionsComputeWhatThePartsComputeInOneGEMM() throws {
    let parts = try [(96, 128), (32, 128), (32, 128)].enumerated().map { index, shape in
        try NF4Linear(weight: randomWeight(shape.0, shape.1, seed: UInt64(20 + index)), bias: Tensor.randn([shape.0], generator: Generator(seed: 9)))
    }
    let input = try Tensor.randn([3, 7, 128], generator: Generator(seed: 4)).setRequiresGrad()
    let separate = try Tensor.cat(parts.map { try $0(input) }, dim: -1)
    let bytesBefore = parts.map(\.residentBytes)

    let joint = try #require(NF4JointLinear(joining: parts))
    #expect(joint.outFeatures == 160 && joint.inFeatures == 128 && joint.residentBytes == bytesBefore.reduce(0, +))
    #expect(parts.map(\.residentBytes) == bytesBefore)
    let together = try joint(input)
    #expect(together.shape == [3, 7, 160])
    #expect(try (together - separate).abs().amax().scalar(Float.self) <= 1e-5)
    // The parts still work on their own, now reading views of the joined codes.
    #expect(try (parts[1](input) - separate.narrow(dim: -1, start: 96, length: 32)).abs().amax().scalar(Float.self) == 0)
    #expect(try joint.denseWeight(dtype: .float32).equal(Tensor.cat(parts.map { try $0.denseWeight(dtype: .float32) }, dim: 0)))

    let mixedBias = try [NF4Linear(weight: randomWeight(64, 128)), NF4Linear(weight: randomWeight(64, 128), bias: Tensor.zeros([64]))]
    #expect(NF4JointLinear(joining: mixedBias) == nil)
    #expect(NF4JointLinear(joining: [parts[0]]) == nil)
    #expect(NF4JointLinear(joining: try [NF4Linear(weight: randomWeight(64, 128)), NF4Linear(weight: randomWeight(64, 64))]) == nil)
    // Wide groups stay separate: 2 × 2048×1024 f32 is 16 MiB, one row more is over the limit.
    #expect(NF4JointLinear(joining: try [NF4Linear(weight: Tensor.zeros([2048, 1024])), NF4Linear(weight: Tensor.zeros([2048, 1024]))]) != nil)
    #expect(NF4JointLinear(joining: try [NF4Linear(weight: Tensor.zeros([2048, 1024])), NF4Linear(weight: Tensor.zeros([2049, 1024]))]) == nil)
}

@Test func qloraGradientsEqualLoRAOnTheDequantisedWeights() throws {
    // The same adapter on NF4 bases (joined per group) and on dense bases holding the dequantised NF4
    // weights: loss and every LoRA gradient agree.
    let config = ModelConfig(hiddenSize: 64, intermediateSize: 96, numHiddenLayers: 2, numAttentionHeads: 4, vocabSize: 80)
    let quantized = try DecoderModel.random(config: config, seed: 2, standardDeviation: 0.1, baseLinear: NF4Linear.quantizing())
    let dequantized = try DecoderModel.random(config: config, seed: 2, standardDeviation: 0.1, baseLinear: { _, dense in
        try DenseLinear(weight: NF4Linear(dense: dense).denseWeight(dtype: .float32))
    })
    let tokens = try Tensor.randint(0, 80, shape: [2, 12], generator: Generator(seed: 5))
    var gradients: [[String: Tensor]] = []
    var losses: [Double] = []
    for model in [quantized, dequantized] {
        try model.applyLoRA(LoRAConfiguration(rank: 4, alpha: 8, targets: LoRATarget.allCases), seed: 1)
        model.isTraining = true
        let generator = try Generator(seed: 3)
        try withNoGrad {
            for (_, tensor) in model.trainableParameters { try tensor.copy(from: Tensor.randn(tensor.shape, generator: generator) * 0.1) }
        }
        let loss = try model.loss(tokens: tokens)
        try loss.backward()
        losses.append(try loss.scalar(Double.self))
        gradients.append(Dictionary(uniqueKeysWithValues: try model.trainableParameters.map { ($0.name, try #require($0.tensor.grad)) }))
    }
    #expect(abs(losses[0] - losses[1]) < 1e-5, "\(losses)")
    #expect(gradients[0].keys.sorted() == gradients[1].keys.sorted() && gradients[0].count == 2 * 7 * 2)
    for (name, gradient) in gradients[0] {
        let reference = gradients[1][name]!
        let scale = try reference.abs().amax().scalar(Double.self)
        #expect(try (gradient - reference).abs().amax().scalar(Double.self) <= 1e-4 * scale, "\(name)")
    }
}
