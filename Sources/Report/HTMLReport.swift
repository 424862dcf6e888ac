// HTMLReport — `loom report` as one self-contained page: inline CSS and SVG charts, one inline script
// (the smoothing slider; the page reads fully without it), no network, and well-formed XML (an XHTML
// polyglot) so tools and tests can parse it. The same store gives the same bytes: the only times on the
// page are the runs' own.
import Foundation
import LoomCore
import Pipeline

public enum HTMLReport {
    /// The page for `report`.
    public static func render(_ report: RunReport) -> String {
        var page = Markup()
        page.raw("<!DOCTYPE html>\n")
        page.open("html", [("xmlns", "http://www.w3.org/1999/xhtml"), ("lang", "en"), ("xml:lang", "en")])
        page.element("head") { head in
            head.empty("meta", [("charset", "utf-8")])
            head.empty("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")])
            head.element("title", text: title(report))
            head.element("style") { $0.raw(ReportStylesheet.css) }
        }
        page.newline()
        page.element("body") { body in
            body.element("main") { main in
                header(report, &main)
                findingsSection(report, &main)
                runsSection(report, &main)
                paramsSection(report, &main)
                metricsSection(report, &main)
                if !report.ablations.isEmpty { ablationsSection(report, &main) }
                lossSection(report, &main)
                evalSection(report, &main)
                saturationSection(report, &main)
                if !report.booksSaturation.points.isEmpty { booksSection(report, &main) }
                generationsSection(report, &main)
                main.element("footer", text: "Written by loom \(LoomVersion.string) from its run store. "
                    + "This file is self-contained: one inline script (the smoothing slider), no network.")
            }
            script(&body)
        }
        page.close("html")
        page.newline()
        return page.text
    }

    /// Renders and writes the page atomically (readers see the old file or the new one); returns its size.
    @discardableResult
    public static func write(_ report: RunReport, to url: URL) throws -> Int {
        let data = Data(render(report).utf8)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw ReportError.cannotWrite(path: url.path, reason: "the directory \(directory.path) does not exist")
        }
        guard isDirectory.boolValue else {
            throw ReportError.cannotWrite(path: url.path, reason: "\(directory.path) is not a directory")
        }
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ReportError.cannotWrite(path: url.path, reason: "it is a directory (name a file, e.g. \(url.appendingPathComponent("report.html").path))")
        }
        do {
            try AtomicFile.write(data, to: url)
        } catch let error as AtomicFile.WriteError {
            throw ReportError.cannotWrite(path: url.path, reason: error.reason)
        }
        return data.count
    }

    static func title(_ report: RunReport) -> String {
        var recipes: [String] = []
        for run in report.runs where !recipes.contains(run.recipe) { recipes.append(run.recipe) }
        return "Loom report · " + recipes.joined(separator: ", ")
    }

    static func date(_ time: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: time)) + " UTC"
    }

    static func duration(_ run: RunRecord) -> String {
        guard let start = run.startedAt, let end = run.finishedAt else { return "–" }
        return seconds(end - start)
    }

    static func seconds(_ value: Double) -> String {
        guard value >= 0.5 else { return "under a second" }
        let seconds = Int(value.rounded())
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(seconds % 60) s" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    // MARK: sections

    static func header(_ report: RunReport, _ out: inout Markup) {
        out.element("header") { header in
            header.element("h1", text: title(report))
            let times = report.runs.map(\.createdAt)
            let created = times.min().map { low in
                let high = times.max()!
                return date(low) == date(high) ? date(low) : "\(date(low)) – \(date(high))"
            } ?? ""
            header.element("p", [("class", "meta")],
                           text: "run\(report.runs.count == 1 ? "" : "s") \(report.runs.map { String($0.id) }.joined(separator: ", ")) · created \(created)")
            for index in report.runsWithoutMetrics {
                let run = report.runs[index]
                header.element("p", [("class", "notice")],
                               text: "\(report.labels[index]) (run \(run.id), \(run.status.rawValue)) recorded no metrics: its columns are empty.")
            }
        }
    }

    static func section(_ id: String, _ heading: String, _ out: inout Markup, _ body: (inout Markup) -> Void) {
        out.newline()
        out.element("section", [("id", id)]) { section in
            section.element("h2", text: heading)
            body(&section)
        }
    }

    static func missing(_ text: String, _ out: inout Markup) {
        out.element("p", [("class", "missing")], text: text)
    }

    static func swatch(_ index: Int, _ out: inout Markup) {
        out.element("span", [("class", "swatch"), ("style", "background:\(ChartPalette.run(index))")], text: "")
    }

    /// A header cell per run: colour, label, id.
    static func runHeads(_ report: RunReport, _ out: inout Markup) {
        for (index, run) in report.runs.enumerated() {
            out.element("th", [("class", "num run-head")]) { th in
                swatch(index, &th)
                th.text(report.labels[index])
                th.element("span", [("class", "run-id")], text: " #\(run.id)")
            }
        }
    }

    static func runsSection(_ report: RunReport, _ out: inout Markup) {
        section("runs", "Runs", &out) { section in
            section.element("table", [("class", "runs")]) { table in
                table.element("thead") { head in
                    head.element("tr") { row in
                        for title in ["run", "id", "recipe", "variant", "status", "created", "duration", "commit"] {
                            row.element("th", text: title)
                        }
                    }
                }
                table.element("tbody") { body in
                    for (index, run) in report.runs.enumerated() {
                        body.element("tr") { row in
                            row.element("td") { cell in
                                swatch(index, &cell)
                                cell.text(report.labels[index])
                            }
                            row.element("td", [("class", "num")], text: String(run.id))
                            row.element("td", text: run.recipe)
                            row.element("td", text: run.variant.isEmpty ? "–" : run.variant)
                            row.element("td", [("class", "status-\(run.status.rawValue)")], text: run.status.rawValue)
                            row.element("td", text: date(run.createdAt))
                            row.element("td", text: runDuration(report, index))
                            row.element("td", [("class", "mono")], text: run.gitCommit.map { String($0.prefix(12)) } ?? "–")
                        }
                    }
                }
            }
            provenanceNotes(report, &section)
        }
    }

    static func paramsSection(_ report: RunReport, _ out: inout Markup) {
        section("params", "Parameters that differ", &out) { section in
            let params = report.comparison.params
            guard !params.isEmpty else {
                missing(report.runs.count == 1 ? "One run: nothing to compare." : "All runs have the same parameters.", &section)
                return
            }
            section.element("table", [("class", "params")]) { table in
                table.element("thead") { head in
                    head.element("tr") { row in
                        row.element("th", text: "parameter")
                        runHeads(report, &row)
                    }
                }
                table.element("tbody") { body in
                    for param in params {
                        body.element("tr") { row in
                            row.element("td", [("class", "mono")], text: param.name)
                            for value in param.values {
                                row.element("td", [("class", "value")], text: value.map(paramText) ?? "–")
                            }
                        }
                    }
                }
            }
        }
    }

    /// A list (input paths, tiers) one item per line; anything else as `loom compare` shows it.
    static func paramText(_ display: String) -> String {
        guard display.hasPrefix("["), let items = (try? JSONValue.parse(display))?.arrayValue,
              items.allSatisfy({ $0.arrayValue == nil && $0.objectValue == nil })
        else { return display }
        return items.map(\.displayText).joined(separator: "\n")
    }

    static func metricsSection(_ report: RunReport, _ out: inout Markup) {
        section("metrics", "Final metrics", &out) { section in
            let comparison = report.comparison
            guard !comparison.metrics.isEmpty else {
                missing("No metrics recorded.", &section)
                return
            }
            let hasBase = comparison.metrics.contains { $0.base != nil }
            section.element("p", [("class", "hint")],
                            text: "The value at each metric's last step. ★ best run (↓ lower is better, ↑ higher is better)"
                                + (hasBase ? "; base: the base model before tuning, on the same text." : "."))
            metricsTable(report, comparison.distinctMetrics, hasBase: hasBase, &section)
            let shared = comparison.sharedMetrics
            guard !shared.isEmpty else { return }
            // Stages every run shares computed once: their metrics are equal in all runs, so they are
            // folded away from the rows that tell the runs apart.
            section.element("details", [("class", "shared-metrics")]) { details in
                details.element("summary", text: "\(shared.count) metrics of the stages all runs share (\(comparison.sharedStages.joined(separator: ", "))) — equal in every run")
                metricsTable(report, shared, hasBase: hasBase, &details)
            }
        }
    }

    private static func metricsTable(_ report: RunReport, _ rows: [RunComparison.MetricRow], hasBase: Bool, _ out: inout Markup) {
        guard !rows.isEmpty else { return }
        out.element("table", [("class", "metrics")]) { table in
            table.element("thead") { head in
                head.element("tr") { row in
                    row.element("th", text: "stage")
                    row.element("th", text: "metric")
                    row.element("th", text: "goal")
                    if hasBase { row.element("th", [("class", "num base")], text: "base") }
                    runHeads(report, &row)
                }
            }
            table.element("tbody") { body in
                for metric in rows {
                    body.element("tr") { row in
                        row.element("td", text: metric.stage)
                        row.element("td", [("class", "mono")], text: metric.key)
                        row.element("td", [("class", "goal")], text: metric.goal.symbol)
                        if hasBase {
                            row.element("td", [("class", "num base")], text: metric.base.map(RunComparison.number) ?? "")
                        }
                        for (index, value) in metric.values.enumerated() {
                            let best = metric.best == index
                            row.element("td", [("class", best ? "num best" : "num")]) { cell in
                                cell.text(value.map { RunComparison.number($0) + (best ? " ★" : "") } ?? "–")
                                if let value, let base = metric.base {
                                    let delta = value - base
                                    cell.element("span", [("class", "delta")],
                                                 text: "\(delta < 0 ? "−" : "+")\(ChartScale.short(abs(delta))) vs base")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func lossSection(_ report: RunReport, _ out: inout Markup) {
        section("loss", "Training loss", &out) { section in
            guard !report.lossCurves.isEmpty else {
                missing("No loss curves: no run recorded a metric whose name contains \u{201C}loss\u{201D} at more than one step "
                    + "(train/loss, train/val_loss).", &section)
                return
            }
            smoothingControl(report, &section)
            for curve in report.lossCurves {
                section.element("figure", [("class", "chart loss-chart"), ("data-key", curve.key)]) { figure in
                    figure.element("h3", [("class", "mono")], text: curve.key)
                    var chart = LineChart(
                        title: "\(curve.key) by step", xLabel: "step", yLabel: curve.key,
                        series: curve.series.map { series in
                            LineChart.Series(label: report.labels[series.run], color: ChartPalette.run(series.run),
                                             points: series.points.map { (Double($0.step), $0.value) })
                        })
                    chart.smoothing = report.smoothing
                    figure.append(chart.render())
                    var notes: [String] = []
                    if !curve.runsWithout.isEmpty {
                        notes.append("Not recorded by \(curve.runsWithout.map { report.labels[$0] }.joined(separator: ", ")).")
                    }
                    if curve.nonFinitePoints > 0 {
                        notes.append("\(curve.nonFinitePoints) NaN or infinite value\(curve.nonFinitePoints == 1 ? "" : "s") left out.")
                    }
                    if !notes.isEmpty { figure.element("figcaption", text: notes.joined(separator: " ")) }
                }
            }
        }
    }

    static func goalText(_ goal: MetricGoal) -> String {
        switch goal {
        case .minimize: "lower is better"
        case .maximize: "higher is better"
        case .none: "unranked"
        }
    }

    static func evalSection(_ report: RunReport, _ out: inout Markup) {
        let heading = report.evalMetrics.contains { $0.baseKey != nil } ? "Evaluation: base vs tuned" : "Evaluation"
        section("eval", heading, &out) { section in
            guard !report.evalMetrics.isEmpty else {
                missing("No eval/* metrics recorded (the eval stage reports eval/bits_per_byte, eval/loss, … and the base model's eval/base_*).", &section)
                return
            }
            section.element("div", [("class", "chart-grid")]) { grid in
                for metric in report.evalMetrics {
                    grid.element("figure", [("class", "chart eval-chart"), ("data-key", metric.key)]) { figure in
                        figure.element("h3") { h3 in
                            h3.element("span", [("class", "mono")], text: metric.key)
                            h3.element("span", [("class", "goal-text")], text: " · " + goalText(metric.goal))
                        }
                        let series = metric.baseKey != nil
                            ? [BarChart.Series(label: "base model", color: ChartPalette.base), BarChart.Series(label: "tuned", color: ChartPalette.tuned)]
                            : [BarChart.Series(label: "tuned", color: ChartPalette.tuned)]
                        let tunedIndex = series.count - 1
                        let groups = report.runs.indices.map { index in
                            BarChart.Group(label: report.labels[index],
                                           values: metric.baseKey != nil ? [metric.base[index], metric.tuned[index]] : [metric.tuned[index]],
                                           best: metric.best == index ? tunedIndex : nil)
                        }
                        figure.append(BarChart(title: metric.key, yLabel: String(metric.key.dropFirst("eval/".count)),
                                               series: series, groups: groups).render())
                    }
                }
            }
        }
    }

    static func saturationSection(_ report: RunReport, _ out: inout Markup) {
        typealias Saturation = RunReport.Saturation
        section("saturation", "Saturation curve", &out) { section in
            let saturation = report.saturation
            section.element("p", [("class", "hint")],
                            text: "Eval bits per byte on the held-out text (\(Saturation.bitsPerByteKey)) against the tokens each variant "
                                + "trained on (\(Saturation.tokensKey)); lower is better. The dashed line is the base model before tuning "
                                + "(\(Saturation.baseBitsPerByteKey)).")
            guard !saturation.points.isEmpty else {
                missing("No curve: no run recorded both \(Saturation.tokensKey) and \(Saturation.bitsPerByteKey).", &section)
                notOnCurve(saturation, &section)
                return
            }
            var chart = LineChart(
                title: "eval bits per byte against training tokens", xLabel: "training tokens (\(Saturation.tokensKey))",
                yLabel: "eval bits per byte",
                series: [LineChart.Series(label: "tuned model, one point per variant", color: ChartPalette.tuned,
                                          points: saturation.points.map { ($0.corpusTokens, $0.bitsPerByte) }, markers: true,
                                          pointLabels: saturation.points.map { report.labels[$0.run] })])
            chart.xScale = .automatic
            chart.references = saturation.baseLevels.map { level in
                LineChart.Reference(label: saturation.baseLevels.count == 1 ? "base model"
                                        : "base model (\(level.runs.map { report.labels[$0] }.joined(separator: ", ")))",
                                    y: level.value)
            }
            section.element("figure", [("class", "chart saturation-chart")]) { figure in
                figure.append(chart.render())
                if saturation.points.count == 1 {
                    figure.element("figcaption", text: "One variant only: a curve needs two or more.")
                }
            }
            section.element("table", [("class", "saturation")]) { table in
                table.element("thead") { head in
                    head.element("tr") { row in
                        for (title, numeric) in [("variant", false), ("training tokens", true), ("eval bits per byte", true), ("vs base", true)] {
                            row.element("th", numeric ? [("class", "num")] : [], text: title)
                        }
                    }
                }
                table.element("tbody") { body in
                    for point in saturation.points {
                        body.element("tr") { row in
                            row.element("td") { cell in
                                swatch(point.run, &cell)
                                cell.text(report.labels[point.run])
                            }
                            row.element("td", [("class", "num")], text: RunComparison.number(point.corpusTokens))
                            row.element("td", [("class", "num")], text: RunComparison.number(point.bitsPerByte))
                            let base = saturation.baseLevels.first { $0.runs.contains(point.run) }?.value
                            row.element("td", [("class", "num")], text: base.map {
                                let delta = point.bitsPerByte - $0
                                return "\(delta < 0 ? "−" : "+")\(ChartScale.short(abs(delta)))"
                            } ?? "–")
                        }
                    }
                }
            }
            notOnCurve(saturation, &section)
        }
    }

    /// Bits per byte (and KL from the base) against the number of books, seeds pooled with their spread.
    static func booksSection(_ report: RunReport, _ out: inout Markup) {
        let curve = report.booksSaturation
        section("books", "Saturation by number of books", &out) { section in
            section.element("p", [("class", "hint")],
                            text: "Eval bits per byte (\(BooksSaturation.bitsPerByteKey)) against the books each run trained on "
                                + "(\(BooksSaturation.booksKey)), on a log axis: runs of one count (the seeds of a sweep) pooled into their "
                                + "mean, the bar their lowest and highest; the dashed line is the base model. By definition, "
                                + BooksSaturation.definition + ".")
            var chart = LineChart(
                title: "eval bits per byte against books", xLabel: "books trained on (\(BooksSaturation.booksKey))", yLabel: "eval bits per byte",
                series: [LineChart.Series(label: "tuned model, mean over seeds", color: ChartPalette.tuned,
                                          points: curve.points.map { ($0.books, $0.meanBitsPerByte) }, markers: true,
                                          errorBars: curve.points.map { ($0.minBitsPerByte, $0.maxBitsPerByte) })])
            chart.xScale = .automatic
            chart.references = curve.baseBitsPerByte.map { [LineChart.Reference(label: "base model", y: $0)] } ?? []
            section.element("figure", [("class", "chart books-chart")]) { figure in figure.append(chart.render()) }
            // How far tuning moved the model from the base, on the same axis: the other half of "how much
            // did more books change it".
            let withKL = curve.points.filter { $0.meanKL != nil }
            if withKL.count >= 2 {
                var klChart = LineChart(
                    title: "KL from the base against books", xLabel: "books trained on (\(BooksSaturation.booksKey))",
                    yLabel: "KL(base ‖ tuned), nats per token (\(BooksSaturation.klKey))",
                    series: [LineChart.Series(label: "tuned model, mean over seeds", color: ChartPalette.tuned,
                                              points: withKL.map { ($0.books, $0.meanKL!) }, markers: true,
                                              errorBars: withKL.map { ($0.klRange!.low, $0.klRange!.high) })])
                klChart.xScale = .automatic
                section.element("figure", [("class", "chart books-kl-chart")]) { figure in figure.append(klChart.render()) }
            }
            section.element("p", [("class", "finding")], text: curve.saturationBooks.map {
                "Saturation begins at \(RunComparison.number($0)) books."
            } ?? "No saturation by that definition among these counts\(curve.points.count < 3 ? " (it needs three or more)" : "").")
            if !report.booksLeftOff.isEmpty {
                section.element("p", [("class", "hint")],
                                text: "Left off the curve: \(report.booksLeftOff.map { report.labels[$0] }.joined(separator: ", ")) — "
                                    + (report.booksLeftOff.count == 1 ? "it differs" : "they differ")
                                    + " from its runs in more than the tier set, the book count and seeds.")
            }
            section.element("table", [("class", "saturation")]) { table in
                table.element("thead") { head in
                    head.element("tr") { row in
                        for (title, numeric) in [("books", true), ("runs", true), ("mean bits per byte", true), ("lowest – highest", true),
                                                 ("KL from base", true)] {
                            row.element("th", numeric ? [("class", "num")] : [], text: title)
                        }
                    }
                }
                table.element("tbody") { body in
                    for point in curve.points {
                        body.element("tr") { row in
                            row.element("td", [("class", "num")], text: RunComparison.number(point.books))
                            row.element("td", [("class", "num")], text: String(point.runs.count))
                            row.element("td", [("class", "num")], text: RunComparison.number(point.meanBitsPerByte))
                            row.element("td", [("class", "num")],
                                        text: "\(RunComparison.number(point.minBitsPerByte)) – \(RunComparison.number(point.maxBitsPerByte))")
                            row.element("td", [("class", "num")], text: point.meanKL.map(RunComparison.number) ?? "–")
                        }
                    }
                }
            }
        }
    }

    static func notOnCurve(_ saturation: RunReport.Saturation, _ out: inout Markup) {
        guard !saturation.missing.isEmpty else { return }
        out.element("ul", [("class", "missing-list")]) { list in
            for note in saturation.missing { list.element("li", text: "Not on the curve: \(note)") }
        }
    }

    static func generationsSection(_ report: RunReport, _ out: inout Markup) {
        section("generations", "Generations", &out) { section in
            let table = report.generations
            for problem in table.problems { section.element("p", [("class", "notice")], text: problem) }
            guard !table.rows.isEmpty else {
                missing("No generations: no run recorded a \(Generation.artifactFileName) artifact with prompts "
                    + "(the eval stage writes it).", &section)
                return
            }
            if !table.runsWithout.isEmpty {
                section.element("p", [("class", "hint")],
                                text: "No \(Generation.artifactFileName) in \(table.runsWithout.map { report.labels[$0] }.joined(separator: ", ")).")
            }
            let shown = report.runs.indices.filter { !table.runsWithout.contains($0) }
            for (number, row) in table.rows.enumerated() {
                section.element("div", [("class", "generation")]) { card in
                    card.element("h3", text: "Prompt \(number + 1)" + (row.seed.map { " · seed \($0)" } ?? ""))
                    card.element("pre", [("class", "prompt")], text: row.prompt)
                    // One base cell when the runs agree (same base model and seed), else one per run.
                    let baseCells: [(String, String?)] = row.agreedBase.map { [("base model", $0)] }
                        ?? shown.map { ("base model · \(report.labels[$0])", row.base[$0]) }
                    let cells = baseCells.map { ($0.0, $0.1, true, -1) }
                        + shown.map { ("tuned · \(report.labels[$0])", row.tuned[$0], false, $0) }
                    card.element("div", [("class", "generation-grid"), ("style", "grid-template-columns: repeat(\(min(cells.count, 4)), minmax(0, 1fr))")]) { grid in
                        for (heading, text, isBase, run) in cells {
                            grid.element("div", [("class", isBase ? "output base-output" : "output")]) { cell in
                                cell.element("div", [("class", "output-head")]) { head in
                                    if run >= 0 { swatch(run, &head) }
                                    head.text(heading)
                                }
                                if let text {
                                    cell.element("pre", text: text)
                                } else {
                                    cell.element("p", [("class", "missing")], text: "no generation for this prompt")
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
