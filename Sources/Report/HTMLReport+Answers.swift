// HTMLReport+Answers — the parts of the page that answer the researcher's questions: the findings at
// the top, where cached stages came from (under the runs), the ablation tables, and the smoothing
// control of the training curves.
import Foundation

extension HTMLReport {
    static func findingsSection(_ report: RunReport, _ out: inout Markup) {
        section("findings", "Findings", &out) { section in
            guard !report.findings.isEmpty else {
                missing("No findings: they need runs that differ only in train.tiers or in one other parameter, a books sweep "
                    + "of three or more counts, or hyperword savings (hyperwords/token_reduction, eval/tokens_per_scene).", &section)
                return
            }
            section.element("ol", [("class", "findings")]) { list in
                for finding in report.findings {
                    list.element("li", [("class", "finding"), ("data-topic", finding.topic)]) { item in
                        item.element("span", [("class", "question")], text: finding.question + ". ")
                        item.element("span", [("class", "answer")], text: finding.sentence)
                        item.element("span", [("class", "basis")], text: "Basis: " + finding.basis)
                    }
                }
            }
        }
    }

    /// "all cached" instead of a duration of 0 s for a run that computed nothing itself.
    static func runDuration(_ report: RunReport, _ index: Int) -> String {
        let provenance = report.provenance[index]
        return provenance.allCached ? "all \(provenance.stageCount) stages cached" : duration(report.runs[index])
    }

    /// Under the runs table: for each run with cached stages, which runs computed them, when, and how long it took there.
    static func provenanceNotes(_ report: RunReport, _ out: inout Markup) {
        let runs = report.provenance.indices.filter { !report.provenance[$0].sources.isEmpty }
        guard !runs.isEmpty else { return }
        out.element("ul", [("class", "provenance")]) { list in
            for index in runs {
                let provenance = report.provenance[index]
                list.element("li", [("data-run", String(report.runs[index].id))]) { item in
                    swatch(index, &item)
                    let share = provenance.allCached ? "all \(provenance.stageCount) stages" : "\(provenance.cachedCount) of \(provenance.stageCount) stages"
                    item.text("\(report.labels[index]): \(share) came from the cache — "
                        + provenance.sources.map(sourceText).joined(separator: "; ") + ".")
                }
            }
        }
    }

    static func sourceText(_ source: CacheProvenance.Source) -> String {
        let producer = source.run.map { "run \($0.id) (\($0.label))" } ?? "a run no longer in this store"
        let when = source.producedAt.map { " on \(date($0))" } ?? ""
        let took = source.computeSeconds.map { " in \(seconds($0))" } ?? ""
        return "\(source.stages.joined(separator: ", ")) computed by \(producer)\(when)\(took)"
    }

    /// The metrics an ablation is judged on, in the order the table shows them.
    static let ablationMetrics = [
        (key: Findings.extendedBitsPerByte, title: "before training", base: Findings.baseBitsPerByte),
        (key: Findings.bitsPerByte, title: "held-out", base: Findings.baseBitsPerByte),
        (key: "eval/tokens_per_word", title: "", base: "eval/base_tokens_per_word"),
    ]

    static func ablationsSection(_ report: RunReport, _ out: inout Markup) {
        section("ablations", "Ablations", &out) { section in
            section.element("p", [("class", "hint")],
                            text: "Runs that differ in exactly one parameter, side by side (the tier set and the book count have their own "
                                + "sections; seeds are repeats). ★ best by the metric's goal; before training: the extended model at step 0; "
                                + "base: the base model with its own tokenizer.")
            for ablation in report.ablations {
                let metrics = ablationMetrics.filter { metric in ablation.runs.contains { report.finalValues[$0][metric.key] != nil } }
                section.element("div", [("class", "ablation"), ("data-parameter", ablation.parameter)]) { block in
                    block.element("h3") { h3 in
                        h3.element("span", [("class", "mono")], text: ablation.parameter)
                        h3.element("span", [("class", "goal-text")], text: " · \(ablation.runs.count) runs")
                    }
                    guard !metrics.isEmpty else {
                        missing("None of these runs recorded \(ablationMetrics.map(\.key).joined(separator: ", ")).", &block)
                        return
                    }
                    ablationTable(report, ablation, metrics: metrics, goals: report.goals, &block)
                }
            }
        }
    }

