// ComparisonRendering — `loom compare` output: a text table (best value marked with `*`, the base
// model's value in a `base` column when the runs report one) or JSON.
import Foundation
import Pipeline

extension RunComparison {
    /// - allMetrics: list the metrics of the stages every run shares too (else one line names them).
    public func renderText(allMetrics: Bool = false) -> String {
        var out = ""
        var runs = TextTable(header: ["", "run", "recipe", "variant", "status", "created"])
        for (index, column) in columns.enumerated() {
            runs.add(["[\(index + 1)]", String(column.run.id), column.run.recipe, column.run.variant.isEmpty ? "-" : column.run.variant,
                      column.run.status.rawValue, Self.date(column.run.createdAt)])
        }
        out += runs.render()
        let headers = columns.indices.map { "[\($0 + 1)]" }
        out += "\nparams that differ\n"
        if params.isEmpty {
            out += "  (none)\n"
        } else {
            var table = TextTable(header: ["param"] + headers)
            for row in params { table.add([row.name] + Self.cells(row.values)) }
            out += table.render(indent: "  ")
        }
        out += "\nfinal metrics (last step; * best"
        let metrics = allMetrics ? self.metrics : distinctMetrics
        let hasBase = metrics.contains { $0.base != nil }
        out += hasBase ? "; base = the base model before tuning)\n" : ")\n"
        if metrics.isEmpty {
            out += "  (none recorded)\n"
        } else {
            let leading = ["stage", "metric", "goal"] + (hasBase ? ["base"] : [])
            let numbers = (leading.count - (hasBase ? 1 : 0))..<(leading.count + columns.count)
            var table = TextTable(header: leading + headers, rightAligned: Set(numbers))
            for row in metrics {
                let cells = row.values.enumerated().map { index, value in
                    value.map { Self.number($0) + (row.best == index ? " *" : "  ") } ?? "-  "
                }
                let base = hasBase ? [row.base.map { Self.number($0) + "  " } ?? ""] : []
                table.add([row.stage, row.key, row.goal.symbol] + base + cells)
            }
            out += table.render(indent: "  ")
        }
        if !allMetrics, !sharedMetrics.isEmpty {
            out += "  + \(sharedMetrics.count) metrics of the stages all runs share (\(sharedStages.joined(separator: ", "))), "
                + "equal in every run: --all-metrics lists them\n"
        }
        return out
    }

    public var json: JSONValue {
        .object([
            "runs": .array(columns.map { column in
                .object(["id": .int(Int(column.run.id)), "recipe": .string(column.run.recipe), "variant": .string(column.run.variant),
                         "status": .string(column.run.status.rawValue), "created": .double(column.run.createdAt)])
            }),
            "params": .array(params.map { row in
                .object(["name": .string(row.name), "values": .array(row.values.map { $0.map(JSONValue.string) ?? .null })])
            }),
            "metrics": .array(metrics.map { row in
                .object(["stage": .string(row.stage), "key": .string(row.key), "goal": .string(row.goal.rawValue),
                         "values": .array(row.values.map { $0.map(JSONValue.double) ?? .null }),
                         "best_run": row.best.map { .int(Int(columns[$0].run.id)) } ?? .null,
                         "base": row.base.map(JSONValue.double) ?? .null,
                         "base_key": row.baseKey.map(JSONValue.string) ?? .null,
                         "shared": .bool(sharedStages.contains(row.stage))])
            }),
            "shared_stages": .array(sharedStages.map(JSONValue.string)),
        ])
    }

    /// One line, at most 48 characters: long commands and lists stay readable side by side.
    public static func cell(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let shortened = line.count > 48 ? String(line.prefix(47)) + "…" : line
        return shortened + (line == text || shortened.hasSuffix("…") ? "" : " …")
    }

    /// One row of `params that differ`: each value as `cell` shows it, unless that would make two
    /// different values read the same (lists that differ past the cut); then each on one whole line.
    public static func cells(_ values: [String?]) -> [String] {
        let shortened = values.map { $0.map(cell) ?? "-" }
        let distinctValues = Set(values.compactMap { $0 }).count
        let distinctCells = Set(zip(values, shortened).compactMap { $0.0 == nil ? nil : $0.1 }).count
        if distinctCells == distinctValues { return shortened }
        return values.map { $0.map { $0.replacingOccurrences(of: "\n", with: "⏎") } ?? "-" }
    }

    /// Up to 6 significant digits, no exponent for ordinary magnitudes.
    public static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int(value)) }
        let magnitude = abs(value)
        if magnitude >= 1e-4 && magnitude < 1e9 { return String(format: "%.6g", value) }
        return String(format: "%.4e", value)
    }

    static func date(_ time: Double) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: time))
    }
}

extension MetricGoal {
    /// `↓` lower is better, `↑` higher is better, blank when neither.
    public var symbol: String {
        switch self {
        case .minimize: "↓"
        case .maximize: "↑"
        case .none: ""
        }
    }
}
