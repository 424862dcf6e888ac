// MetricsLogger — how a stage reports metrics: `log(key, value, step:)`. Rows are buffered and written
// in batches (one transaction per batch) when the buffer fills, every second from the heartbeat, and
// at the end of the stage, so a training loop logging every step never waits on SQLite (or on the
// report file a Slurm job records into).
import Foundation

public final class MetricsLogger: Sendable {
    private let recorder: any StageRecorder
    private let batchSize: Int
    private let buffer = Locked<[MetricPoint]>([])
    /// Serialises flushes so batches land in the order they were logged.
    private let flushing = Locked<Void>(())
    private let state = Locked(State())

    private struct State {
        var written = 0
        var dropped = 0
        var failure: Error?
    }

    public init(recorder: any StageRecorder, batchSize: Int = 20_000) {
        self.recorder = recorder
        self.batchSize = batchSize
    }

    /// Records `value` of metric `key` at `step`. Non-finite values are counted and skipped.
    public func log(_ key: String, _ value: Double, step: Int) {
        guard value.isFinite else {
            state.withLock { $0.dropped += 1 }
            return
        }
        let point = MetricPoint(key: key, step: step, value: value, time: ProcessState.now)
        let full = buffer.withLock { pending -> Bool in
            pending.append(point)
            return pending.count >= batchSize
        }
        if full { flushRecordingFailure() }
    }

    /// Several metrics at one step (`["train/loss": 2.3, "train/lr": 1e-4]`).
    public func log(_ values: [String: Double], step: Int) {
        let now = ProcessState.now
        log(values.keys.sorted().map { MetricPoint(key: $0, step: step, value: values[$0]!, time: now) })
    }

    /// Many rows at once (readers of metric files hand over a whole batch).
    public func log(_ points: [MetricPoint]) {
        let finite = points.filter(\.value.isFinite)
        if finite.count < points.count { state.withLock { $0.dropped += points.count - finite.count } }
        let full = buffer.withLock { pending -> Bool in
            pending.append(contentsOf: finite)
            return pending.count >= batchSize
        }
        if full { flushRecordingFailure() }
    }

    /// Writes what is buffered; rethrows the first failure of an earlier automatic flush.
    public func flush() throws {
        try flushing.withLock { _ in
            let batch = buffer.withLock { pending -> [MetricPoint] in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            try recorder.appendMetrics(batch)
            state.withLock { $0.written += batch.count }
        }
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    func flushRecordingFailure() {
        do {
            try flush()
        } catch {
            state.withLock { if $0.failure == nil { $0.failure = error } }
        }
    }

    public var rowsWritten: Int { state.withLock { $0.written } }
    /// NaN or infinite values that were not recorded.
    public var droppedCount: Int { state.withLock { $0.dropped } }
}
