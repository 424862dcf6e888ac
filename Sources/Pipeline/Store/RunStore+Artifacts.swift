// RunStore+Artifacts — the files a stage produced (name, relative path, sha256, bytes), recorded for
// the run and stage that executed it; cached stages point at their producer.
import Foundation
import GRDB

extension RunStore {
    public func recordArtifacts(run: Int64, stage: String, _ artifacts: [ArtifactRecord]) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM artifacts WHERE run_id = ? AND stage = ?", arguments: [run, stage])
            let insert = try db.cachedStatement(sql: """
                INSERT INTO artifacts (run_id, stage, name, path, sha256, bytes) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for artifact in artifacts {
                insert.setUncheckedArguments([run, stage, artifact.name, artifact.path, artifact.sha256, artifact.bytes])
                try insert.execute()
            }
        }
    }

    /// Artifacts of every stage of a run, by stage name, following cached stages to their producer.
    public func artifacts(ofRun id: Int64) throws -> [(stage: String, artifacts: [ArtifactRecord])] {
        let stages = try stages(ofRun: id)
        return try pool.read { db in
            try stages.map { stage in
                let source = stage.metricsSource
                let rows = try Row.fetchAll(db, sql: """
                    SELECT name, path, sha256, bytes FROM artifacts WHERE run_id = ? AND stage = ? ORDER BY path
                    """, arguments: [source.run, source.stage])
                return (stage.name, rows.map { ArtifactRecord(name: $0["name"], path: $0["path"], sha256: $0["sha256"], bytes: $0["bytes"]) })
            }
        }
    }
}

extension RunStore: DigestCacheStorage {
    public func loadDigests() throws -> [String: CachedDigest] {
        try pool.read { db in
            var result: [String: CachedDigest] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT path, size, mtime_ns, inode, sha256 FROM file_digests")
            while let row = try rows.next() {
                result[row["path"]] = CachedDigest(size: row["size"], mtimeNanoseconds: row["mtime_ns"], inode: row["inode"], sha256: row["sha256"])
            }
            return result
        }
    }

    public func saveDigests(_ digests: [String: CachedDigest]) throws {
        try pool.write { db in
            let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO file_digests (path, size, mtime_ns, inode, sha256) VALUES (?, ?, ?, ?, ?)")
            for (path, digest) in digests {
                upsert.setUncheckedArguments([path, digest.size, digest.mtimeNanoseconds, digest.inode, digest.sha256])
                try upsert.execute()
            }
        }
    }
}
