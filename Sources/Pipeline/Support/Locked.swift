// Locked — a value shared between threads (the runner's poll loop, heartbeat threads, signal
// handlers), every access under one lock.
import Foundation

// @unchecked Sendable: the stored value is only read or written inside `withLock`, under `lock`.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    @discardableResult
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    public var current: Value { withLock { $0 } }
}
