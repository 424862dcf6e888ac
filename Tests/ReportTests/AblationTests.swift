// AblationTests — runs grouped into ablations: by every parameter but one, with the tier set, the book
// count and seeds never a factor; a parameter one run lacks counts as a difference; runs that differ in
// two parameters are no ablation; values read as the page writes them.
import Report
import Testing

@Suite struct AblationTests {
    /// Canonical JSON by `stage.key`, as the run store keeps parameters.
    static func run(tiers: String, init initialiser: String, extra: [String: String] = [:]) -> [String: String] {
        ["corpus.tiers": "[{\"name\":\"core\"}]", "train.steps": "150", "train.tiers": tiers, "extend.init": "\"\(initialiser)\""]
            .merging(extra) { _, new in new }
    }

    @Test func runsDifferingOnlyInOneParameterFormAnAblationPerSetting() {
        let params = [
            Self.run(tiers: "[\"core\"]", init: "mean"), Self.run(tiers: "[\"core\"]", init: "random"),
            Self.run(tiers: "[\"core\"]", init: "focus"), Self.run(tiers: "[\"core\",\"orbit\"]", init: "mean"),
            Self.run(tiers: "[\"core\",\"orbit\"]", init: "random"),
        ]
        // extend.init once per tier set; train.tiers is no factor (the tier finding reads it).
        #expect(Ablation.find(params: params) == [
            Ablation(parameter: "extend.init", runs: [0, 1, 2], values: ["\"mean\"", "\"random\"", "\"focus\""]),
            Ablation(parameter: "extend.init", runs: [3, 4], values: ["\"mean\"", "\"random\""]),
        ])
        // Asked for explicitly, the tier groups are the runs of one init each; focus has no partner.
        #expect(Ablation.groups(params: params, factor: "train.tiers") == [
            Ablation(parameter: "train.tiers", runs: [0, 3], values: ["[\"core\"]", "[\"core\",\"orbit\"]"]),
            Ablation(parameter: "train.tiers", runs: [1, 4], values: ["[\"core\"]", "[\"core\",\"orbit\"]"]),
        ])
    }

    @Test func sweepsAndSeedsAreNoFactorsAndTwoDifferencesAreNoAblation() {
        // A books sweep: counts and seeds differ, nothing else.
        let sweep = [(1, 0), (1, 1), (3, 0), (3, 1)].map { books, seed in
            Self.run(tiers: "[]", init: "mean", extra: ["train.books": String(books), "train.books_seed": String(seed), "eval.seed": "0"])
        }
        #expect(Ablation.find(params: sweep).isEmpty)
        #expect(!Ablation.isFactor("train.tiers") && !Ablation.isFactor("train.books") && !Ablation.isFactor("train.books_seed"))
        #expect(!Ablation.isFactor("eval.seed") && Ablation.isFactor("hyperwords.ranking") && Ablation.isFactor("train.seed_text"))
        // Init and ranking both differ: neither run is the other's ablation.
        let two = [Self.run(tiers: "[\"core\"]", init: "mean", extra: ["hyperwords.ranking": "\"bytes\""]),
                   Self.run(tiers: "[\"core\"]", init: "focus", extra: ["hyperwords.ranking": "\"meaning\""])]
        #expect(Ablation.find(params: two).isEmpty)
        // One run alone, or runs that agree everywhere, make none either.
        #expect(Ablation.find(params: [two[0]]).isEmpty)
        #expect(Ablation.find(params: [two[0], two[0]]).isEmpty)
    }

    @Test func aParameterOnlyOneRunHasIsTheDifference() {
        let params = [Self.run(tiers: "[\"core\"]", init: "mean"),
                      Self.run(tiers: "[\"core\"]", init: "mean", extra: ["train.synthetic_share": "0.5"])]
        let ablations = Ablation.find(params: params)
        #expect(ablations == [Ablation(parameter: "train.synthetic_share", runs: [0, 1], values: [nil, "0.5"])])
        #expect(ablations[0].values.map(Ablation.text) == ["not set", "0.5"])
    }

    @Test func valuesReadAsThePageWritesThem() {
        #expect(Ablation.text("\"first-last\"") == "first-last")
        #expect(Ablation.text("[\"core\",\"orbit\"]") == "core+orbit")
        #expect(Ablation.text("[]") == "none")
        #expect(Ablation.text("[\"books/core\",\"books/orbit\"]") == "books/core, books/orbit")
        #expect(Ablation.text("8") == "8")
        #expect(Ablation.text("{\"rank\":8}") == "{\"rank\":8}")
        #expect(Ablation.text(nil) == "not set")
    }
}
