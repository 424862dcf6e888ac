// DegradedReportTests — the report when data is missing or odd: sections say what is missing instead
// of drawing, a single variant, equal values, NaN in a curve, a malformed or vanished
// generations.json, runs without metrics.
import Foundation
import FoundationXML
import Pipeline
@testable import Report
import TestSupport
import Testing

@Suite struct DegradedReportTests {
    @Test func sectionsSayWhatIsMissing() throws {
        let fixture = try SaturationStore()
        for index in fixture.runs.indices {
            try fixture.store.appendMetrics(run: fixture.runs[index].id, stage: "eval", [
                MetricPoint(key: "eval/bits_per_byte", step: 0, value: 1.5 + Double(index) / 10, time: 0),
            ])
        }
        let document = try fixture.document()
        func missing(_ section: String) throws -> [String] {
            try document.elements("section", where: "@id='\(section)'").first?.elements("p", where: "@class='missing'").compactMap(\.stringValue) ?? []
        }
        #expect(try missing("loss") == ["No loss curves: no run recorded a metric whose name contains \u{201C}loss\u{201D} at more than one step (train/loss, train/val_loss)."])
        #expect(try missing("saturation") == ["No curve: no run recorded both train/corpus_tokens and eval/bits_per_byte."])
        let notOnCurve = try document.elements("ul", where: "@class='missing-list'").first?.elements("li").compactMap(\.stringValue)
        #expect(notOnCurve == SaturationStore.variants.map { "Not on the curve: \($0): no train/corpus_tokens" })
        #expect(try missing("generations").first?.hasPrefix("No generations: no run recorded a generations.json") == true)
        #expect(try document.elements("polyline").isEmpty)
        // Without base metrics the eval section has one bar per run and no base column.
        #expect(try document.elements("section", where: "@id='eval'").first?.elements("h2").first?.stringValue == "Evaluation")
        #expect(try document.elements("rect").count == 3)
        #expect(try !document.elements("th").contains { $0.stringValue == "base" })
    }

    @Test func aSingleVariantIsOnePointWithANote() throws {
        let fixture = try SaturationStore(variants: ["core"])
        try fixture.logTraining(0, steps: 1, corpusTokens: 50_000, finalLoss: 2)
        try fixture.logEval(0, bitsPerByte: 1.4)
        let document = try fixture.document()
        let chart = try #require(try document.elements("figure", where: "contains(@class, 'saturation-chart')").first)
        #expect(try chart.elements("polyline").first?.attribute("points")?.split(separator: " ").count == 1)
        #expect(try chart.elements("circle").count == 1)
        #expect(try chart.elements("figcaption").first?.stringValue == "One variant only: a curve needs two or more.")
        // One step of train/loss is a number, not a curve; the params section knows there is nothing to compare.
        #expect(try document.elements("figure", where: "contains(@class, 'loss-chart')").isEmpty)
        #expect(try document.elements("section", where: "@id='params'").first?.elements("p").first?.stringValue == "One run: nothing to compare.")
        let numbers = try document.chartNumbers()
        #expect(numbers.count > 20 && numbers.allSatisfy { $0?.isFinite == true })
    }

    @Test func equalValuesAndNaNsDrawWithoutNonsense() throws {
        let fixture = try SaturationStore()
        for index in fixture.runs.indices {
            // A flat loss with a diverged step in the middle (SQLite stores ±inf; NaN cannot be stored);
            // equal eval values in every run.
            try fixture.store.appendMetrics(run: fixture.runs[index].id, stage: "train", (1...5).map {
                MetricPoint(key: "train/loss", step: $0, value: $0 == 3 ? .infinity : 2.0, time: 0)
            } + [MetricPoint(key: "train/corpus_tokens", step: 5, value: 1000, time: 0)])
            try fixture.logEval(index, bitsPerByte: 1.5, baseBitsPerByte: 1.5)
        }
        let report = try fixture.report()
        #expect(report.lossCurves.first?.nonFinitePoints == 3)
        let document = try XMLDocument(xmlString: HTMLReport.render(report), options: [])
        let numbers = try document.chartNumbers()
        #expect(numbers.count > 20 && numbers.allSatisfy { $0?.isFinite == true })
        let loss = try #require(try document.elements("figure", where: "@data-key='train/loss'").first)
        for line in try loss.elements("polyline") {
            let ys = Set((line.attribute("points") ?? "").split(separator: " ").map { $0.split(separator: ",")[1] })
            #expect(ys.count == 1)
        }
        #expect(try loss.elements("figcaption").first?.stringValue == "3 NaN or infinite values left out.")
        // Equal values everywhere: no best is marked, all bars equally tall.
        let bits = try #require(try document.elements("figure", where: "@data-key='eval/bits_per_byte'").first)
        #expect(Set(try bits.elements("rect").compactMap { $0.attribute("height") }).count == 1)
        #expect(try bits.elements("text", where: "contains(@class, 'best')").isEmpty)
        // Three variants on the same token count: points stacked at one x, still finite.
        let saturation = try #require(try document.elements("figure", where: "contains(@class, 'saturation-chart')").first)
        #expect(try saturation.elements("circle").count == 3)
    }

