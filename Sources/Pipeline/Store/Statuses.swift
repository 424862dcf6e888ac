// Statuses — the lifecycle words of runs and stages, as stored and as shown.
public enum RunStatus: String, Sendable, CaseIterable {
    case running, succeeded, failed, cancelled
}

public enum StageStatus: String, Sendable, CaseIterable {
    /// Not started (or waiting for upstream stages).
    case pending
    case running
    case succeeded
    case failed
    /// Reused a complete cache entry with the same fingerprint; nothing was executed.
    case cached
    case cancelled

    /// Finished with an output that downstream stages can use.
    public var isDone: Bool { self == .succeeded || self == .cached }
}
