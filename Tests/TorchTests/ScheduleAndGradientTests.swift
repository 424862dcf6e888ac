// ScheduleAndGradientTests — learning-rate schedules at known steps (Hugging Face's formulas), global
// gradient-norm clipping, finiteness, and gradient accumulation equal to one large batch.
import Foundation
import Testing
import Torch

@Test func schedulesGiveHuggingFacesFactors() throws {
    let constant = LearningRateSchedule.constant()
    #expect([0, 1, 1000].map(constant.factor) == [1, 1, 1])
    let warm = LearningRateSchedule.constant(warmupSteps: 4)
    #expect((0...5).map(warm.factor) == [0, 0.25, 0.5, 0.75, 1, 1])

    let cosine = LearningRateSchedule.cosine(warmupSteps: 2, totalSteps: 10)
    #expect(cosine.factor(atStep: 0) == 0 && cosine.factor(atStep: 1) == 0.5 && cosine.factor(atStep: 2) == 1)
    #expect(abs(cosine.factor(atStep: 6) - 0.5) < 1e-12)
    #expect(abs(cosine.factor(atStep: 4) - 0.5 * (1 + Foundation.cos(Double.pi / 4))) < 1e-12)
    #expect(abs(cosine.factor(atStep: 10)) < 1e-12 && abs(cosine.factor(atStep: 50)) < 1e-12)
    let floored = LearningRateSchedule.cosine(warmupSteps: 2, totalSteps: 10, minRatio: 0.1)
    #expect(abs(floored.factor(atStep: 6) - 0.55) < 1e-12 && abs(floored.factor(atStep: 99) - 0.1) < 1e-12)

    let linear = LearningRateSchedule.linear(warmupSteps: 2, totalSteps: 10)
    #expect([2, 6, 10, 12].map(linear.factor) == [1, 0.5, 0, 0])
    let linearFloor = LearningRateSchedule.linear(warmupSteps: 0, totalSteps: 10, minRatio: 0.2)
    #expect(abs(linearFloor.factor(atStep: 5) - 0.6) < 1e-12 && linearFloor.factor(atStep: 20) == 0.2)
    #expect(linear.learningRate(base: 2e-4, atStep: 6) == 1e-4)

    let encoded = try JSONEncoder().encode([constant, cosine, floored, linear])
    #expect(try JSONDecoder().decode([LearningRateSchedule].self, from: encoded) == [constant, cosine, floored, linear])
}

@Test func clippingScalesEveryGradientToTheMaxNormAndReturnsTheNormBefore() throws {
    let a = try Tensor.zeros([2]).setRequiresGrad()
    let b = try Tensor.zeros([3]).setRequiresGrad()
    let withoutGrad = try Tensor.zeros([4]).setRequiresGrad()
    try a.setGrad(Tensor([Float(3), 4]))
    try b.setGrad(Tensor([Float(0), 0, 12]))
    #expect(try Gradients.totalNorm([a, b, withoutGrad]) == 13)
    #expect(try Gradients.clipNorm([a, b, withoutGrad], maxNorm: 100) == 13)
    #expect(try #require(a.grad).toArray(Float.self) == [3, 4])  // under the limit: unchanged
    #expect(try Gradients.clipNorm([a, b, withoutGrad], maxNorm: 6.5) == 13)
    #expect(abs(try Gradients.totalNorm([a, b]) - 6.5) < 1e-5)
    #expect(approximatelyEqual(try #require(a.grad).toArray(Float.self), [1.5, 2], tolerance: 1e-6))
    #expect(withoutGrad.grad == nil)
    #expect(try Gradients.totalNorm([a, b], normType: .infinity) == #require(b.grad).amax().scalar(Double.self))
    #expect(try Gradients.clipNorm([withoutGrad], maxNorm: 1) == 0)
}

@Test func nonFiniteGradientsAreDetected() throws {
    let a = try Tensor.zeros([2]).setRequiresGrad()
    try a.setGrad(Tensor([Float(1), 2]))
    #expect(try Gradients.areFinite([a]))
    try a.setGrad(Tensor([Float(1), .nan]))
    #expect(try !Gradients.areFinite([a]))
    #expect(try Gradients.totalNorm([a]).isNaN)
}

@Test func accumulatedMicroBatchesEqualOneLargeBatch() throws {
    let generator = try Generator(seed: 21)
    let x = try Tensor.randn([8, 5], dtype: .float64, generator: generator)
    let y = try Tensor.randn([8, 2], dtype: .float64, generator: generator)
    let start = try Tensor.randn([2, 5], dtype: .float64, generator: generator)
    func loss(_ w: Tensor, _ rows: Range<Int>) throws -> Tensor {
        let xs = try x.narrow(dim: 0, start: rows.lowerBound, length: rows.count)
        let ys = try y.narrow(dim: 0, start: rows.lowerBound, length: rows.count)
        return try (xs.linear(weight: w) - ys).square().mean()
    }
    let whole = try start.clone().setRequiresGrad()
    try loss(whole, 0..<8).backward()

    let accumulated = try start.clone().setRequiresGrad()
    for rows in [0..<2, 2..<4, 4..<6, 6..<8] { try loss(accumulated, rows).backward() }
    try Gradients.scale([accumulated], by: 1.0 / 4)
    #expect(approximatelyEqual(try #require(accumulated.grad).toArray(Double.self), try #require(whole.grad).toArray(Double.self), tolerance: 1e-12))

    let optimizers = try [whole, accumulated].map { try AdamW(named: [("w", $0)], configuration: .init(learningRate: 0.1)) }
    for optimizer in optimizers { try optimizer.step() }
    #expect(approximatelyEqual(try whole.toArray(Double.self), try accumulated.toArray(Double.self), tolerance: 1e-12))
    try Gradients.clear([whole, accumulated])
    #expect(whole.grad == nil && accumulated.grad == nil)
}