    private static func ablationTable(_ report: RunReport, _ ablation: Ablation, metrics: [(key: String, title: String, base: String)],
                                      goals: MetricGoals, _ out: inout Markup) {
        let columns = metrics.map { metric in
            (metric, goals.goal(for: metric.key), ablation.runs.map { report.finalValues[$0][metric.key].flatMap { $0.isFinite ? $0 : nil } })
        }
        out.element("table", [("class", "ablation")]) { table in
            table.element("thead") { head in
                head.element("tr") { row in
                    row.element("th", [("class", "mono")], text: ablation.parameter)
                    row.element("th", text: "run")
                    for (metric, goal, _) in columns {
                        row.element("th", [("class", "num")]) { th in
                            th.element("span", [("class", "mono")], text: metric.key)
                            th.text(" \(goal.symbol)")
                            if !metric.title.isEmpty { th.element("span", [("class", "delta")], text: metric.title) }
                        }
                    }
                }
            }
            table.element("tbody") { body in
                let bases = columns.map { metric, _, _ in RunComparison.agreedValue(ablation.runs.map { report.finalValues[$0][metric.base] }) }
                if bases.contains(where: { $0 != nil }) {
                    body.element("tr", [("class", "base-row")]) { row in
                        row.element("td", [("class", "base")], text: "base model")
                        row.element("td", text: "")
                        for base in bases { row.element("td", [("class", "num base")], text: base.map(RunComparison.number) ?? "") }
                    }
                }
                for (position, run) in ablation.runs.enumerated() {
                    body.element("tr") { row in
                        row.element("td", [("class", "value")], text: Ablation.text(ablation.values[position]))
                        row.element("td") { cell in
                            swatch(run, &cell)
                            cell.text(report.labels[run])
                        }
                        for (_, goal, values) in columns {
                            let best = RunComparison.best(values, goal: goal) == position
                            row.element("td", [("class", best ? "num best" : "num")],
                                        text: values[position].map { RunComparison.number($0) + (best ? " ★" : "") } ?? "–")
                        }
                    }
                }
            }
        }
        if let held = columns.first(where: { $0.0.key == Findings.bitsPerByte }), let best = RunComparison.best(held.2, goal: held.1) {
            out.element("p", [("class", "winner")],
                        text: "Winner on held-out \(Findings.bitsPerByte) (\(goalText(held.1))): \(ablation.parameter) = "
                            + "\(Ablation.text(ablation.values[best])) (\(report.labels[ablation.runs[best]])).")
        }
    }

    /// The slider TensorBoard has, hidden until the script shows it (without scripts the curves stay at the default).
    static func smoothingControl(_ report: RunReport, _ out: inout Markup) {
        let weight = String(format: "%.2f", report.smoothing)
        out.element("p", [("class", "hint")]) { hint in
            hint.text("Each curve smoothed by an exponential moving average of weight ")
            hint.element("span", [("class", "smoothing-value")], text: weight)
            hint.text(" (TensorBoard's, debiased, over at most \(CurveSmoothing.sampleLimit) points per curve); the raw curve is drawn faint behind it.")
        }
        out.element("div", [("class", "smoothing-control"), ("hidden", "hidden")]) { control in
            control.element("label", [("for", "smoothing")], text: "Smoothing ")
            control.empty("input", [("type", "range"), ("id", "smoothing"), ("min", "0"), ("max", ChartScale.short(CurveSmoothing.maximumWeight)),
                                    ("step", "0.01"), ("value", ChartScale.short(report.smoothing))])
            control.element("output", [("class", "smoothing-value"), ("for", "smoothing")], text: weight)
        }
    }

    static func script(_ out: inout Markup) {
        out.element("script") { script in
            script.raw("//<![CDATA[\n" + ReportScript.javaScript + "\n//]]>")
        }
    }
}
