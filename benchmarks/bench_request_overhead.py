"""What the server's request guards cost on the hot path: this tree against a baseline tree.

    git archive <commit> src | tar -x -C /tmp/baseline
    python benchmarks/bench_request_overhead.py --baseline-src /tmp/baseline/src [--quick]

Issue 12 put a Host/Origin/Content-Type check in front of every request and a catch-all that
keeps connections alive after errors. This starts two `flightlog server`s on SQLite, one from
this tree and one from `--baseline-src` (e.g. the commit before those changes), alternately
measures on each, over one keep-alive connection:

- log_metric p50/p90: runs/log-metric with one point, one request at a time (the latency of a
  synchronous MLflow-client `log_metric`);
- ingestion: runs/log-batch with 1000 metrics per request, points/s;

and prints the ratios (this tree / baseline). Times vary with the machine; compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

API = "/api/2.0/mlflow"


def _run_id(session, url: str) -> str:
    exp = session.post(
        f"{url}{API}/experiments/create", json={"name": os.urandom(6).hex()}, timeout=30
    ).json()["experiment_id"]
    return session.post(f"{url}{API}/runs/create", json={"experiment_id": exp}, timeout=30).json()[
        "run"
    ]["info"]["run_id"]


def log_metric_latencies(url: str, n: int) -> list[float]:
    import requests

    session = requests.Session()
    run_id = _run_id(session, url)
    out = []
    for step in range(n):
        body = {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 1, "step": step}
        started = time.perf_counter()
        response = session.post(f"{url}{API}/runs/log-metric", json=body, timeout=30)
        out.append(time.perf_counter() - started)
        response.raise_for_status()
    session.close()
    return out


def ingestion_points_per_s(url: str, batches: int) -> float:
    import requests

    session = requests.Session()
    run_id = _run_id(session, url)
    bodies = [
        json.dumps(
            {
                "run_id": run_id,
                "metrics": [
                    {
                        "key": f"m{i % 10}",
                        "value": i * 0.1,
                        "timestamp": 1,
                        "step": b * 100 + i // 10,
                    }
                    for i in range(1000)
                ],
            }
        )
        for b in range(batches)
    ]
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    for body in bodies:
        session.post(
            f"{url}{API}/runs/log-batch", data=body, headers=headers, timeout=60
        ).raise_for_status()
    elapsed = time.perf_counter() - started
    session.close()
    return batches * 1000 / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-src", required=True, help="the baseline tree's src folder")
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n_metric, n_batches = (300, 20) if args.quick else (2000, 100)

    from flightlog.server.process import ServerProcess

    baseline_env = dict(os.environ, PYTHONPATH=str(Path(args.baseline_src).resolve()))
    results: dict[str, dict[str, list[float]]] = {"this tree": {}, "baseline": {}}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            "this tree": ServerProcess.flightlog(Path(tmp) / "new"),
            "baseline": ServerProcess.flightlog(Path(tmp) / "old", env=baseline_env),
        }
        for server in servers.values():
            server.start(timeout=60)
        try:
            for _ in range(args.rounds):  # alternate, so that machine noise hits both
                for name, server in servers.items():
                    lat = log_metric_latencies(server.url, n_metric)
                    r = results[name]
                    r.setdefault("p50", []).append(statistics.median(lat) * 1000)
                    r.setdefault("p90", []).append(statistics.quantiles(lat, n=10)[8] * 1000)
                    r.setdefault("ingest", []).append(ingestion_points_per_s(server.url, n_batches))
        finally:
            for server in servers.values():
                server.stop()

    def best(name: str, key: str) -> float:
        values = results[name][key]
        return max(values) if key == "ingest" else min(values)

    print(f"best of {args.rounds} rounds; SQLite store, one worker")
    print(f"{'':24} {'this tree':>10} {'baseline':>10} {'ratio':>7}")
    for key, label in (
        ("p50", "log-metric p50 (ms)"),
        ("p90", "log-metric p90 (ms)"),
        ("ingest", "log-batch points/s"),
    ):
        new, old = best("this tree", key), best("baseline", key)
        print(f"{label:24} {new:>10.2f} {old:>10.2f} {new / old:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
