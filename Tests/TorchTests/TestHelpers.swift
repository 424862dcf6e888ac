// TestHelpers — small shared checks for the Torch tests: approximate equality (error capture is
// TestSupport's `errorMessage`).
import Torch

/// True when every pair differs by at most `tolerance` (absolute) and the counts match.
func approximatelyEqual(_ a: [Float], _ b: [Float], tolerance: Float = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= tolerance }
}

func approximatelyEqual(_ a: [Double], _ b: [Double], tolerance: Double) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= tolerance }
}

