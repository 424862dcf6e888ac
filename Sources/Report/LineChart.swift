// LineChart — an inline SVG line chart: one polyline per series, axes with ticks and labels, a legend,
// optional markers and point labels, and dashed horizontal reference lines (the base model's level).
// Series longer than the plot is wide are thinned per pixel column, keeping each column's first,
// lowest, highest and last point, so spikes survive and a 100k-step curve stays a few kilobytes.
// With `smoothing` set, each series is drawn twice: the raw curve faint, and over it the exponential
// moving average (CurveSmoothing) of its sampled points, which carry those points as JSON (`data-points`)
// and the SVG its scales (`data-x-map`, `data-y-map`), so the page's script can redraw it at another weight.
import Foundation

public struct LineChart {
    public struct Series {
        public let label: String
        public let color: String
        /// Finite values only; drawn in the order given.
        public let points: [(x: Double, y: Double)]
        public let markers: Bool
        /// One per point (or empty): text written beside each point.
        public let pointLabels: [String]
        /// A vertical bar per point from low to high (the spread over seeds), or none.
        public let errorBars: [(low: Double, high: Double)]

        public init(label: String, color: String, points: [(x: Double, y: Double)], markers: Bool = false, pointLabels: [String] = [],
                    errorBars: [(low: Double, high: Double)] = []) {
            self.errorBars = errorBars
            self.label = label
            self.color = color
            self.points = points
            self.markers = markers
            self.pointLabels = pointLabels
        }
    }

    public struct Reference {
        public let label: String
        public let y: Double

        public init(label: String, y: Double) {
            self.label = label
            self.y = y
        }
    }

    public enum XScale {
        case linear
        /// Log when the values span 20× or more (tiers that grow tenfold).
        case automatic
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var references: [Reference] = []
    public var xScale: XScale = .linear
    /// The EMA weight of the smoothed curve drawn over each faint raw one; nil draws the raw curves only.
    public var smoothing: Double?
    public var width = 1100.0
    public var height = 380.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// The `<svg>` element.
    public func render() -> Markup {
        let legend = ChartLegend(entries: series.map { .init(label: $0.label, color: $0.color, dashed: false) }
                                 + references.map { .init(label: $0.label, color: ChartPalette.reference, dashed: true) },
                                 width: width - 2 * ChartFrame.sidePadding)
        let frame = ChartFrame(width: width, height: height, top: ChartFrame.sidePadding + legend.height + 8)
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) + $0.errorBars.flatMap { [$0.low, $0.high] } }
        let xRange = (frame.left, frame.right)
        let x = xScale == .automatic ? ChartScale.automatic(xs, range: xRange) : ChartScale.linear(xs, tickCount: 6, range: xRange)
        let y = ChartScale.linear(ys, including: references.map(\.y), range: (frame.bottom, frame.top))

        var svg = Markup()
        var attributes = ChartFrame.svgAttributes(width: width, height: height, title: title)
        if let smoothing {
            attributes += [("data-x-map", Self.mapJSON(x)), ("data-y-map", Self.mapJSON(y)), ("data-smoothing", ChartScale.short(smoothing))]
        }
        svg.open("svg", attributes)
        svg.element("title", text: title)
        frame.drawAxes(&svg, x: x, y: y, xLabel: xLabel + (x.kind == .log ? " (log scale)" : ""), yLabel: yLabel)
        legend.draw(&svg, left: ChartFrame.sidePadding, top: ChartFrame.sidePadding)

        for reference in references {
            let py = ChartFrame.format(y.map(reference.y))
            svg.empty("line", [("class", "reference"), ("x1", ChartFrame.format(frame.left)), ("x2", ChartFrame.format(frame.right)),
                               ("y1", py), ("y2", py), ("stroke", ChartPalette.reference), ("stroke-width", "1.5"),
                               ("stroke-dasharray", "6 4")])
            svg.element("text", [("x", ChartFrame.format(frame.right - 4)), ("y", ChartFrame.format(y.map(reference.y) - 6)),
                                 ("text-anchor", "end"), ("class", "reference-label")],
                        text: "\(reference.label) \(ChartScale.short(reference.y))")
        }

