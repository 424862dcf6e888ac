// CancellationFlag — set once (Ctrl-C, SIGTERM, the runner going away) and polled by whoever must stop.
public final class CancellationFlag: Sendable {
    private let reasonStorage = Locked<String?>(nil)

    public init() {}

    /// Records the first reason; later calls keep it.
    public func cancel(reason: String) {
        reasonStorage.withLock { if $0 == nil { $0 = reason } }
    }

    public var isCancelled: Bool { reasonStorage.current != nil }
    public var reason: String? { reasonStorage.current }
}

/// Thrown by `StageContext.checkCancellation()`; the stage is recorded `cancelled`, not `failed`.
public struct StageCancelled: Error, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { "cancelled: \(reason)" }
}
