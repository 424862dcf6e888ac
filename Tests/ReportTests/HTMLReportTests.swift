// HTMLReportTests — `loom report`'s page from a real store, parsed as XML: every section, one loss
// polyline per run with every step, base and tuned bars, the saturation curve in token order with
// the base model's dashed line, generations side by side, hostile text escaped and round-tripping,
// the same bytes for the same store, and atomic writes.
import Foundation
import FoundationXML
import Pipeline
import Report
import TestSupport
import Testing

@Suite struct HTMLReportTests {
    @Test func thePageIsWellFormedXMLWithEverySection() throws {
        let fixture = try SaturationStore.complete()
        let document = try fixture.document()
        let sections = try document.elements("section").compactMap { $0.attribute("id") }
        #expect(sections == ["findings", "runs", "params", "metrics", "loss", "eval", "saturation", "generations"])
        let title = try #require(try document.elements("title").first?.stringValue)
        #expect(title == "Loom report · saturation")
        let meta = try #require(try document.elements("p", where: "@class='meta'").first?.stringValue)
        let ids = fixture.runs.map { String($0.id) }.joined(separator: ", ")
        #expect(meta.hasPrefix("runs \(ids) · created "))
        #expect(meta.hasSuffix(" UTC"))
        // Self-contained: one inline script, no external resources.
        #expect(try document.elements("script").map { $0.attribute("src") } == [nil])
        #expect(try document.elements("link").isEmpty)
        #expect(try document.nodes(forXPath: "//@src | //@href").isEmpty)
        // Every chart coordinate is a finite number.
        let numbers = try document.chartNumbers()
        #expect(numbers.count > 500)
        #expect(numbers.allSatisfy { $0?.isFinite == true })
    }

    @Test func paramsThatDifferAndTheMetricTableWithBaseAndBest() throws {
        let document = try SaturationStore.complete().document()
        let params = try #require(try document.elements("section", where: "@id='params'").first)
        let rows = try params.elements("tr").dropFirst().map { try $0.elements("td").map { $0.stringValue ?? "" } }
        #expect(rows == [["train.tiers", "core", "core+orbit", "core+orbit+fractal"]])

        let metrics = try #require(try document.elements("section", where: "@id='metrics'").first)
        let heads = try metrics.elements("th").map { $0.stringValue ?? "" }
        #expect(heads == ["stage", "metric", "goal", "base", "core #1", "core+orbit #2", "core+orbit+fractal #3"])
        let bitsPerByte = try #require(try metrics.elements("tr").first { try $0.elements("td").dropFirst().first?.stringValue == "eval/bits_per_byte" })
        let cells = try bitsPerByte.elements("td")
        #expect(cells[3].stringValue == "1.62")
        #expect(cells[6].attribute("class") == "num best")
        #expect(cells[6].stringValue?.hasPrefix("1.25 ★") == true)
        #expect(cells[4].stringValue == "1.45−0.17 vs base")
        // The base rows are folded into the base column.
        #expect(try metrics.elements("td").allSatisfy { !($0.stringValue ?? "").hasPrefix("eval/base_") })
    }

    @Test func lossChartsHaveOnePolylinePerRunWithEveryStep() throws {
        let document = try SaturationStore.complete().document()
        let loss = try #require(try document.elements("figure", where: "@data-key='train/loss'").first)
        let lines = try loss.elements("polyline", where: "@class='series raw'")
        #expect(lines.map { $0.attribute("data-series") } == SaturationStore.variants)
        for line in lines {
            let points = (line.attribute("points") ?? "").split(separator: " ")
            #expect(points.count == 40)
            let xs = points.map { Double($0.split(separator: ",")[0])! }
            #expect(xs == xs.sorted())
        }
        let validation = try #require(try document.elements("figure", where: "@data-key='train/val_loss'").first)
        #expect(try validation.elements("polyline").map { ($0.attribute("points") ?? "").split(separator: " ").count } == [4, 4, 4, 4, 4, 4])
        // Logged once, eval/loss is a number in the table, not a curve.
        #expect(try document.elements("figure", where: "@data-key='eval/loss' and contains(@class, 'loss-chart')").isEmpty)
        let legend = try loss.elements("g", where: "@class='legend-entry'").map { $0.stringValue }
        #expect(legend == SaturationStore.variants)
        let ticks = try loss.elements("g", where: "@class='axis x-axis'").first?.elements("text").map { $0.stringValue ?? "" } ?? []
        #expect(ticks.contains("step"))
        #expect(ticks.count >= 3)
    }

