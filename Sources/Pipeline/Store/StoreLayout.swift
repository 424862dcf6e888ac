// StoreLayout — where a Loom home (`--home`, `$LOOM_HOME`, default `./runs`) keeps things:
//   loom.sqlite              the run store (WAL)
//   cache/<fingerprint>/     completed stage outputs, each with a `.loom-complete.json` manifest
//   work/<fingerprint>/      attempts in progress (`attempt-*`) and the stage's `resume/` directory
//   locks/<fingerprint>.lock held (flock) by the one process executing that fingerprint
//   logs/<run>/<stage>.<attempt>.log
//   jobs/<run>/<stage>.<attempt>/  a batch job's plan, script and report file (Slurm; see JobDirectory)
import Foundation

public struct StoreLayout: Sendable {
    public let home: URL

    public static let manifestName = ".loom-complete.json"

    public init(home: URL) {
        self.home = home.standardizedFileURL
    }

    public var database: URL { home.appendingPathComponent("loom.sqlite") }
    public var databaseLock: URL { home.appendingPathComponent("loom.sqlite.lock") }
    public var cacheRoot: URL { home.appendingPathComponent("cache") }
    public var workRoot: URL { home.appendingPathComponent("work") }
    public var lockRoot: URL { home.appendingPathComponent("locks") }
    public var logRoot: URL { home.appendingPathComponent("logs") }
    public var jobRoot: URL { home.appendingPathComponent("jobs") }

    public func cacheEntry(_ fingerprint: String) -> URL { cacheRoot.appendingPathComponent(fingerprint) }
    public func manifest(_ fingerprint: String) -> URL { cacheEntry(fingerprint).appendingPathComponent(Self.manifestName) }
    public func workDirectory(_ fingerprint: String) -> URL { workRoot.appendingPathComponent(fingerprint) }
    /// Survives failed and killed attempts (training checkpoints); removed once the stage succeeds.
    public func resumeDirectory(_ fingerprint: String) -> URL { workDirectory(fingerprint).appendingPathComponent("resume") }
    public func lockFile(_ fingerprint: String) -> URL { lockRoot.appendingPathComponent("\(fingerprint).lock") }

    public func logFile(run: Int64, stage: String, attempt: Int) -> URL {
        logRoot.appendingPathComponent(String(run)).appendingPathComponent("\(stage).\(attempt).log")
    }

    public func jobDirectory(run: Int64, stage: String, attempt: Int) -> JobDirectory {
        JobDirectory(url: jobRoot.appendingPathComponent(String(run)).appendingPathComponent("\(stage).\(attempt)"))
    }

    /// A cache entry is complete when its manifest exists (it is written before the entry is renamed in).
    public func isCached(_ fingerprint: String) -> Bool {
        access(manifest(fingerprint).path, F_OK) == 0
    }
}

/// The files through which the runner and a batch job's stage process talk, on the filesystem they share:
/// the runner writes the plan and the job script; the stage appends to the report file (status,
/// heartbeat, metrics, progress, artifacts) and never opens the run store; the runner ingests the report
/// and saves how far it got, so that a runner that resumes the run continues from there.
public struct JobDirectory: Sendable, Equatable {
    public let url: URL

    public var plan: URL { url.appendingPathComponent("plan.json") }
    public var script: URL { url.appendingPathComponent("job.sh") }
    public var report: URL { url.appendingPathComponent("report.jsonl") }
    public var reportOffset: URL { url.appendingPathComponent("report.offset") }

    /// The plan the runner wrote for the job.
    public func readPlan() throws -> Plan {
        try Plan(json: JSONValue.parse(Data(contentsOf: plan)))
    }
}
