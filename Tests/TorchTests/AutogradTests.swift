// AutogradTests — gradients through shim ops against analytic derivatives and central finite
// differences, accumulation over backward calls, clearing, detaching and grad mode.
import Foundation
import TestSupport
import Testing
import Torch

@Test func gradientsMatchAnalyticDerivatives() throws {
    // f(x) = Σ sin(x)·x²  ⇒  f'(x) = cos(x)·x² + 2x·sin(x)
    let values: [Double] = [-1.2, 0.3, 2.0]
    let x = try Tensor(values).setRequiresGrad()
    let f = try (x.sin() * x.square()).sum()
    try f.backward()
    let expected = values.map { Foundation.cos($0) * $0 * $0 + 2 * $0 * Foundation.sin($0) }
    #expect(approximatelyEqual(try #require(x.grad).toArray(Double.self), expected, tolerance: 1e-12))

    // L = Σ (A·B)²  ⇒  dL/dA = 2(A·B)·Bᵀ, dL/dB = Aᵀ·2(A·B)
    let a = try Tensor([1.0, 2, 3, 4, 5, 6], shape: [2, 3]).setRequiresGrad()
    let b = try Tensor([0.5, -1, 2, 0, 1, 1], shape: [3, 2]).setRequiresGrad()
    let product = try a.matmul(b)
    try product.square().sum().backward()
    let twice = try product.detach() * 2
    #expect(try #require(a.grad).equal(twice.matmul(b.detach().transpose(0, 1))))
    #expect(try #require(b.grad).equal(a.detach().transpose(0, 1).matmul(twice)))
}

@Test func crossEntropyGradientMatchesFiniteDifferences() throws {
    // A linear layer + RMS-style normalisation + cross-entropy, in f64 so that central differences are exact enough.
    let generator = try Generator(seed: 7)
    let x = try Tensor.randn([4, 5], dtype: .float64, generator: generator)
    let weight = try Tensor.randn([3, 5], dtype: .float64, generator: generator).setRequiresGrad()
    let targets = try Tensor([Int64(0), 2, 1, -100])
    func loss(_ w: Tensor) throws -> Tensor {
        let h = try x.linear(weight: w)
        let normalised = try h * (h.square().mean(dims: [-1], keepDim: true) + 1e-5).rsqrt()
        return try normalised.silu().crossEntropy(targets: targets)
    }
    try loss(weight).backward()
    let analytic = try #require(weight.grad).toArray(Double.self)

    let base = try weight.detach().toArray(Double.self)
    let step = 1e-6
    var numeric: [Double] = []
    for i in base.indices {
        var plus = base, minus = base
        plus[i] += step
        minus[i] -= step
        let up = try loss(Tensor(plus, shape: [3, 5])).scalar(Double.self)
        let down = try loss(Tensor(minus, shape: [3, 5])).scalar(Double.self)
        numeric.append((up - down) / (2 * step))
    }
    #expect(approximatelyEqual(analytic, numeric, tolerance: 1e-7))
}

@Test func gradientsAccumulateUntilCleared() throws {
    let w = try Tensor([Float(1), 2]).setRequiresGrad()
    #expect(w.grad == nil && w.requiresGrad && w.isLeaf)
    try (w * 3).sum().backward()
    try (w * 4).sum().backward()
    #expect(try #require(w.grad).toArray(Float.self) == [7, 7])
    try w.zeroGrad()
    #expect(try #require(w.grad).toArray(Float.self) == [0, 0])
    try w.clearGrad()
    #expect(w.grad == nil)
    try w.setGrad(Tensor([Float(1), 1]))
    #expect(try #require(w.grad).toArray(Float.self) == [1, 1])
    let mismatch = errorMessage { try w.setGrad(Tensor.zeros([3])) }
    #expect(mismatch?.contains("gradient shape [3] does not match tensor shape [2]") == true)
}

@Test func gradSharesStorageWithTheAccumulatedGradient() throws {
    let w = try Tensor([Float(1), 2]).setRequiresGrad()
    try (w * 2).sum().backward()
    try #require(w.grad).mulInPlace(0.5)
    #expect(try #require(w.grad).toArray(Float.self) == [1, 1])
}

