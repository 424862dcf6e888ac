// TorchRuntime — facts about the linked libtorch and process-wide settings (threads, global seed), the
// error type every Torch call throws, and the helpers that turn a shim status into a thrown error.
import CTorch
import Foundation

/// An error raised by libtorch (or by the shim's argument checks), carrying libtorch's message
/// followed by the op and its operands' shapes, e.g.
/// `mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5) (in matmul of [2, 3] f32 and [4, 5] f32)`.
public struct TorchError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The C type of a shim error out-parameter (`char **err`).
typealias ErrorOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

/// Runs one shim call and turns `CTORCH_ERROR` + message into a thrown `TorchError`.
@inline(__always)
func check(_ call: (ErrorOut) -> Int32) throws {
    var message: UnsafeMutablePointer<CChar>? = nil
    let status = call(&message)
    if status != CTORCH_OK { throw takeError(message) }
}

/// Runs a shim call that returns a new tensor handle and wraps it in a `Tensor` (which then owns it).
@inline(__always)
func makeTensor(_ call: (UnsafeMutablePointer<OpaquePointer?>, ErrorOut) -> Int32) throws -> Tensor {
    var out: OpaquePointer? = nil
    var message: UnsafeMutablePointer<CChar>? = nil
    let status = call(&out, &message)
    guard status == CTORCH_OK, let out else { throw takeError(message) }
    return Tensor(owning: out)
}

/// For shim calls that cannot fail on a live handle (reading a tensor's shape, dtype, grad mode): a
/// failure there means a broken invariant, not bad input, so it stops the process with the message.
@inline(__always)
func mustSucceed(_ call: (ErrorOut) -> Int32) {
    var message: UnsafeMutablePointer<CChar>? = nil
    if call(&message) != CTORCH_OK { fatalError("libtorch shim invariant broken: \(takeError(message).message)") }
}

func takeError(_ message: UnsafeMutablePointer<CChar>?) -> TorchError {
    defer { ctorch_free_string(message) }
    return TorchError(message.map { String(cString: $0) } ?? "libtorch call failed without a message")
}

public enum TorchRuntime {
    /// libtorch's version, e.g. "1.13.1".
    public static func version() throws -> String {
        var version: UnsafePointer<CChar>? = nil
        try check { ctorch_version(&version, $0) }
        return String(cString: version!)
    }

    /// Where libtorch came from: `loaded`, the libtorch_cpu file the dynamic loader mapped into this
    /// process; `builtAgainst`, the lib/ directory the shim was compiled and linked against (empty when
    /// its build did not say).
    public static func libraryLocation() throws -> (loaded: String, builtAgainst: String) {
        var loaded: UnsafePointer<CChar>? = nil
        var builtAgainst: UnsafePointer<CChar>? = nil
        try check { ctorch_libtorch_location(&loaded, &builtAgainst, $0) }
        return (String(cString: loaded!), String(cString: builtAgainst!))
    }

    /// libtorch's own build summary (`torch.__config__.show()`): compiler, BLAS and LAPACK, CPU
    /// capability, CUDA and the build settings.
    public static func buildConfiguration() throws -> String {
        var text: UnsafePointer<CChar>? = nil
        try check { ctorch_build_configuration(&text, $0) }
        return String(cString: text!)
    }

    /// One `KEY=value` of the build settings line of `buildConfiguration()` (e.g. `BLAS_INFO` → "mkl").
    public static func buildSetting(_ key: String) throws -> String? {
        for field in try buildConfiguration().split(whereSeparator: { $0 == "," || $0 == "\n" }) {
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            let setting = trimmed.hasPrefix("- Build settings: ") ? String(trimmed.dropFirst("- Build settings: ".count)) : trimmed
            if setting.hasPrefix(key + "=") { return String(setting.dropFirst(key.count + 1)) }
        }
        return nil
    }

    /// True when the linked libtorch was built with CUDA and a CUDA device is visible.
    public static func cudaIsAvailable() throws -> Bool {
        var available: Int32 = 0
        try check { ctorch_cuda_is_available(&available, $0) }
        return available != 0
    }

