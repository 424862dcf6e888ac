// StoreSchema — the run store's tables. A migration that has shipped never changes: new columns and
// tables arrive as new migrations appended below.
import GRDB

enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE experiments (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    created_at REAL NOT NULL
                );
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY,
                    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
                    recipe_file TEXT NOT NULL,
                    variant TEXT NOT NULL DEFAULT '',
                    status TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL,
                    git_commit TEXT,
                    runner_pid INTEGER,
                    runner_host TEXT,
                    plan TEXT NOT NULL
                );
                CREATE INDEX runs_experiment ON runs(experiment_id, variant);
                CREATE TABLE stages (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempt INTEGER NOT NULL DEFAULT 0,
                    pid INTEGER,
                    host TEXT,
                    heartbeat_at REAL,
                    started_at REAL,
                    finished_at REAL,
                    exit_code INTEGER,
                    error TEXT,
                    source_run_id INTEGER,
                    source_stage TEXT,
                    progress TEXT,
                    PRIMARY KEY (run_id, name)
                ) WITHOUT ROWID;
                CREATE INDEX stages_fingerprint ON stages(fingerprint);
                CREATE INDEX stages_status ON stages(status);
                CREATE TABLE params (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (run_id, stage, key)
                ) WITHOUT ROWID;
                CREATE TABLE metrics (
                    run_id INTEGER NOT NULL,
                    stage TEXT NOT NULL,
                    key TEXT NOT NULL,
                    step INTEGER NOT NULL,
                    value REAL NOT NULL,
                    time REAL NOT NULL
                );
                CREATE INDEX metrics_run_key_step ON metrics(run_id, key, step);
                CREATE TABLE latest_metrics (
                    run_id INTEGER NOT NULL,
                    stage TEXT NOT NULL,
                    key TEXT NOT NULL,
                    step INTEGER NOT NULL,
                    value REAL NOT NULL,
                    time REAL NOT NULL,
                    PRIMARY KEY (run_id, stage, key)
                ) WITHOUT ROWID;
                CREATE TABLE artifacts (
                    run_id INTEGER NOT NULL,
                    stage TEXT NOT NULL,
                    name TEXT NOT NULL,
                    path TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    PRIMARY KEY (run_id, stage, path)
                ) WITHOUT ROWID;
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    run_id INTEGER NOT NULL,
                    stage TEXT,
                    time REAL NOT NULL,
                    kind TEXT NOT NULL,
                    message TEXT NOT NULL
                );
                CREATE INDEX events_run ON events(run_id, id);
                CREATE TABLE file_digests (
                    path TEXT PRIMARY KEY,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    inode INTEGER NOT NULL,
                    sha256 TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-executors") { db in
            // Which executor a run's runner uses, and per stage attempt the batch job it was submitted as.
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN executor TEXT NOT NULL DEFAULT 'local';
                ALTER TABLE stages ADD COLUMN job_id TEXT;
                ALTER TABLE stages ADD COLUMN job_state TEXT;
                """)
        }
        return migrator
    }
}
