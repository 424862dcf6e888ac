// HyperwordSurprisal — what the `surprisal` ranking knows of the base model: for each training text,
// its base ids and the model's surprisal of each id in context (computed by the caller, which holds
// the model), and from them the weight of each occurrence of a candidate merge.
//
// The formula. s(i) = −ln p(id_i | the ids before it) is the model's surprisal of base token i where
// it stands, in nats; s̄(t) is the mean of s over every scored occurrence of base id t in the training
// text. The gain g(i) = s̄(id_i) − s(i) says how much more predictable token i is here than that token
// usually is: > 0 where its context announces it. One occurrence of a candidate merge a + b weighs
//     w = exp(mean of g over the base tokens of b at that occurrence)        (clamped to e^±10)
// and the merge's score is the sum of w over its occurrences — its frequency, each occurrence counted
// by how predictable b is after a. A chunk of text that occurs n times weighs n × w, with each
// position's gain averaged over those n occurrences. With every gain 0 the score is the occurrence
// count, so the ranking is then exactly `tokens`. Why the baseline s̄: with w = p(b | context) alone,
// the second half of a word, which any model predicts well, would be favoured over every phrase; measured
// against how predictable b usually is, " потому" + " что" ranks by how strongly "потому" announces
// "что" — what makes a collocation.
import Foundation

/// One training text as the model scored it.
public struct ScoredText: Sendable, Equatable {
    /// The base tokenizer's ids of the text (`encode`, without the prefix the model was given).
    public var ids: [Int32]
    /// −ln p of each id given the ids before it, in nats; NaN where nothing predicted it.
    public var surprisal: [Float]

    public init(ids: [Int32], surprisal: [Float]) {
        self.ids = ids
        self.surprisal = surprisal
    }
}

/// The model's surprisal of the training text, one ScoredText per text, in the order of the texts.
public struct HyperwordSurprisal: Sendable {
    public let texts: [ScoredText]

    public init(texts: [ScoredText]) {
        self.texts = texts
    }

    /// Ids whose surprisal is known.
    public var scoredTokens: Int { texts.reduce(0) { $0 + $1.surprisal.lazy.filter { !$0.isNaN }.count } }

    /// Mean surprisal per scored id, in nats (0 when none was scored).
    public var meanSurprisal: Double {
        var sum = 0.0, count = 0
        for text in texts {
            for value in text.surprisal where !value.isNaN {
                sum += Double(value)
                count += 1
            }
        }
        return count == 0 ? 0 : sum / Double(count)
    }

    /// Occurrence weights are integers in units of 1/`weightScale`, so that the learner's sums are
    /// exact whatever order occurrences are added and removed in.
    static let weightScale = 65536.0
    /// The gain is clamped to ±this many nats before exp: a weight stays within e^±10.
    static let gainLimit = 10.0

    /// The weight of one occurrence whose right part has mean gain `meanGain` (at least 1 unit, so that
    /// every occurrence counts for something).
    static func occurrenceWeight(meanGain: Double) -> Int64 {
        let gain = meanGain.isNaN ? 0 : min(max(meanGain, -gainLimit), gainLimit)
        return max(1, Int64((weightScale * exp(gain)).rounded()))
    }

    /// s̄ of every base id below `vocabularySize` (0 for one never scored).
    func baselines(vocabularySize: Int) throws -> [Double] {
        var sums = [Double](repeating: 0, count: vocabularySize)
        var counts = [Int](repeating: 0, count: vocabularySize)
        for (number, text) in texts.enumerated() {
            guard text.ids.count == text.surprisal.count else {
                throw HyperwordError("surprisal of text \(number): \(text.surprisal.count) values for \(text.ids.count) ids; give one per id")
            }
            for (id, value) in zip(text.ids, text.surprisal) {
                guard id >= 0 && Int(id) < vocabularySize else {
                    throw HyperwordError("surprisal of text \(number): id \(id) is outside the base vocabulary of \(vocabularySize) tokens")
                }
                guard !value.isNaN else { continue }
                sums[Int(id)] += Double(value)
                counts[Int(id)] += 1
            }
        }
        return zip(sums, counts).map { $1 == 0 ? 0 : $0 / Double($1) }
    }

    /// The gain s̄(id) − s of every id of every text (0 where the surprisal is NaN).
    func gains(vocabularySize: Int) throws -> [[Float]] {
        let baselines = try baselines(vocabularySize: vocabularySize)
        return texts.map { text in
            zip(text.ids, text.surprisal).map { id, value in value.isNaN ? 0 : Float(baselines[Int(id)] - Double(value)) }
        }
    }
}
