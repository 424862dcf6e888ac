// TorchRuntime — facts about the linked libtorch and process-wide settings (threads, seed).
import CTorch

/// An error raised by libtorch (or by the shim's argument checks), carrying libtorch's message.
public struct TorchError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs one shim call and turns `CTORCH_ERROR` + message into a thrown `TorchError`.
@inline(__always)
func check(_ call: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32) throws {
    var message: UnsafeMutablePointer<CChar>? = nil
    let status = call(&message)
    if status != CTORCH_OK {
        defer { ctorch_free_string(message) }
        throw TorchError(message.map { String(cString: $0) } ?? "libtorch call failed without a message")
    }
}

public enum TorchRuntime {
    /// libtorch's version, e.g. "1.13.0".
    public static func version() throws -> String {
        var version: UnsafePointer<CChar>? = nil
        try check { ctorch_version(&version, $0) }
        return String(cString: version!)
    }

    public static func cudaIsAvailable() throws -> Bool {
        var available: Int32 = 0
        try check { ctorch_cuda_is_available(&available, $0) }
        return available != 0
    }

    public static func numThreads() throws -> Int {
        var threads: Int32 = 0
        try check { ctorch_get_num_threads(&threads, $0) }
        return Int(threads)
    }

    public static func setNumThreads(_ threads: Int) throws {
        try check { ctorch_set_num_threads(Int32(threads), $0) }
    }

    public static func manualSeed(_ seed: UInt64) throws {
        try check { ctorch_manual_seed(seed, $0) }
    }
}
