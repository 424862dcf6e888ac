// CurveSmoothingTests — the training curves' smoothing: TensorBoard's debiased EMA against the weighted
// average it equals, computed directly; even sampling of long series; the loss charts with each run's raw
// curve faint and the smoothed one over it carrying its points and the chart's scales for the script;
// the one inline script inside CDATA, and the slider hidden until it runs.
import Foundation
import FoundationXML
import Pipeline
import Report
import TestSupport
import Testing

@Suite struct CurveSmoothingTests {
    /// Σ wⁱ⁻ʲ·xⱼ / Σ wⁱ⁻ʲ over the points so far: what the debiased EMA equals, written out.
    static func weightedAverage(_ values: [Double], weight: Double) -> [Double] {
        values.indices.map { i in
            let weights = (0...i).map { pow(weight, Double(i - $0)) }
            return zip(weights, values[0...i]).map { $0 * $1 }.reduce(0, +) / weights.reduce(0, +)
        }
    }

    @Test(arguments: [0.0, 0.3, 0.6, 0.9, 0.99])
    func theEMAEqualsTheWeightedAverageOfThePointsSoFar(weight: Double) {
        var random = SeededGenerator(seed: 11)
        let values = (0..<300).map { step in 3 * exp(-Double(step) / 80) + Double(random.next(below: 1000)) / 2000 }
        let smoothed = CurveSmoothing.ema(values, weight: weight)
        let direct = Self.weightedAverage(values, weight: weight)
        // The recurrence and the sum round differently; 300 terms of magnitude ≤ 3.5 stay within 1e-12 relative.
        for (a, b) in zip(smoothed, direct) { #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(a) vs \(b) at weight \(weight)") }
        if weight == 0 { #expect(smoothed == values) }
    }

    @Test func debiasingKeepsTheFirstPointsAndNonFiniteValuesPassThrough() {
        // Without debiasing the first smoothed value would be (1 − w)·x = 0.8; debiased it is x itself.
        #expect(CurveSmoothing.ema([2], weight: 0.6) == [2])
        let constant = CurveSmoothing.ema(Array(repeating: 1.25, count: 50), weight: 0.9)
        #expect(constant.allSatisfy { abs($0 - 1.25) < 1e-12 })
        let gap = CurveSmoothing.ema([1, .nan, 3], weight: 0.5)
        #expect(gap[0] == 1 && gap[1].isNaN)
        #expect(abs(gap[2] - Self.weightedAverage([1, 3], weight: 0.5)[1]) < 1e-15)
        // Weights outside the slider's range are held to it: 1 would never move.
        #expect(CurveSmoothing.ema([1, 2], weight: 1) == CurveSmoothing.ema([1, 2], weight: CurveSmoothing.maximumWeight))
        #expect(CurveSmoothing.ema([1, 2], weight: -3) == [1, 2])
    }

    @Test func longSeriesAreSampledEvenlyKeepingTheEnds() {
        // 4 996 points: 999 gaps of 5.
        let sampled = CurveSmoothing.sample(Array(0..<4996))
        #expect(sampled.count == CurveSmoothing.sampleLimit)
        #expect(sampled.first == 0 && sampled.last == 4995)
        #expect(zip(sampled, sampled.dropFirst()).allSatisfy { $1 - $0 == 5 })
        let uneven = CurveSmoothing.sample(Array(0..<5001))
        #expect(uneven.count == 1000 && uneven.first == 0 && uneven.last == 5000 && zip(uneven, uneven.dropFirst()).allSatisfy { $1 - $0 >= 5 })
        #expect(CurveSmoothing.sample(Array(0..<1000)) == Array(0..<1000))
    }

    @Test func lossChartsDrawEachRunRawAndSmoothedWithTheirPointsAndScales() throws {
        let fixture = try SaturationStore.complete()
        let document = try fixture.document()
        let figure = try #require(try document.elements("figure", where: "@data-key='train/loss'").first)
        let svg = try #require(try figure.elements("svg").first)
        #expect(svg.attribute("data-smoothing") == "0.6")
        let xMap = try #require(try JSONValue.parse(svg.attribute("data-x-map") ?? "").objectValue)
        let yMap = try #require(try JSONValue.parse(svg.attribute("data-y-map") ?? "").objectValue)
        #expect(xMap["kind"]?.stringValue == "linear")
        func scale(_ map: [String: JSONValue]) -> (Double) -> Double {
            let domain = map["domain"]!.arrayValue!.map { $0.doubleValue! }
            let range = map["range"]!.arrayValue!.map { $0.doubleValue! }
            return { range[0] + ($0 - domain[0]) / (domain[1] - domain[0]) * (range[1] - range[0]) }
        }
        let (x, y) = (scale(xMap), scale(yMap))
        let raw = try figure.elements("polyline", where: "@class='series raw'")
        let smoothed = try figure.elements("polyline", where: "@class='series smoothed'")
        #expect(raw.map { $0.attribute("data-series") } == SaturationStore.variants)
        #expect(smoothed.map { $0.attribute("data-series") } == SaturationStore.variants)
        #expect(raw.allSatisfy { $0.attribute("stroke-opacity") == "0.28" })
        for (index, line) in smoothed.enumerated() {
            let series = try fixture.store.metricSeries(run: fixture.runs[index].id, stage: "train", key: "train/loss")
            let data = try #require(try JSONValue.parse(line.attribute("data-points") ?? "").arrayValue).map { $0.arrayValue!.map { $0.doubleValue! } }
            // The JSON carries every recorded value exactly (the shortest decimal that reads back the same).
            #expect(data == series.map { [Double($0.step), $0.value] })
            let drawn = (line.attribute("points") ?? "").split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
            let expected = Self.weightedAverage(series.map(\.value), weight: 0.6)
            #expect(drawn.count == series.count)
            for (point, (step, value)) in zip(drawn, zip(series.map(\.step), expected)) {
                // Coordinates are written to 0.1 px.
                #expect(abs(point[0] - x(Double(step))) <= 0.05 + 1e-9 && abs(point[1] - y(value)) <= 0.05 + 1e-9)
            }
        }
        // Smoothing takes out the wiggle (±0.02 per step, a sine): the smoothed curve bends less (19 px against 36 here).
        let rawFirst = (raw[0].attribute("points") ?? "").split(separator: " ").map { Double($0.split(separator: ",")[1])! }
        let smoothFirst = (smoothed[0].attribute("points") ?? "").split(separator: " ").map { Double($0.split(separator: ",")[1])! }
        func bending(_ ys: [Double]) -> Double {
            var total = 0.0
            for index in 1..<(ys.count - 1) {
                let curvature: Double = ys[index + 1] - 2 * ys[index] + ys[index - 1]
                total += abs(curvature)
            }
            return total
        }
        #expect(bending(smoothFirst) < bending(rawFirst), "\(bending(smoothFirst)) vs \(bending(rawFirst))")
    }

    @Test func thePageHasOneInlineScriptInCDATAAndTheSliderHiddenUntilItRuns() throws {
        let fixture = try SaturationStore.complete()
        let html = HTMLReport.render(try fixture.report())
        let document = try XMLDocument(xmlString: html, options: [])
        let scripts = try document.elements("script")
        #expect(scripts.count == 1)
        #expect(scripts[0].attribute("src") == nil)
        #expect(html.components(separatedBy: "//<![CDATA[").count == 2)
        let body = html.components(separatedBy: "//<![CDATA[")[1].components(separatedBy: "//]]>")[0]
        #expect(!body.contains("]]>"))
        #expect(body.contains("root.setAttribute('data-script', 'ready')"))
        let control = try #require(try document.elements("div", where: "@class='smoothing-control'").first)
        #expect(control.attribute("hidden") == "hidden")
        let slider = try #require(try control.elements("input").first)
        #expect([slider.attribute("min"), slider.attribute("max"), slider.attribute("step"), slider.attribute("value")] == ["0", "0.99", "0.01", "0.6"])
        // Nothing is fetched.
        #expect(try document.elements("link").isEmpty)
        #expect(try document.nodes(forXPath: "//@src | //@href").isEmpty)
    }
}
