// RunStore — the SQLite record of every run: runs, stages (status, attempts, pids, heartbeats,
// fingerprints), params, metrics, artifacts and events. One `DatabasePool` (WAL: readers never wait
// for the writer) per process with a busy timeout, so several `loom run` processes and their stage
// children write to one store at once.
import Foundation
import GRDB

public final class RunStore: Sendable {
    public let layout: StoreLayout
    let pool: DatabasePool

    /// Opens (creating if needed) the store under `home`.
    public init(home: URL) throws {
        layout = StoreLayout(home: home)
        try FileManager.default.createDirectory(at: layout.home, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.prepareDatabase { db in
            // WAL + NORMAL: a crash can lose the last commits but never corrupts the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // Two processes creating or migrating a fresh store at once would race on the schema: the first
        // to hold the lock does it, the other then finds it done.
        let lock = try FileLock.acquire(layout.databaseLock)
        defer { lock.release() }
        pool = try DatabasePool(path: layout.database.path, configuration: configuration)
        let migrator = StoreSchema.migrator
        if try !pool.read({ try migrator.hasCompletedMigrations($0) }) {
            try migrator.migrate(pool)
        }
    }

    // MARK: runs

    /// Records one run per plan, with its stages `pending` and its flattened params (as written: input
    /// paths relative to the project, so runs compare across checkouts).
    public func createRuns(_ plans: [Plan], gitCommit: String?, executor: String = "local") throws -> [Int64] {
        let now = ProcessState.now
        return try pool.write { db in
            try plans.map { plan in
                try db.execute(sql: "INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)",
                               arguments: [plan.recipeName, now])
                let experimentID = try Int64.fetchOne(db, sql: "SELECT id FROM experiments WHERE name = ?",
                                                      arguments: [plan.recipeName])!
                try db.execute(sql: """
                    INSERT INTO runs (experiment_id, recipe_file, variant, status, created_at, started_at, git_commit,
                                      runner_pid, runner_host, plan, executor)
                    VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [experimentID, plan.recipeFile, plan.variant, now, now, gitCommit,
                                     ProcessState.currentPID, ProcessState.hostName, plan.json.canonicalJSON, executor])
                let runID = db.lastInsertedRowID
                for (position, stage) in plan.stages.enumerated() {
                    try db.execute(sql: """
                        INSERT INTO stages (run_id, name, position, kind, fingerprint, status) VALUES (?, ?, ?, ?, ?, 'pending')
                        """, arguments: [runID, stage.name, position, stage.kind, stage.fingerprint])
                    for (key, value) in flatten(stage.portableParams, prefix: "") {
                        try db.execute(sql: "INSERT INTO params (run_id, stage, key, value) VALUES (?, ?, ?, ?)",
                                       arguments: [runID, stage.name, key, value.canonicalJSON])
                    }
                }
                try addEvent(db, run: runID, stage: nil, kind: "created",
                             message: "run created from \(plan.recipeFile)\(plan.variant.isEmpty ? "" : " variant \(plan.variant)")")
                return runID
            }
        }
    }

    /// Leaves are the keys people compare (`lora.rank`); lists stay whole values.
    private func flatten(_ value: JSONValue, prefix: String) -> [(String, JSONValue)] {
        guard case .object(let members) = value, !(members.isEmpty && !prefix.isEmpty) else {
            return prefix.isEmpty ? [] : [(prefix, value)]
        }
        return members.keys.sorted().flatMap { key in
            flatten(members[key]!, prefix: prefix.isEmpty ? key : "\(prefix).\(key)")
        }
    }

    static let runColumns = """
        runs.id, experiments.name AS recipe, runs.recipe_file, runs.variant, runs.status, runs.created_at,
        runs.started_at, runs.finished_at, runs.git_commit, runs.runner_pid, runs.runner_host, runs.executor
        """

    public func run(_ id: Int64) throws -> RunRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.runColumns) FROM runs JOIN experiments ON experiments.id = runs.experiment_id WHERE runs.id = ?",
                             arguments: [id]).map(RunRecord.init(row:))
        }
    }

    /// Newest first; optionally only one recipe's (and one variant's) runs.
    public func runs(recipe: String? = nil, variant: String? = nil, limit: Int? = nil) throws -> [RunRecord] {
        try pool.read { db in
            var sql = "SELECT \(Self.runColumns) FROM runs JOIN experiments ON experiments.id = runs.experiment_id"
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let recipe { conditions.append("experiments.name = ?"); arguments += [recipe] }
            if let variant { conditions.append("runs.variant = ?"); arguments += [variant] }
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            sql += " ORDER BY runs.id DESC"
            if let limit { sql += " LIMIT \(limit)" }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(RunRecord.init(row:))
        }
    }

    public func plan(ofRun id: Int64) throws -> Plan {
        let text = try pool.read { db in try String.fetchOne(db, sql: "SELECT plan FROM runs WHERE id = ?", arguments: [id]) }
        guard let text else { throw RunStoreError.unknownRun(String(id)) }
        return try Plan(json: JSONValue.parse(text))
    }

    /// The most recent run of the same recipe and variant before `run` (what `--dry-run` explains against).
    public func previousPlan(recipe: String, variant: String, before run: Int64? = nil) throws -> (Int64, Plan)? {
        let row = try pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT runs.id, runs.plan FROM runs JOIN experiments ON experiments.id = runs.experiment_id
                WHERE experiments.name = ? AND runs.variant = ? AND runs.id < ? ORDER BY runs.id DESC LIMIT 1
                """, arguments: [recipe, variant, run ?? Int64.max])
        }
        guard let row else { return nil }
        let text: String = row["plan"]
        return (row["id"], try Plan(json: JSONValue.parse(text)))
    }

    /// The runner taking charge of a run (a new `loom run`, or `loom resume`) with `executor`.
    public func claimRun(_ id: Int64, executor: String = "local") throws {
        try pool.write { db in
            try db.execute(sql: """
                UPDATE runs SET status = 'running', finished_at = NULL, runner_pid = ?, runner_host = ?,
                                started_at = COALESCE(started_at, ?), executor = ?
                WHERE id = ?
                """, arguments: [ProcessState.currentPID, ProcessState.hostName, ProcessState.now, executor, id])
        }
    }

    public func finishRun(_ id: Int64, status: RunStatus) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                           arguments: [status.rawValue, ProcessState.now, id])
            try addEvent(db, run: id, stage: nil, kind: status.rawValue, message: "run \(status.rawValue)")
        }
    }

