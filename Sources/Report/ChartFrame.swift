// ChartFrame — the plot area every report chart shares: margins, the `<svg>` element's attributes,
// grid lines, axes with tick labels (thinned when they would collide) and axis titles, and the
// rough text measure SVG lacks (no font metrics without a browser).
import Foundation

public struct ChartFrame {
    public static let sidePadding = 12.0

    public let width: Double
    public let height: Double
    public let left: Double
    public let right: Double
    public let top: Double
    public let bottom: Double

    public init(width: Double, height: Double, top: Double, left: Double = 76, bottomMargin: Double = 56) {
        self.width = width
        self.height = height
        self.left = left
        right = width - 24
        self.top = top
        bottom = height - bottomMargin
    }

    /// A rectangle of placed text, to keep labels from covering each other.
    public struct Box {
        let left: Double
        let top: Double
        let width: Double
        let height: Double
        let anchorX: Double
        let anchor: String

        var baseline: Double { top + height - 3 }

        func overlaps(_ other: Box) -> Bool {
            left < other.left + other.width && other.left < left + width && top < other.top + other.height && other.top < top + height
        }
    }

    static func svgAttributes(width: Double, height: Double, title: String) -> Markup.Attributes {
        [("xmlns", "http://www.w3.org/2000/svg"), ("class", "chart"), ("role", "img"), ("aria-label", title),
         ("viewBox", "0 0 \(format(width)) \(format(height))"), ("width", format(width)), ("height", format(height))]
    }

    func drawAxes(_ svg: inout Markup, x: ChartScale?, y: ChartScale, xLabel: String, yLabel: String) {
        svg.open("g", [("class", "grid")])
        for tick in y.ticks {
            let py = Self.format(y.map(tick))
            svg.empty("line", [("x1", Self.format(left)), ("x2", Self.format(right)), ("y1", py), ("y2", py)])
        }
        if let x {
            for tick in x.ticks {
                let px = Self.format(x.map(tick))
                svg.empty("line", [("x1", px), ("x2", px), ("y1", Self.format(top)), ("y2", Self.format(bottom))])
            }
        }
        svg.close("g")

        svg.open("g", [("class", "axis y-axis")])
        svg.empty("line", [("x1", Self.format(left)), ("x2", Self.format(left)), ("y1", Self.format(top)), ("y2", Self.format(bottom))])
        for tick in y.ticks {
            svg.element("text", [("x", Self.format(left - 8)), ("y", Self.format(y.map(tick) + 4)), ("text-anchor", "end")],
                        text: y.label(tick))
        }
        let middle = (top + bottom) / 2
        svg.element("text", [("class", "axis-title"), ("x", "18"), ("y", Self.format(middle)), ("text-anchor", "middle"),
                             ("transform", "rotate(-90 18 \(Self.format(middle)))")], text: yLabel)
        svg.close("g")

        svg.open("g", [("class", "axis x-axis")])
        svg.empty("line", [("x1", Self.format(left)), ("x2", Self.format(right)), ("y1", Self.format(bottom)), ("y2", Self.format(bottom))])
        if let x {
            let labels = x.ticks.map(x.label)
            let every = Self.labelStride(positions: x.ticks.map(x.map), labels: labels)
            for (index, tick) in x.ticks.enumerated() where index % every == 0 {
                svg.element("text", [("x", Self.format(x.map(tick))), ("y", Self.format(bottom + 18)), ("text-anchor", "middle")],
                            text: labels[index])
            }
        }
        svg.element("text", [("class", "axis-title"), ("x", Self.format((left + right) / 2)), ("y", Self.format(bottom + 42)),
                             ("text-anchor", "middle")], text: xLabel)
        svg.close("g")
    }

    /// Draw every n-th tick label so that neighbours keep a gap.
    static func labelStride(positions: [Double], labels: [String]) -> Int {
        guard positions.count > 1 else { return 1 }
        let spacing = zip(positions, positions.dropFirst()).map { abs($1 - $0) }.min() ?? 1
        let widest = labels.map { textWidth($0, fontSize: 12) }.max() ?? 0
        return max(1, Int(((widest + 10) / max(spacing, 1)).rounded(.up)))
    }

    /// About how wide `text` is in the report's sans-serif font (wide scripts and emoji count more).
    public static func textWidth(_ text: String, fontSize: Double) -> Double {
        text.unicodeScalars.reduce(0) { total, scalar in
            total + fontSize * (scalar.value >= 0x2E80 ? 1.0 : (scalar.value >= 0x0400 ? 0.62 : 0.56))
        }
    }

    /// `text` cut to fit `width`, with an ellipsis.
    public static func fitted(_ text: String, width: Double, fontSize: Double) -> String {
        guard textWidth(text, fontSize: fontSize) > width else { return text }
        var result = ""
        for character in text {
            if textWidth(result + String(character) + "…", fontSize: fontSize) > width { break }
            result.append(character)
        }
        return result + "…"
    }

    /// One decimal, never `-0.0`: coordinates stay short and byte-for-byte reproducible.
    public static func format(_ value: Double) -> String {
        let text = String(format: "%.1f", value)
        let trimmed = text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        return trimmed == "-0" ? "0" : trimmed
    }
}
