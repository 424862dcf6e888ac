// StoreRecords — rows of the run store as values (see StoreSchema for the tables).
import Foundation
import GRDB

public struct RunRecord: Sendable, Equatable {
    public let id: Int64
    public let recipe: String
    public let recipeFile: String
    /// "" when the recipe has no variants.
    public let variant: String
    public let status: RunStatus
    public let createdAt: Double
    public let startedAt: Double?
    public let finishedAt: Double?
    public let gitCommit: String?
    public let runnerPID: Int32?
    public let runnerHost: String?
    /// The executor its runner uses (`local`, `slurm`).
    public let executor: String

    /// `demo/core`, or `demo` without variants.
    public var label: String { variant.isEmpty ? recipe : "\(recipe)/\(variant)" }

    init(row: Row) {
        id = row["id"]
        recipe = row["recipe"]
        recipeFile = row["recipe_file"]
        variant = row["variant"]
        status = RunStatus(rawValue: row["status"]) ?? .failed
        createdAt = row["created_at"]
        startedAt = row["started_at"]
        finishedAt = row["finished_at"]
        gitCommit = row["git_commit"]
        runnerPID = row["runner_pid"]
        runnerHost = row["runner_host"]
        executor = row["executor"] ?? "local"
    }

    /// Marked running, but its runner process is gone (killed, crashed, machine restarted).
    public var runnerIsGone: Bool {
        guard status == .running, let runnerPID else { return false }
        return runnerHost == ProcessState.hostName && !ProcessState.isAlive(runnerPID)
    }
}

public struct StageRecord: Sendable, Equatable {
    public let runID: Int64
    public let name: String
    public let position: Int
    public let kind: String
    public let fingerprint: String
    public let status: StageStatus
    public let attempt: Int
    public let pid: Int32?
    public let host: String?
    public let heartbeatAt: Double?
    public let startedAt: Double?
    public let finishedAt: Double?
    public let exitCode: Int32?
    public let error: String?
    /// For a cached stage: the run and stage that produced the cache entry (metrics and artifacts live there).
    public let sourceRunID: Int64?
    public let sourceStage: String?
    public let progress: StageProgress?
    /// The batch job of the attempt (a Slurm job id) when an executor submitted it as one.
    public let jobID: String?
    /// The scheduler's latest state of that job (`PENDING`, `RUNNING`, `COMPLETED`, `TIMEOUT`…).
    public let jobState: String?

    /// A heartbeat older than this marks a `running` stage stale even when its pid cannot be checked.
    public static let staleAfterSeconds: Double = 60

    init(row: Row) {
        runID = row["run_id"]
        name = row["name"]
        position = row["position"]
        kind = row["kind"]
        fingerprint = row["fingerprint"]
        status = StageStatus(rawValue: row["status"]) ?? .failed
        attempt = row["attempt"]
        pid = row["pid"]
        host = row["host"]
        heartbeatAt = row["heartbeat_at"]
        startedAt = row["started_at"]
        finishedAt = row["finished_at"]
        exitCode = row["exit_code"]
        error = row["error"]
        sourceRunID = row["source_run_id"]
        sourceStage = row["source_stage"]
        let progressText: String? = row["progress"]
        progress = progressText.flatMap { try? JSONValue.parse($0) }.map(StageProgress.init(json:))
        jobID = row["job_id"]
        jobState = row["job_state"]
    }

    /// Where this stage's metrics and artifacts are recorded (itself, or the producer of its cache entry).
    public var metricsSource: (run: Int64, stage: String) {
        if let sourceRunID, let sourceStage { return (sourceRunID, sourceStage) }
        return (runID, name)
    }

    /// Why a `running` stage is known to be dead, or nil if it may still be running.
    public func staleReason(now: Double = ProcessState.now) -> String? {
        guard status == .running else { return nil }
        // A job waiting in the queue has no process to beat yet.
        if jobID != nil, let jobState, SlurmJobState(jobState)?.isQueued == true { return nil }
        if let pid, host == ProcessState.hostName, !ProcessState.isAlive(pid) {
            return "process \(pid) is gone"
        }
        if let heartbeatAt, now - heartbeatAt > Self.staleAfterSeconds {
            return "no heartbeat for \(Int(now - heartbeatAt)) s"
        }
        return nil
    }
}

public struct MetricPoint: Sendable, Equatable {
    public let key: String
    public let step: Int
    public let value: Double
    public let time: Double

    public init(key: String, step: Int, value: Double, time: Double) {
        self.key = key
        self.step = step
        self.value = value
        self.time = time
    }
}

/// The last-step value of one metric of one stage.
public struct FinalMetric: Sendable, Equatable {
    public let stage: String
    public let key: String
    public let step: Int
    public let value: Double

    public init(stage: String, key: String, step: Int, value: Double) {
        self.stage = stage
        self.key = key
        self.step = step
        self.value = value
    }
}

public struct ArtifactRecord: Sendable, Equatable {
    public let name: String
    /// Relative to the stage's output (cache entry) directory.
    public let path: String
    public let sha256: String
    public let bytes: Int64

    public init(name: String, path: String, sha256: String, bytes: Int64) {
        self.name = name
        self.path = path
        self.sha256 = sha256
        self.bytes = bytes
    }
}

public struct EventRecord: Sendable, Equatable {
    public let time: Double
    public let stage: String?
    public let kind: String
    public let message: String
}

public struct ParamRecord: Sendable, Equatable {
    public let stage: String
    /// Dotted path within the stage's parameters (`lora.rank`).
    public let key: String
    /// Canonical JSON of the value.
    public let value: String

    public init(stage: String, key: String, value: String) {
        self.stage = stage
        self.key = key
        self.value = value
    }
}