@Test func backwardWithAnExplicitGradientAndRetainedGraph() throws {
    let x = try Tensor([Float(1), 2, 3]).setRequiresGrad()
    let y = try x * x
    try y.retainGrad()
    try y.backward(Tensor([Float(1), 0, 2]), retainGraph: true)
    #expect(try #require(x.grad).toArray(Float.self) == [2, 0, 12])
    #expect(try #require(y.grad).toArray(Float.self) == [1, 0, 2])
    try y.backward(Tensor([Float(1), 1, 1]))
    #expect(try #require(x.grad).toArray(Float.self) == [4, 4, 18])
    let message = errorMessage { try y.backward() }
    #expect(message?.contains("grad can be implicitly created only for scalar outputs") == true)
}

@Test func noGradAndDetachRecordNothing() throws {
    let w = try Tensor.ones([2]).setRequiresGrad()
    #expect(GradMode.isEnabled)
    let inside = try withNoGrad {
        #expect(!GradMode.isEnabled)
        return try w * 2
    }
    #expect(GradMode.isEnabled)
    #expect(!inside.requiresGrad)
    #expect(try !w.detach().requiresGrad)
    #expect(try (w * 2).requiresGrad && !(w * 2).isLeaf)
    // Grad mode comes back even when the body throws.
    _ = errorMessage { try withNoGrad { _ = try w.matmul(Tensor.ones([3, 3])) } }
    #expect(GradMode.isEnabled)
    // A frozen weight (no requires_grad) gets no gradient; the input that requires grad does.
    let frozen = try Tensor.ones([2, 2])
    let input = try Tensor.ones([1, 2]).setRequiresGrad()
    try input.linear(weight: frozen).sum().backward()
    #expect(frozen.grad == nil)
    #expect(try #require(input.grad).toArray(Float.self) == [2, 2])
}

@Test func fusedRMSNormMatchesTheCompositeAndItsGradients() throws {
    let generator = try Generator(seed: 13)
    let start = try Tensor.randn([2, 5, 48], generator: generator) * 3
    let weightStart = try Tensor.normal([48], mean: 1, std: 0.1, generator: generator)
    let upstream = try Tensor.randn([2, 5, 48], generator: generator)

    let x = try start.clone().setRequiresGrad()
    let w = try weightStart.clone().setRequiresGrad()
    let fused = try x.rmsNorm(weight: w, eps: 1e-5)
    try (fused * upstream).sum().backward()

    let xc = try start.clone().setRequiresGrad()
    let wc = try weightStart.clone().setRequiresGrad()
    let composite = try wc * (xc * (xc.pow(2).mean(dims: [-1], keepDim: true) + 1e-5).rsqrt())
    try (composite * upstream).sum().backward()

    #expect(approximatelyEqual(try fused.toArray(Float.self), try composite.toArray(Float.self), tolerance: 1e-5))
    #expect(approximatelyEqual(try #require(x.grad).toArray(Float.self), try #require(xc.grad).toArray(Float.self), tolerance: 1e-4))
    #expect(approximatelyEqual(try #require(w.grad).toArray(Float.self), try #require(wc.grad).toArray(Float.self), tolerance: 1e-3))

    // A frozen weight gets no gradient; bf16 input gives bf16 output close to the f32 result.
    let frozen = try weightStart.clone()
    let input = try start.clone().setRequiresGrad()
    try input.rmsNorm(weight: frozen, eps: 1e-5).sum().backward()
    #expect(frozen.grad == nil && input.grad != nil)
    let half = try start.to(.bfloat16).rmsNorm(weight: weightStart, eps: 1e-5)
    #expect(half.dtype == .bfloat16)
    #expect(try (half.to(.float32) - fused.detach()).abs().amax().scalar(Float.self) < 0.05)
    let message = errorMessage { _ = try start.rmsNorm(weight: Tensor.ones([4]), eps: 1e-5) }
    #expect(message?.hasPrefix("RMSNorm weight must be [48], got [4]") == true)
}
