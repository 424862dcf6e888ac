#!/usr/bin/env python3
"""Times the release `loom` (see bench/orchestrator/run) and prints one JSON object."""
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

LOOM, REPETITIONS = sys.argv[1], int(sys.argv[2])
ROOT = os.getcwd()
METRIC_ROWS = 1_000_000

# What the issue measured on this machine kind, for comparison.
REFERENCE = {
    "dvc_3.67_noop_repro_6_stages_s": 1.31,
    "dvc_metrics_show_or_exp_show_s": [1.0, 1.2],
    "mlflow_batched_logging_rows_per_s": 8000,
}
TARGETS = {"cached_rerun_6_stages_s": 0.13, "status_s": 0.1, "compare_s": 0.1, "metric_rows_1m_s": 5.0}


def loom(*arguments, home, check=True):
    started = time.perf_counter()
    result = subprocess.run([LOOM, *arguments, "--home", home], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if check and result.returncode != 0:
        sys.exit(f"loom {' '.join(arguments)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def timed(*arguments, home, repetitions=REPETITIONS):
    times = [loom(*arguments, home=home)[0] for _ in range(repetitions)]
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4), "max_s": round(max(times), 4), "runs": repetitions}


def metric_rows(scratch):
    """A one-stage recipe whose command reports METRIC_ROWS metric lines; returns seconds to record them."""
    project = os.path.join(scratch, "metrics-project")
    os.makedirs(os.path.join(project, "pipelines"))
    lines = os.path.join(project, "metrics.jsonl")
    with open(lines, "w") as handle:
        for step in range(METRIC_ROWS // 4):
            handle.write(f'{{"step": {step}, "train/loss": {1.0 / (step + 1):.6f}, "train/lr": 0.0003, '
                         f'"train/tokens_per_second": {5000 + step % 97}, "train/grad_norm": {0.5 + step % 7 / 10}}}\n')
    recipe = os.path.join(project, "metrics.yaml")
    with open(recipe, "w") as handle:
        handle.write("stages:\n  log:\n    kind: command\n    params: {run: 'cat metrics.jsonl >> \"$LOOM_METRICS\"', vars: {nonce: 0}}\n")
    times = []
    for attempt in range(3):
        home = os.path.join(project, f"runs-{attempt}")
        started = time.perf_counter()
        result = subprocess.run([LOOM, "run", recipe, "--home", home], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            sys.exit(f"metrics run failed:\n{result.stdout}\n{result.stderr}")
        count = sqlite3.connect(os.path.join(home, "loom.sqlite")).execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
        if count != METRIC_ROWS:
            sys.exit(f"expected {METRIC_ROWS} metric rows, found {count}")
    median = statistics.median(times)
    return {"rows": METRIC_ROWS, "median_s": round(median, 3), "min_s": round(min(times), 3), "runs": 3,
            "rows_per_s": round(METRIC_ROWS / median), "includes": "loom start, JSON-lines parsing, SQLite inserts with the (run, key, step) index, WAL"}


def main():
    scratch = tempfile.mkdtemp(prefix="loom-bench-")
    try:
        home = os.path.join(scratch, "runs")
        cold, _ = loom("run", "recipes/bigram.yaml", "-j", "2", home=home)
        cached_core = timed("run", "recipes/bigram.yaml", "--variant", "core", home=home)
        cached_all = timed("run", "recipes/bigram.yaml", home=home)
        _, out = loom("runs", "--json", home=home)
        latest = str(json.loads(out)["runs"][0]["id"])
        status_run = timed("status", latest, home=home)
        status_all = timed("status", home=home)
        compare = timed("compare", "bigram", home=home)
        compare_json = timed("compare", "bigram", "--json", home=home)
        _, out = loom("runs", "--json", home=home)
        run_count = len(json.loads(out)["runs"])
        metrics = metric_rows(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "benchmark": "orchestrator",
        "machine": f"{os.cpu_count()}-core {platform.machine()}, {platform.system()} {platform.release()}",
        "loom": LOOM,
        "runs_in_store_after_timing": run_count,
        "first_run_3_variants_s": round(cold, 3),
        "cached_rerun_6_stages": cached_core,
        "cached_rerun_18_stages_3_variants": cached_all,
        "status_run": status_run,
        "status_overview": status_all,
        "compare_3_runs": compare,
        "compare_3_runs_json": compare_json,
        "metric_rows_1m": metrics,
        "reference": REFERENCE,
        "targets": TARGETS,
        "meets_targets": {
            "cached_rerun_6_stages": cached_core["median_s"] <= TARGETS["cached_rerun_6_stages_s"],
            "status": max(status_run["median_s"], status_all["median_s"]) <= TARGETS["status_s"],
            "compare": compare["median_s"] <= TARGETS["compare_s"],
            "metric_rows_1m": metrics["median_s"] <= TARGETS["metric_rows_1m_s"],
        },
        "speedup_vs_dvc_noop_repro": round(REFERENCE["dvc_3.67_noop_repro_6_stages_s"] / cached_core["median_s"], 1),
    }
    print(json.dumps(result, indent=2))


main()
