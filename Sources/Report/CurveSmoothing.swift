// CurveSmoothing — the report's training-curve smoothing, as TensorBoard's scalar dashboard does it: an
// exponential moving average whose weight the reader sets (0 draws the raw curve, 0.99 nearly a straight
// line), debiased so that the first points are not pulled towards zero, over at most `sampleLimit` points
// of a series (TensorBoard samples 1 000 too). The page's script (ReportScript) repeats this arithmetic
// operation for operation, so the curve it redraws at the default weight is the one drawn here.
public enum CurveSmoothing {
    /// The weight the page opens with (TensorBoard's default).
    public static let defaultWeight = 0.6
    /// The slider's range: 0 (raw) to 0.99.
    public static let maximumWeight = 0.99
    /// Points of a series kept for smoothing; longer series are sampled evenly (first and last kept).
    public static let sampleLimit = 1000

    /// TensorBoard's debiased EMA: `last = last·w + (1−w)·x`, divided by `1 − wⁿ` after n points, which
    /// equals the average of the points so far weighted wⁱ⁻ʲ. `wⁿ` is kept as a running product (no
    /// `pow`), so the page's script computes the same doubles. Non-finite values pass through unsmoothed
    /// and do not enter the average. `weight` is clamped to 0…`maximumWeight` (at 1 nothing would move).
    public static func ema(_ values: [Double], weight: Double) -> [Double] {
        let weight = min(max(weight, 0), maximumWeight)
        var last = 0.0
        var power = 1.0
        return values.map { value in
            guard value.isFinite else { return value }
            last = last * weight + (1 - weight) * value
            power *= weight
            return last / (1 - power)
        }
    }

    /// At most `limit` points, evenly spaced by index, the first and the last always among them.
    public static func sample<Point>(_ points: [Point], limit: Int = sampleLimit) -> [Point] {
        guard points.count > limit, limit >= 2 else { return points }
        let span = Double(points.count - 1) / Double(limit - 1)
        return (0..<limit).map { points[Int((Double($0) * span).rounded())] }
    }
}
