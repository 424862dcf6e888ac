// BooksSaturationTests — the saturation curve by number of books: runs of one count (a sweep's seeds)
// pooled into their mean and spread, KL from the base averaged, where saturation begins by the printed
// definition, and the report's section with its error bars, read back from a real run store.
import Foundation
import FoundationXML
import Report
import Testing

@Suite struct BooksSaturationTests {
    @Test func seedsArePooledAndSaturationIsWhereTheGainFallsBelowATenth() {
        // books 1, 3, 10, 30 with three seeds each: means 2.0, 1.5, 1.46, 1.455 — the first step gains 0.5,
        // the second 0.04 < 0.05: saturation begins at 3 books.
        let means = [1.0: 2.0, 3.0: 1.5, 10.0: 1.46, 30.0: 1.455]
        var values: [[String: Double]] = []
        for (books, mean) in means.sorted(by: { $0.key < $1.key }) {
            for offset in [-0.01, 0, 0.01] {
                values.append(["train/books": books, "eval/bits_per_byte": mean + offset, "eval/kl_base_tuned": books / 100,
                               "eval/base_bits_per_byte": 2.4])
            }
        }
        values.append(["eval/bits_per_byte": 1.0])  // no books recorded: not on the curve
        let curve = BooksSaturation(values: values)
        #expect(curve.points.map(\.books) == [1, 3, 10, 30] && curve.points.allSatisfy { $0.runs.count == 3 })
        for point in curve.points {
            #expect(abs(point.meanBitsPerByte - means[point.books]!) < 1e-12)
            #expect(abs(point.maxBitsPerByte - point.minBitsPerByte - 0.02) < 1e-12)
            #expect(abs(point.meanKL! - point.books / 100) < 1e-12)
        }
        #expect(curve.baseBitsPerByte == 2.4 && curve.saturationBooks == 3)
        #expect(BooksSaturation(values: Array(values.prefix(6))).saturationBooks == nil, "two counts cannot show saturation")
    }

    @Test func theReportDrawsTheCurveWithItsSpreadAndSaysWhereItSaturates() throws {
        let fixture = try SaturationStore()
        for (index, books) in [1.0, 10, 100].enumerated() {
            try fixture.logTraining(index, corpusTokens: books * 1000, finalLoss: 2)
            try fixture.logEval(index, bitsPerByte: [1.6, 1.3, 1.29][index], extra: ["train/books": books])
        }
        try fixture.finishRuns()
        let document = try fixture.document()
        let section = try #require(try document.elements("section", where: "@id='books'").first)
        let figures = try section.elements("figure")
        #expect(figures.map { $0.attribute("class") } == ["chart books-chart", "chart books-kl-chart"])
        for figure in figures {
            #expect(try figure.elements("path").filter { $0.attribute("class") == "error-bar" }.count == 3)
        }
        // The KL chart draws each count's mean KL (0.3, 0.4, 0.5 here) on the same log axis of books.
        #expect(figures.last?.stringValue?.contains("KL from the base against books") == true, "\(figures.last?.stringValue ?? "")")
        #expect(section.stringValue?.contains("Saturation begins at 10 books.") == true, "\(section.stringValue ?? "")")
        #expect(section.stringValue?.contains(BooksSaturation.definition) == true)
    }

    @Test func aRunThatDiffersInMoreThanTiersBooksAndSeedsIsNotPooledAsASeed() throws {
        // Three tier sets (1, 10, 100 books) and, on the first, a variant with another note (an init, say).
        let fixture = try SaturationStore(variants: ["a", "b", "c", "a-other"], notes: ["x", "x", "x", "y"], tiers: ["a", "b", "c", "a"])
        for (index, (books, bitsPerByte)) in [(1.0, 1.6), (10, 1.3), (100, 1.29), (1, 2.4)].enumerated() {
            try fixture.logEval(index, bitsPerByte: bitsPerByte, extra: ["train/books": books])
        }
        let report = try fixture.report()
        #expect(report.booksSaturation.points.map(\.runs) == [[0], [1], [2]])
        #expect(report.booksSaturation.points[0].meanBitsPerByte == 1.6)
        #expect(report.booksLeftOff == [3])
        let document = try XMLDocument(xmlString: HTMLReport.render(report), options: [])
        let section = try #require(try document.elements("section", where: "@id='books'").first)
        #expect(try section.elements("p", where: "@class='hint'").last?.stringValue
            == "Left off the curve: a-other — it differs from its runs in more than the tier set, the book count and seeds.")
        #expect(try document.elements("li", where: "@data-topic='saturation'").first?.elements("span", where: "@class='answer'").first?.stringValue
            == "Saturation begins at 10 books: going on to 100 lowers mean held-out bits per byte by 0.01, less than a tenth of the first step's 0.3 (1 → 10 books).")
    }
}
