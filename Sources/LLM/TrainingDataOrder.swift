// TrainingDataOrder — which packed sequences each optimizer step trains on: a fresh seeded permutation
// of all sequences every epoch, consumed a step's worth at a time (micro-batch × accumulation); the
// sequences left over at an epoch's end (fewer than a step needs) are skipped, so every step sees the
// same amount of data. The position (epoch, cursor, the shuffler's state when the epoch's permutation
// was drawn) is all a checkpoint needs: resuming redraws the permutation from that state.
import Foundation

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64: a small generator whose whole state (four
/// words) is saved in checkpoints. Swift's own generators cannot be saved, and the standard library
/// does not promise that `shuffle(using:)` draws the same way across versions, so the shuffle is ours too.
public struct Xoshiro256StarStar: RandomNumberGenerator, Equatable, Sendable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// Uniform on 0..<upper without modulo bias (Lemire's multiply-and-reject).
    public mutating func next(below upper: UInt64) -> UInt64 {
        precondition(upper > 0)
        var product = next().multipliedFullWidth(by: upper)
        if product.low < upper {
            let threshold = (0 &- upper) % upper
            while product.low < threshold { product = next().multipliedFullWidth(by: upper) }
        }
        return product.high
    }

    /// A uniformly random permutation of 0..<count (Fisher–Yates, from the last position down).
    public mutating func permutation(of count: Int) -> [Int32] {
        var order = (0..<Int32(count)).map { $0 }
        var index = count - 1
        while index > 0 {
            let other = Int(next(below: UInt64(index + 1)))
            order.swapAt(index, other)
            index -= 1
        }
        return order
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.state == rhs.state }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

struct TrainingDataOrder {
    /// Where the order stands between two steps — what a checkpoint stores.
    struct Position: Codable, Equatable, Sendable {
        /// The current epoch, counted from 0.
        var epoch: Int
        /// Sequences of this epoch's permutation already trained on.
        var cursor: Int
        /// The shuffler's state just before it drew this epoch's permutation (four words, hex).
        var shuffleState: [String]

        /// Throws `TrainingError.invalidCheckpoint` (naming `file`) unless this position can be resumed
        /// over `sequenceCount` sequences.
        func validate(file: URL, sequenceCount: Int) throws {
            guard shuffleState.count == 4, shuffleState.allSatisfy({ UInt64($0, radix: 16) != nil }) else {
                throw TrainingError.invalidCheckpoint(
                    file: file, key: "data.shuffle_state", expected: "four 64-bit words in hexadecimal", found: "\(shuffleState)")
            }
            guard epoch >= 0, (0...sequenceCount).contains(cursor) else {
                throw TrainingError.invalidCheckpoint(
                    file: file, key: "data", expected: "epoch ≥ 0 and a cursor within 0…\(sequenceCount)",
                    found: "epoch \(epoch), cursor \(cursor)")
            }
        }
    }

    let sequenceCount: Int
    let sequencesPerStep: Int
    private(set) var epoch: Int
    private(set) var cursor: Int
    private var epochStartState: Xoshiro256StarStar
    private var shuffler: Xoshiro256StarStar
    private var permutation: [Int32]

    /// Steps in one epoch (the leftover sequences of each epoch are skipped).
    var stepsPerEpoch: Int { sequenceCount / sequencesPerStep }

    init(seed: UInt64, sequenceCount: Int, sequencesPerStep: Int) {
        self.sequenceCount = sequenceCount
        self.sequencesPerStep = sequencesPerStep
        epoch = 0
        cursor = 0
        epochStartState = Xoshiro256StarStar(seed: seed)
        shuffler = epochStartState
        permutation = shuffler.permutation(of: sequenceCount)
    }

    /// Continues from a saved position (the permutation is redrawn from its saved shuffler state).
    /// `position` must have passed `Position.validate`.
    init(position: Position, sequenceCount: Int, sequencesPerStep: Int) {
        let words = position.shuffleState.map { UInt64($0, radix: 16)! }
        self.sequenceCount = sequenceCount
        self.sequencesPerStep = sequencesPerStep
        epoch = position.epoch
        cursor = position.cursor
        epochStartState = Xoshiro256StarStar(state: (words[0], words[1], words[2], words[3]))
        shuffler = epochStartState
        permutation = shuffler.permutation(of: sequenceCount)
    }

    var position: Position {
        let words = epochStartState.state
        return Position(epoch: epoch, cursor: cursor, shuffleState: [words.0, words.1, words.2, words.3].map { String($0, radix: 16) })
    }

    /// The sequences of the next step, in order (micro-batch after micro-batch); starts a new epoch
    /// with a new permutation when this one has too few left.
    mutating func nextStep() -> [Int] {
        if cursor + sequencesPerStep > sequenceCount {
            epoch += 1
            cursor = 0
            epochStartState = shuffler
            permutation = shuffler.permutation(of: sequenceCount)
        }
        defer { cursor += sequencesPerStep }
        return permutation[cursor..<(cursor + sequencesPerStep)].map(Int.init)
    }
}
