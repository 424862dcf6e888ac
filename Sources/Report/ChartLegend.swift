// ChartLegend — a chart's key drawn inside its SVG: a swatch (solid or dashed) and a label per entry,
// laid out left to right and wrapped onto more rows when the chart is too narrow.
public struct ChartLegend {
    public struct Entry {
        public let label: String
        public let color: String
        public let dashed: Bool
    }

    static let rowHeight = 20.0
    static let fontSize = 12.0
    static let swatchWidth = 22.0

    public let entries: [Entry]
    /// Where each entry goes, relative to the legend's top left.
    let positions: [(x: Double, row: Int)]
    let labels: [String]

    public init(entries: [Entry], width: Double) {
        self.entries = entries
        var positions: [(x: Double, row: Int)] = []
        var labels: [String] = []
        var x = 0.0
        var row = 0
        for entry in entries {
            let label = ChartFrame.fitted(entry.label, width: min(width - Self.swatchWidth - 6, 320), fontSize: Self.fontSize)
            let entryWidth = Self.swatchWidth + 6 + ChartFrame.textWidth(label, fontSize: Self.fontSize) + 20
            if x > 0 && x + entryWidth > width {
                x = 0
                row += 1
            }
            positions.append((x, row))
            labels.append(label)
            x += entryWidth
        }
        self.positions = positions
        self.labels = labels
    }

    public var height: Double {
        entries.isEmpty ? 0 : Double((positions.map(\.row).max() ?? 0) + 1) * Self.rowHeight
    }

    func draw(_ svg: inout Markup, left: Double, top: Double) {
        guard !entries.isEmpty else { return }
        svg.open("g", [("class", "legend")])
        for (index, entry) in entries.enumerated() {
            let x = left + positions[index].x
            let middle = top + Double(positions[index].row) * Self.rowHeight + Self.rowHeight / 2
            var line: Markup.Attributes = [("x1", ChartFrame.format(x)), ("x2", ChartFrame.format(x + Self.swatchWidth)),
                                           ("y1", ChartFrame.format(middle)), ("y2", ChartFrame.format(middle)),
                                           ("stroke", entry.color), ("stroke-width", entry.dashed ? "1.5" : "3")]
            if entry.dashed { line.append(("stroke-dasharray", "6 4")) }
            svg.element("g", [("class", "legend-entry")]) { svg in
                svg.empty("line", line)
                svg.element("text", [("x", ChartFrame.format(x + Self.swatchWidth + 6)), ("y", ChartFrame.format(middle + 4))],
                            text: labels[index])
            }
        }
        svg.close("g")
    }
}
