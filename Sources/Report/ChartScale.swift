// ChartScale — maps data values to pixels for the report's charts, with "nice" tick positions. The
// domain is widened to round ticks; a domain of equal values (or a single point) is opened around
// the value, so nothing divides by zero; callers pass finite values only.
import Foundation

public struct ChartScale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case linear
        /// Base 10; the domain must be positive.
        case log
    }

    public let kind: Kind
    public let lower: Double
    public let upper: Double
    public let ticks: [Double]
    /// Distance between linear ticks (labels use it to choose their precision); 0 for log scales.
    public let tickStep: Double
    let rangeStart: Double
    let rangeEnd: Double

    /// A linear scale over `values` (and `including`, e.g. 0 for bars or a reference line), about
    /// `tickCount` ticks, mapped onto `range` (pixel start and end; y runs from bottom to top).
    public static func linear(_ values: [Double], including extra: [Double] = [], tickCount: Int = 5,
                              range: (Double, Double)) -> ChartScale {
        let all = (values + extra).filter(\.isFinite)
        var low = all.min() ?? 0
        var high = all.max() ?? 1
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
            // A run of equal non-negative values (counts, bars) should not invent negative ticks.
            if all.allSatisfy({ $0 >= 0 }) && low < 0 { low = 0 }
        }
        let step = niceStep((high - low) / Double(max(1, tickCount)))
        let lower = (low / step).rounded(.down) * step
        let upper = (high / step).rounded(.up) * step
        var ticks: [Double] = []
        var index = 0.0
        while lower + index * step <= upper + step * 1e-9 {
            let tick = lower + index * step
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            index += 1
        }
        return ChartScale(kind: .linear, lower: lower, upper: upper, ticks: ticks, tickStep: step,
                          rangeStart: range.0, rangeEnd: range.1)
    }

    /// A log scale over the values padded by a margin on either side (not widened to whole decades,
    /// which would leave most of the plot empty). Ticks at powers of ten, and at 2× and 5× as well
    /// when that alone would give fewer than three.
    public static func log(_ values: [Double], including extra: [Double] = [], range: (Double, Double)) -> ChartScale {
        let all = (values + extra).filter { $0.isFinite && $0 > 0 }
        let low = all.min() ?? 1
        let high = all.max() ?? 10
        let margin = Swift.max(Foundation.pow(high / low, 0.06), 1.25)
        let lower = low / margin
        let upper = high * margin
        func ticks(_ multiples: [Double]) -> [Double] {
            var result: [Double] = []
            var decade = Foundation.log10(lower).rounded(.down)
            while Foundation.pow(10, decade) <= upper {
                for multiple in multiples {
                    let tick = multiple * Foundation.pow(10, decade)
                    if tick >= lower && tick <= upper { result.append(tick) }
                }
                decade += 1
            }
            return result
        }
        var chosen = ticks([1])
        if chosen.count < 3 { chosen = ticks([1, 2, 5]) }
        return ChartScale(kind: .log, lower: lower, upper: upper, ticks: chosen, tickStep: 0, rangeStart: range.0, rangeEnd: range.1)
    }

    /// Log when every value is positive and they span at least `ratio` (tiers that grow tenfold).
    public static func automatic(_ values: [Double], including extra: [Double] = [], ratio: Double = 20,
                                 range: (Double, Double)) -> ChartScale {
        let finite = (values + extra).filter(\.isFinite)
        if let low = finite.min(), let high = finite.max(), low > 0, high / low >= ratio {
            return log(values, including: extra, range: range)
        }
        return linear(values, including: extra, range: range)
    }

    public func map(_ value: Double) -> Double {
        let fraction: Double
        switch kind {
        case .linear:
            fraction = (value - lower) / (upper - lower)
        case .log:
            let low = Foundation.log10(lower)
            fraction = (Foundation.log10(Swift.max(value, Double.leastNormalMagnitude)) - low) / (Foundation.log10(upper) - low)
        }
        return rangeStart + fraction * (rangeEnd - rangeStart)
    }

    /// A tick's label: precision from the tick step, large magnitudes with k/M/B.
    public func label(_ tick: Double) -> String {
        switch kind {
        case .log: return Self.compact(tick, decimals: 0)
        case .linear:
            let decimals = Swift.max(0, Int((-Foundation.log10(tickStep)).rounded(.up)))
            // 2.5-steps need one digit more than their magnitude says.
            let extra = (tickStep * Foundation.pow(10, Double(decimals))).truncatingRemainder(dividingBy: 1) == 0 ? 0 : 1
            return Self.compact(tick, decimals: decimals + extra)
        }
    }

    /// `1.5M`, `12k`, `0.25`: k/M/B from 10,000 up (4-digit numbers read fine), otherwise fixed decimals.
    public static func compact(_ value: Double, decimals: Int) -> String {
        let magnitude = abs(value)
        for (threshold, divisor, suffix) in [(1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k")] where magnitude >= threshold {
            return trimmed(String(format: "%.2f", value / divisor)) + suffix
        }
        return String(format: "%.\(Swift.min(decimals, 6))f", value)
    }

    /// A value shown on its own (bar labels, table cells): about four significant digits.
    public static func short(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e4 { return compact(value, decimals: 0) }
        if magnitude == 0 || magnitude >= 1e-3 { return trimmed(String(format: "%.4g", value)) }
        return String(format: "%.2e", value)
    }

    static func trimmed(_ text: String) -> String {
        guard text.contains("."), !text.contains("e") else { return text }
        var result = text
        while result.hasSuffix("0") { result.removeLast() }
        if result.hasSuffix(".") { result.removeLast() }
        return result
    }

    /// 1, 2, 2.5 or 5 times a power of ten, the smallest not below `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let power = Foundation.pow(10, Foundation.log10(raw).rounded(.down))
        for multiple in [1.0, 2.0, 2.5, 5.0, 10.0] where multiple * power >= raw * (1 - 1e-12) {
            return multiple * power
        }
        return 10 * power
    }
}
