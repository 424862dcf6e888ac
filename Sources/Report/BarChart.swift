// BarChart — an inline SVG grouped bar chart: one group per run, one bar per series (base model and
// tuned model), bars from zero with their value written above, a missing value shown as `n/a`.
import Foundation

public struct BarChart {
    public struct Series {
        public let label: String
        public let color: String

        public init(label: String, color: String) {
            self.label = label
            self.color = color
        }
    }

    public struct Group {
        public let label: String
        /// One per series; nil where the value is missing.
        public let values: [Double?]
        /// Series index whose value is marked best (bold, with a star).
        public let best: Int?

        public init(label: String, values: [Double?], best: Int? = nil) {
            self.label = label
            self.values = values
            self.best = best
        }
    }

    public var title: String
    public var yLabel: String
    public var series: [Series]
    public var groups: [Group]
    public var width = 540.0
    public var height = 290.0

    public init(title: String, yLabel: String, series: [Series], groups: [Group]) {
        self.title = title
        self.yLabel = yLabel
        self.series = series
        self.groups = groups
    }

    public func render() -> Markup {
        // A single series needs no key: the chart's title names it.
        let legend = ChartLegend(entries: series.count > 1 ? series.map { .init(label: $0.label, color: $0.color, dashed: false) } : [],
                                 width: width - 2 * ChartFrame.sidePadding)
        let frame = ChartFrame(width: width, height: height, top: ChartFrame.sidePadding + legend.height + 14, left: 64, bottomMargin: 40)
        let values = groups.flatMap { $0.values.compactMap { $0 } }
        let y = ChartScale.linear(values, including: [0], tickCount: 4, range: (frame.bottom, frame.top))

        var svg = Markup()
        svg.open("svg", ChartFrame.svgAttributes(width: width, height: height, title: title))
        svg.element("title", text: title)
        frame.drawAxes(&svg, x: nil, y: y, xLabel: "", yLabel: yLabel)
        legend.draw(&svg, left: ChartFrame.sidePadding, top: ChartFrame.sidePadding)

        let groupWidth = (frame.right - frame.left) / Double(max(groups.count, 1))
        let barWidth = min(48, groupWidth * 0.7 / Double(max(series.count, 1)))
        let zero = y.map(0)
        for (groupIndex, group) in groups.enumerated() {
            let groupLeft = frame.left + Double(groupIndex) * groupWidth
            let barsLeft = groupLeft + (groupWidth - barWidth * Double(series.count)) / 2
            svg.open("g", [("class", "bar-group"), ("data-group", group.label)])
            for (seriesIndex, value) in group.values.enumerated() where seriesIndex < series.count {
                let x = barsLeft + Double(seriesIndex) * barWidth
                let center = x + barWidth / 2
                guard let value else {
                    svg.element("text", [("class", "bar-value missing"), ("x", ChartFrame.format(center)), ("y", ChartFrame.format(zero - 6)),
                                         ("text-anchor", "middle")], text: "n/a")
                    continue
                }
                let top = min(y.map(value), zero)
                let barHeight = max(abs(y.map(value) - zero), 0.5)
                let best = group.best == seriesIndex
                svg.element("rect", [("class", "bar"), ("data-series", series[seriesIndex].label),
                                     ("x", ChartFrame.format(x + 1)), ("y", ChartFrame.format(top)),
                                     ("width", ChartFrame.format(barWidth - 2)), ("height", ChartFrame.format(barHeight)),
                                     ("fill", series[seriesIndex].color)]) { svg in
                    svg.element("title", text: "\(group.label) · \(series[seriesIndex].label): \(ChartScale.short(value))")
                }
                let labelY = value >= 0 ? top - 5 : top + barHeight + 13
                svg.element("text", [("class", best ? "bar-value best" : "bar-value"), ("x", ChartFrame.format(center)),
                                     ("y", ChartFrame.format(labelY)), ("text-anchor", "middle")],
                            text: ChartScale.short(value) + (best ? " ★" : ""))
            }
            svg.element("text", [("class", "group-label"), ("x", ChartFrame.format(groupLeft + groupWidth / 2)),
                                 ("y", ChartFrame.format(frame.bottom + 18)), ("text-anchor", "middle")]) { svg in
                svg.text(ChartFrame.fitted(group.label, width: groupWidth - 6, fontSize: 12))
                svg.element("title", text: group.label)
            }
            svg.close("g")
        }
        svg.close("svg")
        return svg
    }
}
