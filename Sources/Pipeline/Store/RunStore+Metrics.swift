// RunStore+Metrics — metric rows (run, stage, key, step, value, time), written in batches, and the
// last-step value per key kept alongside (as MLflow's latest_metrics) so compare never scans history.
//
// A stage that resumes from a checkpoint may log a step twice; readers keep the last row written
// for a (key, step), so the curve after a resume equals the uninterrupted one.
import Foundation
import GRDB
import GRDBSQLite

extension RunStore {
    /// Appends one batch in one transaction.
    public func appendMetrics(run: Int64, stage: String, _ points: [MetricPoint]) throws {
        guard !points.isEmpty else { return }
        var latest: [String: MetricPoint] = [:]
        for point in points where latest[point.key].map({ point.step >= $0.step }) ?? true {
            latest[point.key] = point
        }
        try pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO metrics (run_id, stage, key, step, value, time) VALUES (?, ?, ?, ?, ?, ?)")
            try Self.insertRows(points, run: run, stage: stage, statement: insert.sqliteStatement, connection: db.sqliteConnection)
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO latest_metrics (run_id, stage, key, step, value, time) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, stage, key) DO UPDATE SET step = excluded.step, value = excluded.value, time = excluded.time
                WHERE excluded.step >= latest_metrics.step
                """)
            for point in latest.values {
                upsert.setUncheckedArguments([run, stage, point.key, point.step, point.value, point.time])
                try upsert.execute()
            }
        }
    }

    /// The metric rows through SQLite's C API: binding through GRDB costs an array of existentials
    /// per row, which dominates a million-row batch. Strings are bound in place (SQLITE_STATIC), so
    /// each row is stepped and reset while its key's bytes are borrowed.
    private static func insertRows(
        _ points: [MetricPoint], run: Int64, stage: String, statement: OpaquePointer, connection: OpaquePointer?
    ) throws {
        var failure: Int32 = SQLITE_DONE
        stage.withCString { stageBytes in
            for point in points {
                point.key.withCString { keyBytes in
                    sqlite3_bind_int64(statement, 1, run)
                    sqlite3_bind_text(statement, 2, stageBytes, -1, nil)
                    sqlite3_bind_text(statement, 3, keyBytes, -1, nil)
                    sqlite3_bind_int64(statement, 4, Int64(point.step))
                    sqlite3_bind_double(statement, 5, point.value)
                    sqlite3_bind_double(statement, 6, point.time)
                    let code = sqlite3_step(statement)
                    sqlite3_reset(statement)
                    if code != SQLITE_DONE, failure == SQLITE_DONE { failure = code }
                }
                if failure != SQLITE_DONE { break }
            }
        }
        sqlite3_clear_bindings(statement)
        guard failure == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: failure), message: connection.map { String(cString: sqlite3_errmsg($0)) })
        }
    }

    /// Final (last-step) value of every metric of a run, following cached stages to their producer.
    public func finalMetrics(ofRun id: Int64) throws -> [FinalMetric] {
        try pool.read { db in
            let stages = try Row.fetchAll(db, sql: "SELECT * FROM stages WHERE run_id = ? ORDER BY position", arguments: [id])
                .map(StageRecord.init(row:))
            var result: [FinalMetric] = []
            for stage in stages {
                let source = stage.metricsSource
                let rows = try Row.fetchAll(db, sql: """
                    SELECT key, step, value FROM latest_metrics WHERE run_id = ? AND stage = ? ORDER BY key
                    """, arguments: [source.run, source.stage])
                result += rows.map { FinalMetric(stage: stage.name, key: $0["key"], step: $0["step"], value: $0["value"]) }
            }
            return result
        }
    }

    /// One metric's curve for one stage of a run: the last value written for each step, by step.
    public func metricSeries(run: Int64, stage: String, key: String) throws -> [MetricPoint] {
        guard let record = try self.stage(run: run, name: stage) else { return [] }
        let source = record.metricsSource
        return try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT key, step, value, time FROM metrics
                WHERE rowid IN (SELECT MAX(rowid) FROM metrics WHERE run_id = ? AND key = ? AND stage = ? GROUP BY step)
                ORDER BY step
                """, arguments: [source.run, key, source.stage])
                .map { MetricPoint(key: $0["key"], step: $0["step"], value: $0["value"], time: $0["time"]) }
        }
    }

    /// Number of metric rows recorded for a run's own stages.
    public func metricRowCount(run: Int64) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metrics WHERE run_id = ?", arguments: [run]) ?? 0 }
    }
}
