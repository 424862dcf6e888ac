// StageRecorder — where a stage attempt records what happens to it: its process, heartbeats with
// progress, metric batches, artifacts and how it ended. Two routes, one driver:
//   - StoreRecorder writes the run store directly (local processes and in-process stages, on the
//     runner's own host: the fastest route, and a stage whose runner died still records its end);
//   - ReportFileRecorder appends JSON lines to the attempt's report file (Slurm jobs on other nodes,
//     which must not write SQLite over a network filesystem); the runner ingests the file.
import Foundation

/// Where a stage attempt records itself (see the file header for the two routes).
public protocol StageRecorder: Sendable {
    /// The stage process has started (its own pid and host).
    func processStarted(pid: Int32, host: String) throws
    /// The stage is alive; `progress` is its latest report when it changed.
    func heartbeat(progress: StageProgress?) throws
    /// One batch of finite metric values, in the order logged.
    func appendMetrics(_ points: [MetricPoint]) throws
    /// The digested files of a promoted output.
    func recordArtifacts(_ artifacts: [ArtifactRecord]) throws
    /// How the attempt ended.
    func finish(_ status: StageStatus, exitCode: Int32?, error: String?) throws
    /// A complete cache entry appeared meanwhile and is reused.
    func markCached(sourceRun: Int64?, sourceStage: String?) throws
}

/// Records straight into the run store.
public struct StoreRecorder: StageRecorder {
    public let store: RunStore
    public let run: Int64
    public let stage: String

    /// Records for `stage` of `run` in `store`.
    public init(store: RunStore, run: Int64, stage: String) {
        self.store = store
        self.run = run
        self.stage = stage
    }

    public func processStarted(pid: Int32, host: String) throws {
        try store.stageProcessStarted(run: run, stage: stage, pid: pid, host: host)
    }

    public func heartbeat(progress: StageProgress?) throws {
        try store.heartbeat(run: run, stage: stage, progress: progress)
    }

    public func appendMetrics(_ points: [MetricPoint]) throws {
        try store.appendMetrics(run: run, stage: stage, points)
    }

    public func recordArtifacts(_ artifacts: [ArtifactRecord]) throws {
        try store.recordArtifacts(run: run, stage: stage, artifacts)
    }

    public func finish(_ status: StageStatus, exitCode: Int32?, error: String?) throws {
        try store.finishStage(run: run, stage: stage, status: status, exitCode: exitCode, error: error)
    }

    public func markCached(sourceRun: Int64?, sourceStage: String?) throws {
        try store.markCached(run: run, stage: stage, sourceRun: sourceRun, sourceStage: sourceStage)
    }
}

/// What a data-parallel rank other than 0 records: nothing. Rank 0 records the stage (its metrics are
/// the group's: losses are averaged over the ranks before they are logged).
struct FollowerRecorder: StageRecorder {
    func processStarted(pid: Int32, host: String) throws {}
    func heartbeat(progress: StageProgress?) throws {}
    func appendMetrics(_ points: [MetricPoint]) throws {}
    func recordArtifacts(_ artifacts: [ArtifactRecord]) throws {}
    func finish(_ status: StageStatus, exitCode: Int32?, error: String?) throws {}
    func markCached(sourceRun: Int64?, sourceStage: String?) throws {}
}