        var placedLabels: [ChartFrame.Box] = []
        for line in series {
            let pixels = line.points.map { (x: x.map($0.x), y: y.map($0.y)) }
            for (index, bar) in line.errorBars.enumerated() where index < pixels.count {
                let (px, low, high) = (ChartFrame.format(pixels[index].x), y.map(bar.low), y.map(bar.high))
                svg.element("path", [("class", "error-bar"), ("d", "M\(px),\(ChartFrame.format(low))V\(ChartFrame.format(high))"
                                        + "M\(ChartFrame.format(pixels[index].x - 5)),\(ChartFrame.format(low))h10"
                                        + "M\(ChartFrame.format(pixels[index].x - 5)),\(ChartFrame.format(high))h10"),
                                     ("stroke", line.color), ("stroke-width", "1.5"), ("fill", "none")]) { svg in
                    svg.element("title", text: "\(line.label): \(ChartScale.short(line.points[index].x)): \(ChartScale.short(bar.low)) – \(ChartScale.short(bar.high))")
                }
            }
            let raw: Markup.Attributes = smoothing == nil
                ? [("class", "series"), ("stroke-width", "2")]
                : [("class", "series raw"), ("stroke-width", "1.5"), ("stroke-opacity", "0.28")]
            svg.element("polyline", raw + [("data-series", line.label), ("points", Self.pointList(Self.thinned(pixels))), ("fill", "none"),
                                           ("stroke", line.color), ("stroke-linejoin", "round"), ("stroke-linecap", "round")]) { svg in
                svg.element("title", text: smoothing == nil ? line.label : "\(line.label), raw")
            }
            if let smoothing {
                let sampled = CurveSmoothing.sample(line.points)
                let smoothed = zip(sampled, CurveSmoothing.ema(sampled.map(\.y), weight: smoothing)).map { (x: x.map($0.x), y: y.map($1)) }
                let data = "[" + sampled.map { "[\(Self.json($0.x)),\(Self.json($0.y))]" }.joined(separator: ",") + "]"
                svg.element("polyline", [("class", "series smoothed"), ("data-series", line.label), ("data-points", data),
                                         ("points", Self.pointList(smoothed)), ("fill", "none"), ("stroke", line.color), ("stroke-width", "2"),
                                         ("stroke-linejoin", "round"), ("stroke-linecap", "round")]) { svg in
                    svg.element("title", text: "\(line.label), smoothed")
                }
            }
            if line.markers || pixels.count == 1 {
                for (index, point) in pixels.enumerated() {
                    svg.element("circle", [("class", "marker"), ("cx", ChartFrame.format(point.x)), ("cy", ChartFrame.format(point.y)),
                                           ("r", "4.5"), ("fill", line.color), ("stroke", "#ffffff"), ("stroke-width", "1.5")]) { svg in
                        svg.element("title", text: "\(line.label): \(ChartScale.short(line.points[index].x)), \(ChartScale.short(line.points[index].y))")
                    }
                }
            }
            for (index, text) in line.pointLabels.enumerated() where index < pixels.count {
                let neighbours = [index - 1, index + 1].filter(pixels.indices.contains).map { pixels[$0].y }
                let lineIsAbove = !neighbours.isEmpty && neighbours.reduce(0, +) / Double(neighbours.count) < pixels[index].y - 4
                let box = Self.placeLabel(text, at: pixels[index], preferBelow: lineIsAbove, frame: frame, avoiding: placedLabels)
                placedLabels.append(box)
                svg.element("text", [("class", "point-label"), ("x", ChartFrame.format(box.anchorX)), ("y", ChartFrame.format(box.baseline)),
                                     ("text-anchor", box.anchor)], text: text)
            }
        }
        svg.close("svg")
        return svg
    }

    static func pointList(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "\(ChartFrame.format($0.x)),\(ChartFrame.format($0.y))" }.joined(separator: " ")
    }

    /// A finite double as JSON, in the shortest form that reads back as the same double.
    static func json(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    /// What the page's script needs to place a value on `scale`: `{"kind":"linear","domain":[lo,hi],"range":[a,b]}`.
    static func mapJSON(_ scale: ChartScale) -> String {
        let kind = scale.kind == .log ? "log" : "linear"
        return "{\"kind\":\"\(kind)\",\"domain\":[\(json(scale.lower)),\(json(scale.upper))],\"range\":[\(json(scale.rangeStart)),\(json(scale.rangeEnd))]}"
    }

    /// Above the point (below when the line comes from above, so the label does not sit on it), or
    /// on the other side when that would cover a label already placed or leave the plot.
    static func placeLabel(_ text: String, at point: (x: Double, y: Double), preferBelow: Bool, frame: ChartFrame,
                           avoiding placed: [ChartFrame.Box]) -> ChartFrame.Box {
        let width = ChartFrame.textWidth(text, fontSize: 12)
        var left = point.x - width / 2
        var anchor = "middle"
        if left < frame.left + 2 { left = point.x + 8; anchor = "start" }
        if left + width > frame.right - 2 { left = point.x - 8 - width; anchor = "end" }
        let anchorX = anchor == "middle" ? point.x : (anchor == "start" ? left : left + width)
        let above = ChartFrame.Box(left: left, top: point.y - 24, width: width, height: 14, anchorX: anchorX, anchor: anchor)
        let below = ChartFrame.Box(left: left, top: point.y + 10, width: width, height: 14, anchorX: anchorX, anchor: anchor)
        let choices = preferBelow ? [below, above] : [above, below]
        func fits(_ box: ChartFrame.Box) -> Bool { box.top >= frame.top && box.top + box.height <= frame.bottom }
        return choices.first { fits($0) && !placed.contains(where: $0.overlaps) } ?? choices.first(where: fits) ?? choices[0]
    }

    /// At most four points per pixel column (first, lowest, highest, last), order kept.
    static func thinned(_ points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        guard points.count > 1200 else { return points }
        var result: [(x: Double, y: Double)] = []
        var column: [(index: Int, point: (x: Double, y: Double))] = []
        func flush() {
            guard let first = column.first, let last = column.last else { return }
            let low = column.min { $0.point.y < $1.point.y }!
            let high = column.max { $0.point.y < $1.point.y }!
            var kept: [Int: (x: Double, y: Double)] = [:]
            for item in [first, low, high, last] { kept[item.index] = item.point }
            result += kept.keys.sorted().map { kept[$0]! }
            column.removeAll(keepingCapacity: true)
        }
        for (index, point) in points.enumerated() {
            if let current = column.first, point.x.rounded(.down) != current.point.x.rounded(.down) { flush() }
            column.append((index, point))
        }
        flush()
        return result
    }
}
