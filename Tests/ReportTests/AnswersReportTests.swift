// AnswersReportTests — the page's answers from a real run store: the findings open the page with their
// sentences and bases, an ablation's runs stand side by side with the base model's row, ★ per metric and
// the winner, and a page without anything to find says what findings need.
import Foundation
import FoundationXML
import Pipeline
@testable import Report
import TestSupport
import Testing

@Suite struct AnswersReportTests {
    @Test func theFindingsOpenThePage() throws {
        let document = try SaturationStore.complete().document()
        let first = try #require(try document.elements("section").first)
        #expect(first.attribute("id") == "findings")
        let items = try first.elements("li", where: "@class='finding'")
        #expect(items.map { $0.attribute("data-topic") } == ["tiers"])
        let parts = try items[0].elements("span").map { $0.stringValue ?? "" }
        #expect(parts == [
            "Which tier set helped most. ",
            "Training on core+orbit+fractal helped most: held-out bits per byte 1.25 against the base model's 1.62 (−0.37, −22.8 %); "
                + "core 1.45, core+orbit 1.36.",
            "Basis: eval/bits_per_byte of runs core, core+orbit, core+orbit+fractal, which differ only in train.tiers, against eval/base_bits_per_byte.",
        ])
    }

    /// Three variants on the same tiers that differ only in `train.note` (the stand-in for an init).
    static func initAblation() throws -> SaturationStore {
        let fixture = try SaturationStore(variants: ["init-mean", "init-random", "init-focus"], notes: ["mean", "random", "focus"],
                                          tiers: ["core", "core", "core"])
        for (index, (after, before)) in [(1.85, 2.45), (2.10, 3.10), (1.80, 2.30)].enumerated() {
            try fixture.logTraining(index, corpusTokens: 120_000, finalLoss: 2)
            try fixture.logEval(index, bitsPerByte: after, baseBitsPerByte: 1.94, extra: ["eval/extended_bits_per_byte": before])
        }
        try fixture.finishRuns()
        return fixture
    }

    @Test func anAblationStandsSideBySideWithItsWinner() throws {
        let fixture = try Self.initAblation()
        let report = try fixture.report()
        #expect(report.ablations == [Ablation(parameter: "train.note", runs: [0, 1, 2], values: ["\"mean\"", "\"random\"", "\"focus\""])])
        let document = try XMLDocument(xmlString: HTMLReport.render(report), options: [])
        #expect(try document.elements("section").compactMap { $0.attribute("id") }.prefix(5) == ["findings", "runs", "params", "metrics", "ablations"])
        let block = try #require(try document.elements("div", where: "@class='ablation'").first)
        #expect(block.attribute("data-parameter") == "train.note")
        let heads = try block.elements("th").map { $0.stringValue ?? "" }
        #expect(heads == ["train.note", "run", "eval/extended_bits_per_byte ↓before training", "eval/bits_per_byte ↓held-out",
                          "eval/tokens_per_word ↓"])
        let rows = try block.elements("tr").dropFirst().map { try $0.elements("td").map { $0.stringValue ?? "" } }
        // The base model's bits per byte before training and after are the same number; the tokens per word
        // are equal in every run, so no ★ there.
        #expect(rows == [
            ["base model", "", "1.94", "1.94", "2.02"],
            ["mean", "init-mean", "2.45", "1.85", "1.31"],
            ["random", "init-random", "3.1", "2.1", "1.31"],
            ["focus", "init-focus", "2.3 ★", "1.8 ★", "1.31"],
        ])
        #expect(try block.elements("p", where: "@class='winner'").first?.stringValue
            == "Winner on held-out eval/bits_per_byte (lower is better): train.note = focus (init-focus).")
        let finding = try #require(try document.elements("li", where: "@data-topic='ablation'").first)
        #expect(try finding.elements("span", where: "@class='answer'").first?.stringValue
            == "train.note = focus won: held-out bits per byte 1.8 after training (mean 1.85, random 2.1), and it led before training too, at 2.3.")
        // All on core: no tier finding.
        #expect(try document.elements("li", where: "@data-topic='tiers'").isEmpty)
    }

    @Test func withNothingToFindThePageSaysWhatFindingsNeed() throws {
        let fixture = try SaturationStore(variants: ["core"])
        try fixture.logTraining(0, corpusTokens: 1000, finalLoss: 2)
        let document = try fixture.document()
        let section = try #require(try document.elements("section", where: "@id='findings'").first)
        #expect(try section.elements("p", where: "@class='missing'").first?.stringValue?.hasPrefix("No findings: they need runs that differ only in train.tiers") == true)
        #expect(try document.elements("section", where: "@id='ablations'").isEmpty)
    }
}
