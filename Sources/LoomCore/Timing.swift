// Timing — the median wall time of a repeated piece of work: how torch-info's GEMM check and the
// benchmark probes time what they measure.
import Foundation

public enum Timing {
    /// Runs `body` once to warm up, then `runs` times, and returns the median wall time in seconds.
    public static func medianSeconds(runs: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<max(1, runs) { times.append(try seconds(body)) }
        times.sort()
        return times[times.count / 2]
    }

    /// The wall time of one run of `body`, in seconds (no warm-up).
    public static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
