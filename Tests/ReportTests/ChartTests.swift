// ChartTests — the scales and marks behind the report's SVG: nice linear ticks, log ticks for tiers
// that grow tenfold, degenerate domains (equal values, one value, none, non-finite), tick labels,
// thinning of long curves that keeps their extremes, label stride, and legend wrapping.
import Foundation
import FoundationXML
@testable import Report
import Testing

@Suite struct ChartScaleTests {
    @Test func linearTicksAreRoundAndCoverTheData() {
        let scale = ChartScale.linear([0.93, 2.71], range: (0, 100))
        #expect(scale.ticks == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
        #expect(scale.lower <= 0.93 && scale.upper >= 2.71)
        #expect(scale.map(scale.lower) == 0)
        #expect(scale.map(scale.upper) == 100)
        #expect(scale.ticks.map(scale.label) == ["0.5", "1.0", "1.5", "2.0", "2.5", "3.0"])
        let steps = ChartScale.linear([0, 1_000_000], range: (0, 1))
        #expect(steps.ticks.map(steps.label) == ["0", "200k", "400k", "600k", "800k", "1M"])
        let quarters = ChartScale.linear([0, 1], tickCount: 4, range: (0, 1))
        #expect(quarters.ticks.map(quarters.label) == ["0.00", "0.25", "0.50", "0.75", "1.00"])
    }

    @Test func degenerateDomainsOpenAroundTheValue() {
        let equal = ChartScale.linear([3, 3, 3], range: (200, 0))
        #expect(equal.lower < 3 && equal.upper > 3)
        #expect(equal.map(3) > 0 && equal.map(3) < 200)
        let zero = ChartScale.linear([0], range: (0, 10))
        #expect(zero.lower == 0 && zero.upper > 0)
        let negative = ChartScale.linear([-2], range: (0, 10))
        #expect(negative.lower < -2 && negative.upper > -2)
        let none = ChartScale.linear([], range: (0, 10))
        #expect(none.lower == 0 && none.upper == 1)
        let nonFinite = ChartScale.linear([.nan, 1, .infinity, 2, -.infinity], range: (0, 10))
        #expect(nonFinite == ChartScale.linear([1, 2], range: (0, 10)))
        #expect(ChartScale.linear([5], including: [0], range: (0, 1)).lower == 0)
    }

    @Test func logScalesForTiersThatGrowTenfold() {
        let tokens = [120_000.0, 1_150_000, 11_800_000]
        let scale = ChartScale.automatic(tokens, range: (0, 600))
        #expect(scale.kind == .log)
        #expect(scale.ticks == [100_000, 1_000_000, 10_000_000])
        #expect(scale.ticks.map(scale.label) == ["100k", "1M", "10M"])
        let pixels = tokens.map(scale.map)
        #expect(pixels == pixels.sorted())
        #expect(pixels.allSatisfy { $0 > 0 && $0 < 600 })
        // Equal decades are equal distances.
        #expect(abs((scale.map(1e6) - scale.map(1e5)) - (scale.map(1e7) - scale.map(1e6))) < 1e-9)
        // Within a decade or two the 2× and 5× ticks join in.
        #expect(ChartScale.log([300, 2000], range: (0, 1)).ticks == [500, 1000, 2000])
        #expect(ChartScale.automatic([100, 500], range: (0, 1)).kind == .linear)
        #expect(ChartScale.automatic([0, 5000], range: (0, 1)).kind == .linear)
    }

    @Test func valuesPrintShort() {
        #expect(ChartScale.short(1.62) == "1.62")
        #expect(ChartScale.short(8.16617) == "8.166")
        #expect(ChartScale.short(1_150_000) == "1.15M")
        #expect(ChartScale.short(12_000) == "12k")
        #expect(ChartScale.short(0.000123) == "1.23e-04")
        #expect(ChartScale.short(0) == "0")
        #expect(ChartScale.compact(2_500_000_000, decimals: 0) == "2.5B")
    }
}

@Suite struct ChartMarkTests {
    @Test func longCurvesAreThinnedKeepingTheirExtremes() {
        var points: [(x: Double, y: Double)] = []
        for index in 0..<100_000 {
            let y: Double = index == 54_321 ? 500 : (index == 77_777 ? -5 : sin(Double(index)))
            points.append((x: Double(index) / 100, y: y))
        }
        let thinned = LineChart.thinned(points)
        #expect(thinned.count <= 4 * 1000)
        #expect(thinned.contains { $0.y == 500 })
        #expect(thinned.contains { $0.y == -5 })
        #expect(thinned.first?.x == 0 && thinned.last?.x == points.last?.x)
        let xs = thinned.map { $0.x }
        #expect(xs == xs.sorted())
        let short = Array(points.prefix(1000))
        #expect(LineChart.thinned(short).count == 1000)
    }

    @Test func crowdedTickLabelsAreThinned() {
        #expect(ChartFrame.labelStride(positions: [0, 100, 200], labels: ["1", "2", "3"]) == 1)
        #expect(ChartFrame.labelStride(positions: stride(from: 0.0, to: 200, by: 10).map { $0 }, labels: Array(repeating: "10.5k", count: 20)) == 5)
    }

    @Test func legendsWrapAndLongLabelsAreCut() throws {
        let entries = (0..<6).map { ChartLegend.Entry(label: "variant number \($0) with a long name", color: "#000", dashed: false) }
        let legend = ChartLegend(entries: entries, width: 600)
        #expect(legend.height > ChartLegend.rowHeight)
        let long = ChartFrame.fitted(String(repeating: "очень ", count: 40), width: 120, fontSize: 12)
        #expect(long.hasSuffix("…"))
        #expect(ChartFrame.textWidth(long, fontSize: 12) <= 120)
        #expect(ChartFrame.fitted("short", width: 120, fontSize: 12) == "short")
        #expect(ChartFrame.format(-0.04) == "0")
        #expect(ChartFrame.format(12.0) == "12")
    }

    @Test func aLineChartDrawsEverySeriesWithALegendAndAxes() throws {
        var chart = LineChart(title: "t", xLabel: "step", yLabel: "loss", series: [
            .init(label: "a", color: "#111", points: [(1, 3), (2, 2), (3, 1)]),
            .init(label: "b <&>", color: "#222", points: [(1, 2)]),
        ])
        chart.references = [.init(label: "base", y: 4)]
        let svg = try XMLDocument(xmlString: chart.render().text, options: [])
        #expect(try svg.elements("polyline").map { $0.attribute("data-series") } == ["a", "b <&>"])
        #expect(try svg.elements("circle").count == 1)
        #expect(try svg.elements("g", where: "@class='legend-entry'").map(\.stringValue) == ["a", "b <&>", "base"])
        #expect(try svg.elements("line", where: "@class='reference'").count == 1)
        let numbers = try svg.chartNumbers()
        #expect(numbers.count > 20 && numbers.allSatisfy { $0?.isFinite == true })
    }
}
