// OptimizerTests — AdamW against its formula computed in double precision, weight decay and
// per-parameter settings, skipping parameters without gradients, and state that saves and loads back
// so that the next step is identical bit for bit.
import Foundation
import Testing
import TestSupport
import Torch

/// PyTorch's AdamW for one scalar parameter, in double precision.
private struct ReferenceAdamW {
    var lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.1
    var m = 0.0, v = 0.0, step = 0

    mutating func update(_ p: inout Double, grad g: Double) {
        step += 1
        p *= 1 - lr * weightDecay
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        let mHat = m / (1 - pow(beta1, Double(step)))
        let vHat = v / (1 - pow(beta2, Double(step)))
        p -= lr * mHat / (vHat.squareRoot() + eps)
    }
}

@Test func adamWStepsFollowTheFormula() throws {
    let start: [Double] = [1.0, -2.0, 0.5, 0.0]
    let gradients: [[Double]] = [[0.1, -0.3, 2.0, 1e-4], [-0.2, -0.1, 1.0, 0.0], [0.05, 0.4, -3.0, 2.0]]
    let parameter = try Tensor(start.map(Float.init)).setRequiresGrad()
    let optimizer = try AdamW(named: [("p", parameter)], configuration: .init(learningRate: 0.01, weightDecay: 0.1))

    var expected = start
    var references = Array(repeating: ReferenceAdamW(), count: start.count)
    for gradient in gradients {
        try parameter.setGrad(Tensor(gradient.map(Float.init)))
        try optimizer.step()
        for i in expected.indices { references[i].update(&expected[i], grad: Double(Float(gradient[i]))) }
        #expect(approximatelyEqual(try parameter.toArray(Double.self), expected, tolerance: 2e-6))
    }
    #expect(optimizer.stepCount == 3)
}

@Test func parametersWithoutGradientsAreLeftAlone() throws {
    let trained = try Tensor([Float(1)]).setRequiresGrad()
    let idle = try Tensor([Float(5)]).setRequiresGrad()
    let optimizer = try AdamW(parameters: [
        .init(name: "trained", tensor: trained, weightDecay: 0),
        .init(name: "idle", tensor: idle),
    ], configuration: .init(learningRate: 0.1))
    try trained.setGrad(Tensor([Float(1)]))
    try optimizer.step()
    #expect(try idle.toArray(Float.self) == [5])
    #expect(abs(try trained.scalar(Double.self) - 0.9) < 1e-6)  // first step moves by lr·sign(g)
    let (state, tensors) = optimizer.state()
    #expect(state.parameters.map(\.name) == ["trained"] && tensors.keys.sorted() == ["trained.exp_avg", "trained.exp_avg_sq"])
    try optimizer.zeroGrad()
    #expect(trained.grad == nil)
}

@Test func perParameterLearningRateScaleAndWeightDecay() throws {
    let fast = try Tensor([Float(1)]).setRequiresGrad()
    let decayed = try Tensor([Float(1)]).setRequiresGrad()
    let optimizer = try AdamW(parameters: [
        .init(name: "fast", tensor: fast, weightDecay: 0, learningRateScale: 2),
        .init(name: "decayed", tensor: decayed, weightDecay: 0.5),
    ], configuration: .init(learningRate: 0.1, weightDecay: 0))
    try fast.setGrad(Tensor([Float(0)]))  // zero gradient: only decay moves a parameter
    try decayed.setGrad(Tensor([Float(0)]))
    try optimizer.step()
    #expect(try fast.toArray(Float.self) == [1])
    #expect(abs(try decayed.scalar(Double.self) - 0.95) < 1e-7)
}

@Test func savedStateLoadsBackAndTheNextStepIsIdenticalBitForBit() throws {
    let generator = try Generator(seed: 11)
    let weight = try Tensor.randn([4, 3], generator: generator).setRequiresGrad()
    let bias = try Tensor.randn([3], generator: generator).setRequiresGrad()
    let x = try Tensor.randn([8, 4], generator: generator)
    let y = try Tensor.randn([8, 3], generator: generator)
    func lossStep(_ w: Tensor, _ b: Tensor, _ optimizer: AdamW) throws {
        try optimizer.zeroGrad()
        try (x.matmul(w) + b - y).square().mean().backward()
        try optimizer.step()
    }
    let optimizer = try AdamW(named: [("weight", weight), ("bias", bias)], configuration: .init(learningRate: 0.05))
    for _ in 0..<3 { try lossStep(weight, bias, optimizer) }

    let scratch = try ScratchDirectory()
    try optimizer.saveState(to: scratch.url)
    let weightCopy = try weight.detach().clone().setRequiresGrad()
    let biasCopy = try bias.detach().clone().setRequiresGrad()
    let resumed = try AdamW(named: [("weight", weightCopy), ("bias", biasCopy)], configuration: .init(learningRate: 123))
    try resumed.loadState(from: scratch.url)
    #expect(resumed.stepCount == 3 && resumed.configuration == optimizer.configuration)

    try lossStep(weight, bias, optimizer)
    try lossStep(weightCopy, biasCopy, resumed)
    #expect(try weight.bytes() == weightCopy.bytes())
    #expect(try bias.bytes() == biasCopy.bytes())
    let (_, original) = optimizer.state()
    let (_, restored) = resumed.state()
    for key in original.keys { #expect(try original[key]!.bytes() == restored[key]!.bytes(), "\(key)") }
}

@Test func stateThatDoesNotFitTheOptimizerIsRefused() throws {
    let w = try Tensor.ones([2]).setRequiresGrad()
    let optimizer = try AdamW(named: [("w", w)])
    try w.setGrad(Tensor.ones([2]))
    try optimizer.step()
    let (state, tensors) = optimizer.state()

    let other = try AdamW(named: [("v", Tensor.ones([2]).setRequiresGrad())])
    #expect(errorMessage { try other.load(state: state, tensors: tensors) } == "AdamW state has parameter 'w', which this optimizer does not have")
    let wider = try AdamW(named: [("w", Tensor.ones([3]).setRequiresGrad())])
    #expect(errorMessage { try wider.load(state: state, tensors: tensors) } == "AdamW state for 'w' has shape [2], the parameter has [3]")
    let same = try AdamW(named: [("w", Tensor.ones([2]).setRequiresGrad())])
    #expect(errorMessage { try same.load(state: state, tensors: ["w.exp_avg": tensors["w.exp_avg"]!]) } == "AdamW state lacks tensor 'w.exp_avg_sq'")
    #expect(errorMessage { _ = try AdamW(named: [("w", w), ("w", w)]) } == "AdamW: parameter name 'w' appears twice")
    #expect(errorMessage { _ = try AdamW(named: [("ids", Tensor([Int64(1)]))]) } == "AdamW: parameter 'ids' is i64, not a floating-point tensor")
    let scratch = try ScratchDirectory()
    let message = errorMessage { try same.loadState(from: scratch.url) }
    #expect(message?.hasPrefix("\(scratch.path("optimizer.json").path): not an AdamW state") == true)
}
