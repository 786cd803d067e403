"""Throughput of SqlStore writes: `python benchmarks/bench_store.py [URI] [--points N]`.

Logs N metric points into one run in batches (of 1,000 and 5,000 points; 1 and 10 keys per
step), as the logging queue's writer thread would, two ways: `log_batch` with Metric objects (the
general path) and `log_metric_points` with (key, value, timestamp, step) tuples (the queue's path
to a SQL store). Prints points per second. Not a test: timing belongs in benchmarks, never in
assertions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from flightlog.entities import Metric
from flightlog.store.sql import SqlStore


def bench(store: SqlStore, points: int, batch: int, keys: int, method: str) -> float:
    experiment_id = store.create_experiment(f"bench-{time.time_ns()}")
    run_id = store.create_run(experiment_id, "bench", 0, [], None).info.run_id
    names = [f"metric_{k}" for k in range(keys)]
    now = int(time.time() * 1000)
    # Build the batches first: the queue hands the store ready-made objects or tuples.
    batches = []
    for start in range(0, points, batch):
        items = []
        for i in range(start, min(start + batch, points)):
            step, k = divmod(i, keys)
            items.append((names[k], float(i) * 0.001, now + step, step))
        batches.append(items if method == "points" else [Metric(*p) for p in items])
    began = time.perf_counter()
    if method == "points":
        for items in batches:
            store.log_metric_points(run_id, items)
    else:
        for items in batches:
            store.log_batch(run_id, metrics=items)
    elapsed = time.perf_counter() - began
    assert len(store.get_metric_history(run_id, names[0])) == points // keys
    return points / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("uri", nargs="?")
    parser.add_argument("--points", type=int, default=500_000)
    args = parser.parse_args()
    uri = args.uri or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    store = SqlStore(uri, default_artifact_root="file:///tmp/flightlog-bench-artifacts")
    print(f"{'':22s}{'log_batch':>14s}{'log_metric_points':>20s}")
    for batch in (1000, 5000):
        for keys in (1, 10):
            rates = [bench(store, args.points, batch, keys, m) for m in ("metrics", "points")]
            print(f"batch={batch:5d} keys={keys:2d}:  {rates[0]:12,.0f}/s {rates[1]:17,.0f}/s")
    store.close()


if __name__ == "__main__":
    main()
