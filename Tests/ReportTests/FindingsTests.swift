// FindingsTests — the sentences at the top of the report, from crafted metrics: the tier set that helped
// most (and when none beat the base), where saturation begins (and when it does not), what hyperwords
// saved, which init won before and after training (and a tie); nothing said where the data is missing.
import Report
import Testing

@Suite struct FindingsTests {
    static let tiers = ["[\"core\"]", "[\"core\",\"orbit\"]", "[\"core\",\"orbit\",\"fractal\"]"]
    static let labels = ["core", "core+orbit", "core+orbit+fractal"]

    static func params(tiers: [String] = tiers, init initialisers: [String]? = nil) -> [[String: String]] {
        tiers.indices.map { index in
            ["train.tiers": tiers[index], "extend.init": "\"\(initialisers?[index] ?? "mean")\"", "train.steps": "150"]
        }
    }

    static func findings(labels: [String] = labels, params: [[String: String]], values: [[String: Double]]) -> [Finding] {
        let books = BooksSaturation(values: values)
        return Findings.compute(labels: labels, params: params, values: values, books: books,
                                ablations: Ablation.find(params: params), goals: MetricGoals())
    }

    @Test func theTierSetThatHelpedMostAgainstTheBase() throws {
        let values = [1.45, 1.36, 1.25].map { ["eval/bits_per_byte": $0, "eval/base_bits_per_byte": 1.62] }
        let findings = Self.findings(params: Self.params(), values: values)
        #expect(findings.map(\.topic) == ["tiers"])
        let finding = try #require(findings.first)
        #expect(finding.question == "Which tier set helped most")
        // (1.25 − 1.62) / 1.62 = −22.8 %
        #expect(finding.sentence == "Training on core+orbit+fractal helped most: held-out bits per byte 1.25 against the base model's 1.62 "
            + "(−0.37, −22.8 %); core 1.45, core+orbit 1.36.")
        #expect(finding.basis == "eval/bits_per_byte of runs core, core+orbit, core+orbit+fractal, which differ only in train.tiers, "
            + "against eval/base_bits_per_byte.")
    }

    @Test func noTierSetBeatingTheBaseIsSaidSo() throws {
        let values = [1.70, 1.66].map { ["eval/bits_per_byte": $0, "eval/base_bits_per_byte": 1.62] }
        let finding = try #require(Self.findings(labels: ["core", "core+orbit"], params: Self.params(tiers: Array(Self.tiers.prefix(2))), values: values).first)
        #expect(finding.sentence == "No tier set improved on the base model's held-out bits per byte (1.62): the best, core+orbit, reached 1.66; core 1.7.")
        // Without a base value the finding still names the lowest.
        let bare = try #require(Self.findings(labels: ["core", "core+orbit"], params: Self.params(tiers: Array(Self.tiers.prefix(2))),
                                              values: [["eval/bits_per_byte": 1.7], ["eval/bits_per_byte": 1.66]]).first)
        #expect(bare.sentence == "Training on core+orbit gave the lowest held-out bits per byte, 1.66 (core 1.7).")
        #expect(bare.basis.hasSuffix("; no eval/base_bits_per_byte was recorded."))
    }

    static func booksRuns(_ curve: [(books: Double, bitsPerByte: [Double])]) -> (labels: [String], params: [[String: String]], values: [[String: Double]]) {
        var labels: [String] = []
        var params: [[String: String]] = []
        var values: [[String: Double]] = []
        for point in curve {
            for (seed, bitsPerByte) in point.bitsPerByte.enumerated() {
                labels.append("books-\(Int(point.books))+books_seed-\(seed)")
                params.append(["train.tiers": "[]", "train.books": String(Int(point.books)), "train.books_seed": String(seed)])
                values.append(["train/books": point.books, "eval/bits_per_byte": bitsPerByte, "eval/base_bits_per_byte": 2.2])
            }
        }
        return (labels, params, values)
    }

    @Test func whereSaturationBeginsByThePrintedDefinition() throws {
        // Means 2.0, 1.5, 1.46, 1.455: the first step gains 0.5, the step after 3 books 0.04 < 0.05.
        let runs = Self.booksRuns([(1, [2.1, 1.9]), (3, [1.55, 1.45]), (10, [1.47, 1.45]), (30, [1.455, 1.455])])
        let findings = Self.findings(labels: runs.labels, params: runs.params, values: runs.values)
        // Seeds and counts are no ablation: the only finding is saturation.
        #expect(findings.map(\.topic) == ["saturation"])
        let finding = try #require(findings.first)
        #expect(finding.sentence == "Saturation begins at 3 books: going on to 10 lowers mean held-out bits per byte by 0.04, "
            + "less than a tenth of the first step's 0.5 (1 → 3 books).")
        #expect(finding.basis.hasPrefix("Mean eval/bits_per_byte over the runs of each count of train/books (1, 3, 10, 30), 8 runs; saturation begins at"))
    }

    @Test func aCurveStillFallingOrRisingIsNoSaturation() throws {
        let falling = Self.booksRuns([(1, [2.0]), (3, [1.8]), (10, [1.6])])
        let finding = try #require(Self.findings(labels: falling.labels, params: falling.params, values: falling.values).first)
        #expect(finding.sentence == "No saturation yet up to 10 books: every step still lowers mean held-out bits per byte by at least "
            + "a tenth of the first step's 0.2.")
        let rising = Self.booksRuns([(1, [1.6]), (3, [1.7]), (10, [1.65])])
        let worse = try #require(Self.findings(labels: rising.labels, params: rising.params, values: rising.values).first)
        #expect(worse.sentence == "More books did not help at first: going from 1 to 3 books moved mean held-out bits per byte from 1.6 to 1.7.")
        // Two counts are not a curve.
        let short = Self.booksRuns([(1, [2.0]), (3, [1.8])])
        #expect(Self.findings(labels: short.labels, params: short.params, values: short.values).isEmpty)
    }

    @Test func whatHyperwordsSaved() throws {
        let values = Self.labels.indices.map { _ in
            ["hyperwords/token_reduction": 0.1287, "eval/tokens_per_scene": 65.469, "eval/base_tokens_per_scene": 75.1241]
        }
        let params = [["train.tiers": "[\"core\"]", "train.steps": "40"], ["train.tiers": "[\"core\"]", "train.steps": "80"],
                      ["train.tiers": "[\"core\"]", "train.steps": "160"]]
        let finding = try #require(Self.findings(params: params, values: values).first { $0.topic == "hyperwords" })
        // (65.469 − 75.1241) / 75.1241 = −12.85 %
        #expect(finding.sentence == "Hyperwords saved 12.9 % of held-out tokens; a held-out scene costs 65.47 tokens instead of 75.12 (−12.9 %).")
        #expect(finding.basis == "hyperwords/token_reduction of runs core, core+orbit, core+orbit+fractal; "
            + "eval/tokens_per_scene against eval/base_tokens_per_scene of runs core, core+orbit, core+orbit+fractal.")
        // Rankings that learned different hyperwords give a range; a reduction alone is a sentence of its own.
        let ranges = [0.102, 0.129].map { ["hyperwords/token_reduction": $0] }
        let range = try #require(Self.findings(labels: ["bytes", "meaning"], params: [["a": "1"], ["a": "2"]], values: ranges).first)
        #expect(range.sentence == "Hyperwords saved 10.2–12.9 % of held-out tokens.")
        let longer = try #require(Self.findings(labels: ["x"], params: [[:]], values: [["hyperwords/token_reduction": -0.02]]).first)
        #expect(longer.sentence == "Hyperwords saved no held-out tokens: the text took 2.0 % more.")
        let scenes = try #require(Self.findings(labels: ["x"], params: [[:]],
                                                values: [["eval/tokens_per_scene": 30, "eval/base_tokens_per_scene": 40]]).first)
        #expect(scenes.sentence == "With the hyperwords a held-out scene costs 30 tokens instead of 40 (−25.0 %).")
    }

    @Test func whichInitWonBeforeAndAfterTraining() throws {
        let params = Self.params(tiers: Array(repeating: "[\"core\"]", count: 3), init: ["mean", "random", "focus"])
        let values = [(1.85, 2.45), (2.10, 3.10), (1.80, 2.30)].map {
            ["eval/bits_per_byte": $0.0, "eval/extended_bits_per_byte": $0.1, "eval/base_bits_per_byte": 1.94]
        }
        let labels = ["init-mean", "init-random", "init-focus"]
        let finding = try #require(Self.findings(labels: labels, params: params, values: values).first)
        #expect(finding.topic == "ablation")
        #expect(finding.question == "Which extend.init won")
        #expect(finding.sentence == "extend.init = focus won: held-out bits per byte 1.8 after training (mean 1.85, random 2.1), "
            + "and it led before training too, at 2.3.")
        #expect(finding.basis == "eval/bits_per_byte (lower is better) of runs init-mean, init-random, init-focus, which differ only in "
            + "extend.init; before training: eval/extended_bits_per_byte.")
        // Mean starts best, focus ends best.
        let crossed = [(1.85, 2.20), (2.10, 3.10), (1.80, 2.30)].map { ["eval/bits_per_byte": $0.0, "eval/extended_bits_per_byte": $0.1] }
        let turn = try #require(Self.findings(labels: labels, params: params, values: crossed).first)
        #expect(turn.sentence == "extend.init = focus won: held-out bits per byte 1.8 after training (mean 1.85, random 2.1), "
            + "though before training mean led at 2.2 against 2.3.")
        let tie = try #require(Self.findings(labels: labels, params: params, values: Array(repeating: ["eval/bits_per_byte": 1.9], count: 3)).first)
        #expect(tie.sentence == "extend.init made no difference to held-out bits per byte: 1.9 with each of mean, random, focus.")
    }

    @Test func missingOrNonFiniteDataSaysNothing() {
        // No bits per byte, no books, no hyperword metrics: nothing to state.
        let values = Self.labels.map { _ in ["train/loss": 2.0] }
        #expect(Self.findings(params: Self.params(), values: values).isEmpty)
        let nan = [Double.nan, 1.3, .infinity].map { ["eval/bits_per_byte": $0] }
        // One finite value is no comparison.
        #expect(Self.findings(params: Self.params(), values: nan).isEmpty)
    }
}