    @Test func evalBarsPairTheBaseModelWithEachTunedRun() throws {
        let document = try SaturationStore.complete().document()
        let section = try #require(try document.elements("section", where: "@id='eval'").first)
        #expect(try section.elements("h2").first?.stringValue == "Evaluation: base vs tuned")
        let keys = try section.elements("figure").compactMap { $0.attribute("data-key") }
        #expect(keys == ["eval/bits_per_byte", "eval/bytes_per_token", "eval/kl_base_tuned", "eval/loss", "eval/perplexity",
                         "eval/tokens_per_word", "eval/top1_agreement"])
        let bits = try #require(try section.elements("figure", where: "@data-key='eval/bits_per_byte'").first)
        let groups = try bits.elements("g", where: "@class='bar-group'")
        #expect(groups.compactMap { $0.attribute("data-group") } == SaturationStore.variants)
        for group in groups {
            #expect(try group.elements("rect").compactMap { $0.attribute("data-series") } == ["base model", "tuned"])
        }
        let best = try bits.elements("text", where: "contains(@class, 'best')").map { $0.stringValue }
        #expect(best == ["1.25 ★"])
        // No base counterpart, unranked: one bar per run and no star.
        let agreement = try #require(try section.elements("figure", where: "@data-key='eval/top1_agreement'").first)
        #expect(try agreement.elements("rect").count == 3)
        #expect(try agreement.elements("text", where: "contains(@class, 'best')").isEmpty)
    }

    @Test func theSaturationCurveRunsInTokenOrderAboveTheBaseLine() throws {
        let fixture = try SaturationStore.complete()
        let document = try fixture.document()
        let chart = try #require(try document.elements("figure", where: "contains(@class, 'saturation-chart')").first)
        let line = try #require(try chart.elements("polyline").first)
        let points = (line.attribute("points") ?? "").split(separator: " ").map { pair in pair.split(separator: ",").map { Double($0)! } }
        #expect(points.count == 3)
        #expect(points.map { $0[0] } == points.map { $0[0] }.sorted())
        // Bits per byte fall as tokens grow: pixel y grows downwards.
        #expect(points.map { $0[1] } == points.map { $0[1] }.sorted())
        #expect(try chart.elements("circle").count == 3)
        #expect(try chart.elements("text", where: "@class='point-label'").map { $0.stringValue } == SaturationStore.variants)
        let reference = try #require(try chart.elements("line", where: "@class='reference'").first)
        #expect(reference.attribute("stroke-dasharray") != nil)
        // The base model (1.62) is worse than every tuned run: its line lies above every point.
        let baseY = try #require(Double(reference.attribute("y1") ?? ""))
        #expect(points.allSatisfy { $0[1] > baseY })
        #expect(try chart.elements("text", where: "@class='reference-label'").first?.stringValue == "base model 1.62")
        // Tokens span 100×: the axis is logarithmic.
        #expect(try chart.elements("text", where: "@class='axis-title'").contains { $0.stringValue?.hasSuffix("(log scale)") == true })
        let table = try #require(try document.elements("table", where: "@class='saturation'").first)
        #expect(try table.elements("tr").dropFirst().map { try $0.elements("td").map { $0.stringValue ?? "" } } == [
            ["core", "120000", "1.45", "−0.17"], ["core+orbit", "1150000", "1.36", "−0.26"], ["core+orbit+fractal", "11800000", "1.25", "−0.37"],
        ])
    }

    @Test func generationsStandSideBySide() throws {
        let document = try SaturationStore.complete().document()
        let cards = try document.elements("div", where: "@class='generation'")
        #expect(cards.count == 2)
        let first = cards[0]
        #expect(try first.elements("h3").first?.stringValue == "Prompt 1 · seed 7")
        #expect(try first.elements("pre", where: "@class='prompt'").first?.stringValue == "Жизнь — это")
        let heads = try first.elements("div", where: "@class='output-head'").map { $0.stringValue ?? "" }
        #expect(heads == ["base model", "tuned · core", "tuned · core+orbit", "tuned · core+orbit+fractal"])
        let outputs = try first.elements("div", where: "contains(@class, 'output ') or @class='output'").map {
            try $0.elements("pre").first?.stringValue ?? ""
        }
        #expect(outputs == ["Жизнь — это то, что случается.", "Жизнь — это вариант 0.", "Жизнь — это вариант 1.", "Жизнь — это вариант 2."])
    }

    static let hostile = [
        "<script>alert(\"x\")</script> & 'quotes'",
        "Привет, мир — ёлка 🚀🎄",
        "tab\tnew\nline &amp; already-escaped &lt;b&gt;",
    ]

    @Test func textFromParamsAndGenerationsIsEscapedAndRoundTrips() throws {
        let generations = Self.hostile.map { Generation(prompt: $0, base: "base: " + $0, tuned: "tuned: " + $0, seed: 1) }
        let fixture = try SaturationStore.complete(notes: Self.hostile, generations: generations)
        let html = HTMLReport.render(try fixture.report())
        // The page's own script is the only one.
        #expect(html.components(separatedBy: "<script>").count == 2)
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"))
        let document = try XMLDocument(xmlString: html, options: [])
        let params = try #require(try document.elements("section", where: "@id='params'").first)
        let note = try #require(try params.elements("tr").first { try $0.elements("td").first?.stringValue == "train.note" })
        #expect(try note.elements("td").dropFirst().map { $0.stringValue } == Self.hostile)
        let prompts = try document.elements("pre", where: "@class='prompt'").map { $0.stringValue }
        #expect(prompts == Self.hostile)
        let texts = Set(try document.elements("pre").compactMap(\.stringValue))
        for text in Self.hostile { #expect(texts.contains("tuned: " + text)) }
    }

    @Test func charactersXMLCannotCarryAreReplaced() throws {
        let raw = "bell\u{7} nul\u{0} escape\u{1B}[31m fine"
        #expect(Markup.escape(raw) == "bell\u{FFFD} nul\u{FFFD} escape\u{FFFD}[31m fine")
        let fixture = try SaturationStore.complete(generations: [Generation(prompt: raw, base: "b", tuned: "t", seed: nil)])
        let document = try fixture.document()
        #expect(try document.elements("pre", where: "@class='prompt'").first?.stringValue == Markup.escape(raw))
        #expect(try document.elements("h3").contains { $0.stringValue == "Prompt 1" })
    }

    @Test func theSameStoreGivesTheSameBytes() throws {
        let fixture = try SaturationStore.complete()
        let first = HTMLReport.render(try fixture.report())
        let reopened = try RunStore(home: fixture.store.layout.home)
        let again = HTMLReport.render(try RunReport(store: reopened, runs: fixture.runs, goals: fixture.metricsGoals))
        #expect(first == again)
    }

    @Test func writingReplacesTheFileAtomically() throws {
        let fixture = try SaturationStore.complete()
        let out = fixture.scratch.path("report.html")
        try "old report".write(to: out, atomically: true, encoding: .utf8)
        let bytes = try HTMLReport.write(try fixture.report(), to: out)
        let written = try Data(contentsOf: out)
        #expect(written.count == bytes)
        #expect(String(decoding: written, as: UTF8.self) == HTMLReport.render(try fixture.report()))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.scratch.url.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func anUnwritableDestinationIsAClearError() throws {
        let fixture = try SaturationStore.complete()
        let report = try fixture.report()
        let missing = fixture.scratch.path("no/such/dir/report.html")
        #expect(throws: ReportError.cannotWrite(path: missing.path, reason: "the directory \(missing.deletingLastPathComponent().path) does not exist")) {
            try HTMLReport.write(report, to: missing)
        }
        let directory = fixture.scratch.path("runs")
        let error = try #require(throws: ReportError.self) { try HTMLReport.write(report, to: directory) }
        #expect(error.description.hasPrefix("cannot write the report to \(directory.path): it is a directory"))
        let file = fixture.scratch.path("plain.txt")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        let underFile = try #require(throws: ReportError.self) { try HTMLReport.write(report, to: file.appendingPathComponent("r.html")) }
        #expect(underFile.description.hasSuffix("\(file.path) is not a directory"))
        // A directory nobody may write to (root ignores permission bits, but not sysfs's).
        let locked = fixture.scratch.path("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: locked.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: locked.path) }
        let unwritable = (geteuid() == 0 ? URL(fileURLWithPath: "/sys") : locked).appendingPathComponent("r.html")
        let denied = try #require(throws: ReportError.self) { try HTMLReport.write(report, to: unwritable) }
        #expect(denied.description == "cannot write the report to \(unwritable.path): Permission denied")
    }
}
