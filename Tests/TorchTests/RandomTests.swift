// RandomTests — seeded generators reproduce their streams, differ across seeds, and resume exactly
// from a saved state; sampling and shuffling draw from them.
import TestSupport
import Testing
import Torch

@Test func sameSeedGivesTheSameBitsAndOtherSeedsDiffer() throws {
    func draw(_ seed: UInt64) throws -> [[UInt8]] {
        let g = try Generator(seed: seed)
        return try [
            Tensor.randn([64], generator: g).bytes(),
            Tensor.uniform([8], low: -0.5, high: 0.5, generator: g).bytes(),
            Tensor.randint(0, 1000, shape: [8], generator: g).bytes(),
            Tensor.randperm(16, generator: g).bytes(),
        ]
    }
    #expect(try draw(42) == draw(42))
    #expect(try draw(42) != draw(43))
    #expect(try Generator(seed: 42).seed == 42)
}

@Test func aRestoredStateContinuesTheStreamExactly() throws {
    let g = try Generator(seed: 1)
    _ = try Tensor.randn([10], generator: g)
    let saved = try g.stateBytes()
    let next = try Tensor.randn([32], generator: g).bytes()
    let dropoutMask = try Tensor.ones([32]).dropout(0.5, generator: g).bytes()

    let resumed = try Generator(seed: 999)
    try resumed.setState(bytes: saved)
    #expect(try Tensor.randn([32], generator: resumed).bytes() == next)
    #expect(try Tensor.ones([32]).dropout(0.5, generator: resumed).bytes() == dropoutMask)

    try g.reseed(1)
    let fresh = try Generator(seed: 1)
    #expect(try Tensor.rand([4], generator: g).bytes() == Tensor.rand([4], generator: fresh).bytes())
    let bad = errorMessage { try g.setState(Tensor.zeros([3])) }
    #expect(bad?.contains("generator state must be a uint8 CPU tensor, got [3] f32") == true)
}

@Test func drawsFollowTheirDistributions() throws {
    let g = try Generator(seed: 3)
    let uniform = try Tensor.uniform([10_000], low: -2, high: 3, generator: g)
    #expect(try uniform.amin().scalar(Float.self) >= -2 && uniform.amax().scalar(Float.self) < 3)
    #expect(abs(try uniform.mean().scalar(Double.self) - 0.5) < 0.05)
    let normal = try Tensor.normal([10_000], mean: 1, std: 2, generator: g)
    #expect(abs(try normal.mean().scalar(Double.self) - 1) < 0.1)
    #expect(abs(try normal.standardDeviation().scalar(Double.self) - 2) < 0.1)
    let weight = try Tensor.zeros([100, 100])
    try weight.uniformInPlace(low: -0.1, high: 0.1, generator: g)
    #expect(try weight.abs().amax().scalar(Float.self) <= 0.1)
    try weight.normalInPlace(mean: 0, std: 0.02, generator: g)
    #expect(abs(try weight.standardDeviation().scalar(Double.self) - 0.02) < 0.002)
    #expect(try Set(Tensor.randperm(50, generator: g).toArray(Int.self)) == Set(0..<50))
}

@Test func multinomialSamplingIsSeededAndRespectsZeroWeights() throws {
    let probabilities = try Tensor([Float(0), 0.7, 0.3, 0], shape: [1, 4])
    let first = try probabilities.multinomial(samples: 200, replacement: true, generator: Generator(seed: 5))
    let second = try probabilities.multinomial(samples: 200, replacement: true, generator: Generator(seed: 5))
    #expect(try first.equal(second))
    let picks = try first.toArray(Int.self)
    #expect(Set(picks).isSubset(of: [1, 2]))
    #expect(picks.filter { $0 == 1 }.count > 100)
}

@Test func dropoutScalesKeptValuesAndIsIdentityWhenOff() throws {
    let x = try Tensor.ones([1000])
    let dropped = try x.dropout(0.25, generator: Generator(seed: 9)).toArray(Float.self)
    #expect(Set(dropped).isSubset(of: [0, Float(1) / 0.75]))
    #expect(dropped.filter { $0 == 0 }.count > 150 && dropped.filter { $0 == 0 }.count < 350)
    #expect(try x.dropout(0.25, training: false).equal(x))
    #expect(try x.dropout(0).equal(x))
}