    public static func cudaDeviceCount() throws -> Int {
        var count: Int32 = 0
        try check { ctorch_cuda_device_count(&count, $0) }
        return Int(count)
    }

    /// Peak bytes allocated and reserved by libtorch's CUDA caching allocator on `device` since the last
    /// reset (`torch.cuda.max_memory_allocated` / `max_memory_reserved`); `reset` starts a new peak.
    /// Throws where libtorch has no CUDA allocator (a CPU-only build) or the device does not exist.
    public static func cudaMemoryPeak(device: Int, reset: Bool = false) throws -> (allocated: Int, reserved: Int) {
        var allocated: Int64 = 0, reserved: Int64 = 0
        try check { ctorch_cuda_memory_peak(Int32(device), reset ? 1 : 0, &allocated, &reserved, $0) }
        return (Int(allocated), Int(reserved))
    }

    /// libtorch's intra-op thread count (matmuls, elementwise kernels). Set on first use of Torch to
    /// `defaultThreadCount()`.
    public static func numThreads() throws -> Int {
        try ensureConfigured()
        var threads: Int32 = 0
        try check { ctorch_get_num_threads(&threads, $0) }
        return Int(threads)
    }

    /// Runs the parallel loop Loom's CPU kernels use over `items` items (one per task) and reports how many
    /// threads ran them, and whether the loop forked through libtorch's OpenMP runtime (libgomp) rather
    /// than ATen's `parallel_for` (which, compiled into the shim without OpenMP, runs serially). `failAt`:
    /// an item that throws, to check that a kernel's error comes back as a TorchError.
    public static func parallelLoopCheck(items: Int, failAt: Int? = nil) throws -> (threads: Int, openMP: Bool) {
        try ensureConfigured()
        var threads: Int32 = 0, openMP: Int32 = 0
        try check { ctorch_parallel_loop_check(Int64(items), Int64(failAt ?? -1), &threads, &openMP, $0) }
        return (Int(threads), openMP != 0)
    }

    /// Changes the intra-op thread count for the whole process.
    public static func setNumThreads(_ threads: Int) throws {
        try ensureConfigured()
        guard let count = Int32(exactly: threads) else { throw TorchError("thread count \(threads) is out of range") }
        try check { ctorch_set_num_threads(count, $0) }
    }

    /// Seeds libtorch's global generators — the ones used when an op is given no `Generator`.
    /// Prefer explicit `Generator`s: their state can be checkpointed and nothing else draws from them.
    public static func manualSeed(_ seed: UInt64) throws {
        try ensureConfigured()
        try check { ctorch_manual_seed(seed, $0) }
    }

    /// Returns the free pages of the C heap to the system (glibc's `malloc_trim(0)`). glibc keeps freed
    /// blocks below its dynamic mmap threshold (which grows to 32 MiB) in the heap, where they stay
    /// resident until reused: after transient multi-megabyte tensors — dense weights quantised while a
    /// model is built — the resident set stays hundreds of MB above what is alive unless trimmed.
    public static func releaseFreeHeapMemory() throws {
        try check { ctorch_release_free_heap_memory($0) }
    }

    /// The thread count Loom uses unless told otherwise: `LOOM_THREADS` when set (a positive integer),
    /// else every core this process may run on (`ProcessInfo.activeProcessorCount`).
    public static func defaultThreadCount(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        if let text = environment["LOOM_THREADS"] {
            guard let threads = Int(text.trimmingCharacters(in: .whitespaces)), threads >= 1 else {
                throw TorchError("LOOM_THREADS must be a positive integer, got '\(text)'")
            }
            return threads
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Applies the process-wide defaults once, before the first tensor exists. Every entry point that
    /// creates tensors or generators from nothing calls it; ops on existing tensors need not.
    @inline(__always)
    static func ensureConfigured() throws {
        if let configurationError { throw configurationError }
    }

    private static let configurationError: TorchError? = {
        do {
            let threads = try defaultThreadCount()
            try check { ctorch_set_num_threads(Int32(clamping: threads), $0) }
            return nil
        } catch let error as TorchError {
            return error
        } catch {
            return TorchError("\(error)")
        }
    }()
}
