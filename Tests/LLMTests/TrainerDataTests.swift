// TrainerDataTests — packing token streams into sequences (documents joined with EOS, the short tail
// dropped, bad ids and too-short streams named), the shuffler against the published xoshiro256** and
// SplitMix64 outputs, and the per-epoch order that a saved position reproduces.
import Foundation
@testable import LLM
import Testing
import Torch

@Test func documentsAreJoinedWithTheSeparatorAndCutIntoWindows() throws {
    let packed = try PackedTokens(documents: [[1, 2, 3], [4, 5], [6, 7, 8, 9]], separator: 0, sequenceLength: 4)
    // 1 2 3 0 | 4 5 0 6 | 7 8 9 0 — twelve tokens, three windows, nothing dropped.
    #expect(packed.tokens == [1, 2, 3, 0, 4, 5, 0, 6, 7, 8, 9, 0] && packed.sequenceCount == 3 && packed.droppedTokens == 0)
    let batch = try packed.batch([2, 0])
    #expect(batch.shape == [2, 4] && batch.dtype == .int64)
    #expect(try batch.toArray(Int.self) == [7, 8, 9, 0, 1, 2, 3, 0])

    let unseparated = try PackedTokens(documents: [[1, 2, 3], [4, 5]], separator: nil, sequenceLength: 2)
    #expect(unseparated.tokens == [1, 2, 3, 4] && unseparated.droppedTokens == 1)
}

@Test func streamsThatCannotBePackedAreNamed() {
    #expect(throws: PackedTokens.PackingError.tooFewTokens(name: "held-out text", tokens: 3, sequenceLength: 4)) {
        try PackedTokens(tokens: [1, 2, 3], sequenceLength: 4, name: "held-out text")
    }
    let short = #expect(throws: PackedTokens.PackingError.self) { try PackedTokens(tokens: [1, 2, 3], sequenceLength: 1) }
    #expect(short?.description == "sequence length must be at least 2 (one input and one target token), got 1")
    let negative = #expect(throws: PackedTokens.PackingError.self) {
        try PackedTokens(tokens: [5, 6, -1, 7], sequenceLength: 2, name: "train.json")
    }
    #expect(negative?.description == "train.json: token -1 at position 2 is not a token id (0…2147483647)")
    let few = #expect(throws: PackedTokens.PackingError.self) { try PackedTokens(tokens: [1], sequenceLength: 8, name: "x") }
    #expect(few?.description == "x: 1 tokens do not fill one sequence of 8 tokens")
}

@Test func theDigestFollowsTokensAndSequenceLength() throws {
    let a = try PackedTokens(tokens: Array(0..<64), sequenceLength: 8)
    #expect(a.digest == (try PackedTokens(tokens: Array(0..<64), sequenceLength: 8)).digest)
    #expect(a.digest != (try PackedTokens(tokens: Array(0..<64), sequenceLength: 16)).digest)
    #expect(a.digest != (try PackedTokens(tokens: Array(1..<65), sequenceLength: 8)).digest)
}

@Test func xoshiroAndSplitMixGiveTheirPublishedOutputs() {
    var generator = Xoshiro256StarStar(state: (1, 2, 3, 4))
    #expect((0..<4).map { _ in generator.next() } == [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240])
    // Seeding expands the seed with SplitMix64, whose first outputs from 0 are the published ones.
    let seeded = Xoshiro256StarStar(seed: 0)
    #expect(seeded.state == (16_294_208_416_658_607_535, 7_960_286_522_194_355_700, 487_617_019_471_545_679, 17_909_611_376_780_542_444))
}

@Test func permutationsAreUniformEnoughAndComplete() {
    var generator = Xoshiro256StarStar(seed: 42)
    var firstPositionCounts = [Int](repeating: 0, count: 5)
    for _ in 0..<5000 {
        let order = generator.permutation(of: 5)
        #expect(order.sorted() == [0, 1, 2, 3, 4])
        firstPositionCounts[Int(order[0])] += 1
    }
    #expect(firstPositionCounts.allSatisfy { abs($0 - 1000) < 120 }, "\(firstPositionCounts)")
    var bounded = Xoshiro256StarStar(seed: 1)
    #expect((0..<1000).allSatisfy { _ in bounded.next(below: 3) < 3 })
}

@Test func eachEpochVisitsEverySequenceOnceInANewOrder() {
    // 10 sequences, 3 per step: 3 steps per epoch, one sequence left out of each epoch.
    var order = TrainingDataOrder(seed: 5, sequenceCount: 10, sequencesPerStep: 3)
    #expect(order.stepsPerEpoch == 3)
    let epoch0 = (0..<3).flatMap { _ in order.nextStep() }
    let epoch1 = (0..<3).flatMap { _ in order.nextStep() }
    #expect(Set(epoch0).count == 9 && Set(epoch1).count == 9 && epoch0 != epoch1)
    #expect(order.epoch == 1 && order.cursor == 9)

    // A saved position continues with the same sequences.
    var replay = TrainingDataOrder(seed: 5, sequenceCount: 10, sequencesPerStep: 3)
    for _ in 0..<4 { _ = replay.nextStep() }
    var restored = TrainingDataOrder(position: replay.position, sequenceCount: 10, sequencesPerStep: 3)
    #expect((0..<5).map { _ in restored.nextStep() } == (0..<5).map { _ in replay.nextStep() })
}
