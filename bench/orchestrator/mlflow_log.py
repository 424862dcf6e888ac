#!/usr/bin/env python3
"""bench/orchestrator's MLflow anchor: records metric rows with mlflow-skinny's batched API.

Runs under the project venv's Python (scripts/requirements-bench.txt), one process per timed run, so that
measure.py times it from the outside like `loom run`. It reads the same JSON-lines file that Loom's
`command` stage reports, parses each line, and logs every numeric key but `step` as one metric row
(Metric(key, value, timestamp, step)) with MlflowClient.log_batch, 1000 rows a call (MLflow's limit per
batch), into a new run of a local file store (`file://TRACKING_DIR`; MLflow 3 keeps it behind
MLFLOW_ALLOW_FILE_STORE, which this script sets: mlflow-skinny has no SQLAlchemy, so no `sqlite://` store).

Usage: mlflow_log.py METRICS_JSONL ROWS TRACKING_DIR
Prints one JSON line: the mlflow version, the rows logged, the seconds from the first line read to the
last batch written (`logging_s`, without interpreter start and `import mlflow`), the run's id and directory.
"""
import json
import os
import sys
import time

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

import mlflow  # noqa: E402  (after the environment it reads)
from mlflow.entities import Metric  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

BATCH = 1000  # mlflow.utils.validation's MAX_METRICS_PER_BATCH


def main():
    lines, rows, tracking = sys.argv[1], int(sys.argv[2]), os.path.abspath(sys.argv[3])
    client = MlflowClient(tracking_uri="file://" + tracking)
    experiment = client.create_experiment("bench-orchestrator")
    run = client.create_run(experiment)
    run_id = run.info.run_id
    timestamp = int(time.time() * 1000)
    logged = 0
    batch = []
    started = time.perf_counter()
    with open(lines, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            step = record.pop("step")
            for key, value in record.items():
                batch.append(Metric(key, float(value), timestamp, step))
            if len(batch) >= BATCH:
                client.log_batch(run_id, metrics=batch[:BATCH])
                logged += BATCH
                batch = batch[BATCH:]
            if logged + len(batch) >= rows:
                break
    if batch:
        client.log_batch(run_id, metrics=batch)
        logged += len(batch)
    client.set_terminated(run_id)
    elapsed = time.perf_counter() - started
    print(json.dumps({"mlflow": mlflow.__version__, "rows": logged, "logging_s": elapsed, "run_id": run_id,
                      "run_dir": os.path.join(tracking, experiment, run_id)}))


if __name__ == "__main__":
    main()