    // MARK: stages

    public func stages(ofRun id: Int64) throws -> [StageRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM stages WHERE run_id = ? ORDER BY position", arguments: [id])
                .map(StageRecord.init(row:))
        }
    }

    public func stage(run: Int64, name: String) throws -> StageRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM stages WHERE run_id = ? AND name = ?", arguments: [run, name])
                .map(StageRecord.init(row:))
        }
    }

    /// The stage that computed a cached stage's cache entry — the source the runner recorded, when that
    /// stage exists in this store with the same fingerprint (a store recreated beside an old cache has
    /// new runs under the old ids), otherwise the earliest stage that ran this fingerprint and succeeded.
    /// Nil for a stage that is not cached, or when no run in this store computed the entry.
    public func producer(ofCached stage: StageRecord) throws -> StageRecord? {
        guard stage.status == .cached else { return nil }
        return try pool.read { db in
            if let run = stage.sourceRunID, let name = stage.sourceStage,
               let source = try Row.fetchOne(db, sql: """
                   SELECT * FROM stages WHERE run_id = ? AND name = ? AND fingerprint = ? AND status = 'succeeded'
                   """, arguments: [run, name, stage.fingerprint]) {
                return StageRecord(row: source)
            }
            return try Row.fetchOne(db, sql: """
                SELECT * FROM stages WHERE fingerprint = ? AND status = 'succeeded' ORDER BY finished_at, run_id LIMIT 1
                """, arguments: [stage.fingerprint]).map(StageRecord.init(row:))
        }
    }

    /// Stages of many runs at once (the live display polls this).
    public func stages(ofRuns ids: [Int64]) throws -> [StageRecord] {
        guard !ids.isEmpty else { return [] }
        return try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM stages WHERE run_id IN (\(ids.map(String.init).joined(separator: ","))) ORDER BY run_id, position")
                .map(StageRecord.init(row:))
        }
    }

    /// The runner starts an attempt: `running`, attempt incremented, the child's pid recorded.
    public func startAttempt(run: Int64, stage: String, pid: Int32?) throws -> Int {
        try pool.write { db in
            let now = ProcessState.now
            try db.execute(sql: """
                UPDATE stages SET status = 'running', attempt = attempt + 1, pid = ?, host = ?, heartbeat_at = ?,
                    started_at = ?, finished_at = NULL, exit_code = NULL, error = NULL, progress = NULL,
                    source_run_id = NULL, source_stage = NULL, job_id = NULL, job_state = NULL
                WHERE run_id = ? AND name = ?
                """, arguments: [pid, ProcessState.hostName, now, now, run, stage])
            let attempt = try Int.fetchOne(db, sql: "SELECT attempt FROM stages WHERE run_id = ? AND name = ?", arguments: [run, stage]) ?? 1
            try addEvent(db, run: run, stage: stage, kind: "started", message: "attempt \(attempt) started")
            return attempt
        }
    }

    /// The stage process reports itself (its own pid: the runner knew only the child it spawned, or a job).
    public func stageProcessStarted(run: Int64, stage: String, pid: Int32, host: String = ProcessState.hostName,
                                    at time: Double = ProcessState.now) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE stages SET pid = ?, host = ?, heartbeat_at = ? WHERE run_id = ? AND name = ?",
                           arguments: [pid, host, time, run, stage])
        }
    }

    /// The stage was alive at `time` (now, unless a report file said when), with its latest progress.
    public func heartbeat(run: Int64, stage: String, progress: StageProgress?, at time: Double = ProcessState.now) throws {
        try pool.write { db in
            try db.execute(sql: """
                UPDATE stages SET heartbeat_at = MAX(COALESCE(heartbeat_at, 0), ?), progress = COALESCE(?, progress)
                WHERE run_id = ? AND name = ?
                """, arguments: [time, progress?.json.canonicalJSON, run, stage])
        }
    }

    /// The batch job an attempt was submitted as (a Slurm job id) and the scheduler's latest word on it.
    public func recordJob(run: Int64, stage: String, jobID: String, state: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE stages SET job_id = ?, job_state = ? WHERE run_id = ? AND name = ?",
                           arguments: [jobID, state, run, stage])
            try addEvent(db, run: run, stage: stage, kind: "submitted", message: "submitted as Slurm job \(jobID)")
        }
    }

    /// The scheduler's latest state of the attempt's job (`PENDING`, `RUNNING`, `TIMEOUT`…).
    public func updateJobState(run: Int64, stage: String, state: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE stages SET job_state = ? WHERE run_id = ? AND name = ?", arguments: [state, run, stage])
        }
    }

    /// Records how an attempt ended.
    public func finishStage(run: Int64, stage: String, status: StageStatus, exitCode: Int32? = nil, error: String? = nil) throws {
        try pool.write { db in
            try db.execute(sql: """
                UPDATE stages SET status = ?, finished_at = ?, exit_code = COALESCE(?, exit_code), error = ?
                WHERE run_id = ? AND name = ?
                """, arguments: [status.rawValue, ProcessState.now, exitCode, error, run, stage])
            try addEvent(db, run: run, stage: stage, kind: status.rawValue,
                         message: error.map { "\(status.rawValue): \($0)" } ?? status.rawValue)
        }
    }

    /// Reused the cache entry that `sourceRun`/`sourceStage` produced.
    ///
    /// The source (from the cache entry's manifest) is kept only when it names a stage of this store with
    /// the same fingerprint: a store made anew beside an old cache has other runs under the old ids.
    /// Otherwise the earliest stage that produced the fingerprint here is recorded, or none — so that
    /// metrics and artifacts are never read from an unrelated run.
    public func markCached(run: Int64, stage: String, sourceRun: Int64?, sourceStage: String?) throws {
        try pool.write { db in
            var sourceRun = sourceRun, sourceStage = sourceStage
            if let fingerprint = try String.fetchOne(db, sql: "SELECT fingerprint FROM stages WHERE run_id = ? AND name = ?", arguments: [run, stage]) {
                // The named stage must have computed the entry (not taken it from the cache itself), but need not
                // be recorded `succeeded` yet: its runner may still be ingesting its report.
                let named = try sourceRun.flatMap { id in
                    try sourceStage.flatMap { name in
                        try Row.fetchOne(db, sql: """
                            SELECT run_id, name FROM stages WHERE fingerprint = ? AND run_id = ? AND name = ? AND status != 'cached'
                            """, arguments: [fingerprint, id, name])
                    }
                }
                let row = try named ?? Row.fetchOne(db, sql: """
                    SELECT run_id, name FROM stages WHERE fingerprint = ? AND status = 'succeeded' ORDER BY finished_at, run_id LIMIT 1
                    """, arguments: [fingerprint])
                sourceRun = row?["run_id"]
                sourceStage = row?["name"]
            }
            let now = ProcessState.now
            try db.execute(sql: """
                UPDATE stages SET status = 'cached', started_at = COALESCE(started_at, ?), finished_at = ?, error = NULL,
                    source_run_id = ?, source_stage = ?
                WHERE run_id = ? AND name = ?
                """, arguments: [now, now, sourceRun, sourceStage, run, stage])
            try addEvent(db, run: run, stage: stage, kind: "cached",
                         message: sourceRun.map { "cached (output of run \($0) stage \(sourceStage ?? stage))" } ?? "cached")
        }
    }

    /// Puts a stage back to `pending` for another attempt (resume), noting why.
    public func resetStage(run: Int64, stage: String, reason: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE stages SET status = 'pending', progress = NULL WHERE run_id = ? AND name = ?",
                           arguments: [run, stage])
            try addEvent(db, run: run, stage: stage, kind: "reset", message: reason)
        }
    }

    /// Every fingerprint some run's stage names (cache entries `loom gc` must keep).
    public func referencedFingerprints() throws -> Set<String> {
        try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT fingerprint FROM stages")) }
    }

    // MARK: params

    public func params(ofRun id: Int64) throws -> [ParamRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT stage, key, value FROM params WHERE run_id = ? ORDER BY stage, key", arguments: [id])
                .map { ParamRecord(stage: $0["stage"], key: $0["key"], value: $0["value"]) }
        }
    }

    // MARK: events

    public func addEvent(run: Int64, stage: String?, kind: String, message: String) throws {
        try pool.write { db in try addEvent(db, run: run, stage: stage, kind: kind, message: message) }
    }

    func addEvent(_ db: Database, run: Int64, stage: String?, kind: String, message: String) throws {
        try db.execute(sql: "INSERT INTO events (run_id, stage, time, kind, message) VALUES (?, ?, ?, ?, ?)",
                       arguments: [run, stage, ProcessState.now, kind, message])
    }

    public func events(ofRun id: Int64) throws -> [EventRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT time, stage, kind, message FROM events WHERE run_id = ? ORDER BY id", arguments: [id])
                .map { EventRecord(time: $0["time"], stage: $0["stage"], kind: $0["kind"], message: $0["message"]) }
        }
    }

    // MARK: maintenance

    /// `PRAGMA integrity_check`: "ok" for a sound database.
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n") }
    }
}

public enum RunStoreError: Error, CustomStringConvertible, Equatable {
    case unknownRun(String)
    case ambiguousRun(String, [String])
    case unknownStage(run: Int64, stage: String, known: [String])

    public var description: String {
        switch self {
        case .unknownRun(let reference):
            "no run '\(reference)' in this store (see `loom runs`)"
        case .ambiguousRun(let reference, let choices):
            "'\(reference)' names several runs: \(choices.joined(separator: ", ")) — pick one"
        case .unknownStage(let run, let stage, let known):
            "run \(run) has no stage '\(stage)'\(NearestName.hint(for: stage, among: known)) (stages: \(known.joined(separator: ", ")))"
        }
    }
}