    @Test func aRunWithoutSomeMetricIsListedUnderTheChart() throws {
        let fixture = try SaturationStore()
        try fixture.logTraining(0, corpusTokens: 100_000, finalLoss: 2)
        try fixture.logEval(0, bitsPerByte: 1.4)
        try fixture.logTraining(1, corpusTokens: nil, finalLoss: 1.9)
        try fixture.logEval(1, bitsPerByte: 1.3)
        try fixture.logEval(2, bitsPerByte: 1.2)
        let report = try fixture.report()
        #expect(report.saturation.points.map(\.run) == [0])
        #expect(report.saturation.missing == ["core+orbit: no train/corpus_tokens", "core+orbit+fractal: no train/corpus_tokens"])
        let curve = try #require(report.lossCurves.first { $0.key == "train/loss" })
        #expect(curve.series.map(\.run) == [0, 1])
        #expect(curve.runsWithout == [2])
        let document = try XMLDocument(xmlString: HTMLReport.render(report), options: [])
        let loss = try #require(try document.elements("figure", where: "@data-key='train/loss'").first)
        #expect(try loss.elements("polyline", where: "@class='series raw'").count == 2)
        #expect(try loss.elements("polyline", where: "@class='series smoothed'").count == 2)
        #expect(try loss.elements("figcaption").first?.stringValue == "Not recorded by core+orbit+fractal.")
    }

    @Test func runsWithoutMetricsAreNamed() throws {
        let fixture = try SaturationStore()
        #expect(throws: ReportError.noMetrics(fixture.runs.map { "\($0.id) (saturation/\($0.variant), running)" })) {
            try fixture.report()
        }
        let error = ReportError.noMetrics(["4 (demo/core, failed)"])
        #expect(error.description == "no metrics recorded in run 4 (demo/core, failed) — nothing to report "
            + "(did the stages run? see `loom status RUN` and `loom logs RUN STAGE`)")
        try fixture.logEval(1, bitsPerByte: 1.3)
        let report = try fixture.report()
        #expect(report.runsWithoutMetrics == [0, 2])
        let document = try XMLDocument(xmlString: HTMLReport.render(report), options: [])
        let notices = try document.elements("p", where: "@class='notice'").compactMap(\.stringValue)
        #expect(notices == [
            "core (run \(fixture.runs[0].id), running) recorded no metrics: its columns are empty.",
            "core+orbit+fractal (run \(fixture.runs[2].id), running) recorded no metrics: its columns are empty.",
        ])
    }

    @Test func aBadGenerationsFileIsANoteNotAFailure() throws {
        let fixture = try SaturationStore.complete()
        try fixture.writeGenerations(1, json: #"[{"prompt": "p", "base": "b", "tuned": 3}]"#)
        try fixture.writeGenerations(2, json: "[{\"prompt\": ")
        let entry = fixture.store.layout.cacheEntry(try #require(try fixture.store.stage(run: fixture.runs[0].id, name: "eval")).fingerprint)
        let file = entry.appendingPathComponent("generations.json")
        try FileManager.default.removeItem(at: file)
        let report = try fixture.report()
        #expect(report.generations.rows.isEmpty)
        #expect(report.generations.problems.count == 3)
        #expect(report.generations.problems[0].hasPrefix("core: cannot read \(file.path) ("))
        #expect(report.generations.problems[0].hasSuffix("was the cache entry removed by `loom gc`?"))
        #expect(report.generations.problems[1].hasSuffix("generations.json: item 0: \"tuned\" must be a string"))
        #expect(report.generations.problems[2].contains("generations.json: invalid JSON at byte"))
        let document = try XMLDocument(xmlString: HTMLReport.render(report), options: [])
        let section = try #require(try document.elements("section", where: "@id='generations'").first)
        #expect(try section.elements("p", where: "@class='notice'").count == 3)
    }

    @Test func generationsLineUpByPromptAndSeed() {
        let rows = GenerationTable.lineUp([
            [Generation(prompt: "a", base: "A", tuned: "a0", seed: 1), Generation(prompt: "b", base: "B", tuned: "b0", seed: 1)],
            [Generation(prompt: "b", base: "B", tuned: "b1", seed: 1), Generation(prompt: "a", base: "A'", tuned: "a1", seed: 1)],
            [Generation(prompt: "a", base: "A", tuned: "a2", seed: 2)],
        ])
        #expect(rows.map(\.prompt) == ["a", "b", "a"])
        #expect(rows[0].tuned == ["a0", "a1", nil])
        #expect(rows[0].agreedBase == nil)
        #expect(rows[1].agreedBase == "B")
        #expect(rows[2].seed == 2)
        #expect(rows[2].tuned == [nil, nil, "a2"])
    }
}
