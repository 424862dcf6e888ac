// Profiler — libtorch's op profiler around a block: which ATen ops (forward and backward) ran, and for
// how long, written as a Chrome trace (chrome://tracing, Perfetto). For finding where a model's time
// goes; the numbers include the profiler's own small per-op cost.
import CTorch
import Foundation

public enum Profiler {
    /// Runs `body` while recording every op, then writes the trace to `url`.
    public static func record<T>(traceTo url: URL, _ body: () throws -> T) throws -> T {
        try TorchRuntime.ensureConfigured()
        var profiler: OpaquePointer? = nil
        try check { ctorch_profiler_start(url.path, &profiler, $0) }
        defer { ctorch_profiler_stop(profiler) }
        return try body()
    }
}
