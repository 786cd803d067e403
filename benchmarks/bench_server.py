"""Metric ingestion over HTTP: flightlog and MLflow, clients and servers, side by side.

    python benchmarks/bench_server.py [--points 200000] [--mlflow-points 3000]

Starts a `flightlog server` and an `mlflow server` (both on SQLite, one worker, proxied
artifacts, on 127.0.0.1) and measures, each scenario in a fresh client process:

- flightlog client -> flightlog server: `flightlog.log_metric` in a loop, then `flush()`;
- flightlog client -> mlflow server:    the same loop against MLflow's server;
- mlflow client -> mlflow server:       `mlflow.log_metric` in a loop (synchronous, MLflow's
  default), `mlflow.log_metric(..., synchronous=False)` (MLflow's async logging), and
  `MlflowClient.log_batch` with 1000 metrics per call (the fastest way MLflow offers).

Points/s count from the first logging call until everything is acknowledged by the server
(flush / wait). Ten metric keys, steps 0..N/10. Also reported: each server's start-to-/health
time and its resident memory (RSS, whole process group) after startup and idle.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEYS = [f"metric_{i}" for i in range(10)]


# --- client scenarios (each runs in its own process) -------------------------------------------
def _cpu() -> float:
    """CPU seconds used by this process so far (all threads)."""
    t = os.times()
    return t.user + t.system


def scenario_flightlog(url: str, points: int, server_pid: int) -> dict:
    import flightlog

    flightlog.set_tracking_uri(url)
    flightlog.set_experiment("bench-server")
    with flightlog.start_run():
        cpu0, server_cpu0 = _cpu(), _group_cpu_seconds(server_pid)
        started = time.perf_counter()
        per_key = points // len(KEYS)
        for step in range(per_key):
            for key in KEYS:
                flightlog.log_metric(key, step * 0.001, step=step)
        logged = time.perf_counter()
        assert flightlog.flush(timeout=600)
        done = time.perf_counter()
        client_cpu = _cpu() - cpu0
        server_cpu = _group_cpu_seconds(server_pid) - server_cpu0
        run_id = flightlog.active_run().info.run_id
    stored = sum(len(flightlog.TrackingClient(url).get_metric_history(run_id, k)) for k in KEYS)
    return {
        "points": per_key * len(KEYS),
        "stored": stored,
        "seconds": done - started,
        "loop_seconds": logged - started,
        "client_cpu": client_cpu,
        "server_cpu": server_cpu,
    }


def scenario_mlflow(url: str, points: int, mode: str, server_pid: int) -> dict:
    import mlflow
    from mlflow.entities import Metric

    mlflow.set_tracking_uri(url)
    mlflow.set_experiment("bench-server")
    client = mlflow.MlflowClient()
    per_key = points // len(KEYS)
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        cpu0, server_cpu0 = _cpu(), _group_cpu_seconds(server_pid)
        started = time.perf_counter()
        if mode == "batch":
            pending: list = []
            now = int(time.time() * 1000)
            for step in range(per_key):
                for key in KEYS:
                    pending.append(Metric(key, step * 0.001, now, step))
                    if len(pending) == 1000:
                        client.log_batch(run_id, metrics=pending)
                        pending = []
            if pending:
                client.log_batch(run_id, metrics=pending)
        else:
            synchronous = mode == "sync"
            for step in range(per_key):
                for key in KEYS:
                    mlflow.log_metric(key, step * 0.001, step=step, synchronous=synchronous)
        logged = time.perf_counter()
        if mode == "async":
            mlflow.flush_async_logging()
        done = time.perf_counter()
        client_cpu = _cpu() - cpu0
        server_cpu = _group_cpu_seconds(server_pid) - server_cpu0
    stored = sum(len(client.get_metric_history(run_id, k)) for k in KEYS)
    return {
        "points": per_key * len(KEYS),
        "stored": stored,
        "seconds": done - started,
        "loop_seconds": logged - started,
        "client_cpu": client_cpu,
        "server_cpu": server_cpu,
    }


# --- orchestration ------------------------------------------------------------------------------
def _group_rss_mib(pgid: int) -> float:
    """Resident memory of every process in a process group (a server and its workers)."""
    total_kib = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total_kib / 1024


def _group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used so far by every live process in a process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return total / tick


def _run_scenario(name: str, server, points: int, mode: str = "") -> dict:
    url = server.url
    env = dict(os.environ)
    for var in ("FLIGHTLOG_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        env.pop(var, None)
    with tempfile.TemporaryDirectory() as spool:
        env["FLIGHTLOG_SPOOL_DIR"] = spool
        cmd = [sys.executable, __file__, "--scenario", name, "--url", url, "--n", str(points)]
        cmd += ["--server-pid", str(server.pid)]
        if mode:
            cmd += ["--mode", mode]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{name} {mode} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["stored"] != result["points"]:
        raise RuntimeError(f"{name} {mode}: stored {result['stored']} of {result['points']}")
    result["rate"] = result["points"] / result["seconds"]
    result["cpu_rate"] = result["points"] / (result["client_cpu"] + result["server_cpu"])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=200_000, help="points per fast scenario")
    parser.add_argument(
        "--mlflow-points", type=int, default=1_000, help="points for MLflow's per-call scenarios"
    )
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.scenario == "flightlog":
        print(json.dumps(scenario_flightlog(args.url, args.n, args.server_pid)))
        return 0
    if args.scenario == "mlflow":
        print(json.dumps(scenario_mlflow(args.url, args.n, args.mode, args.server_pid)))
        return 0

    from flightlog.server.process import ServerProcess

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fl_server = ServerProcess.flightlog(Path(tmp) / "flightlog").start(timeout=60)
        ml_server = ServerProcess.mlflow(Path(tmp) / "mlflow").start(timeout=180)
        try:
            time.sleep(3)  # let both settle before measuring idle memory
            servers = {
                "flightlog server": (fl_server.startup_seconds, _group_rss_mib(fl_server.pid)),
                "mlflow server": (ml_server.startup_seconds, _group_rss_mib(ml_server.pid)),
            }
            rows.append(
                (
                    "flightlog client -> flightlog server",
                    _run_scenario("flightlog", fl_server, args.points),
                )
            )
            rows.append(
                (
                    "flightlog client -> mlflow server",
                    _run_scenario("flightlog", ml_server, args.points),
                )
            )
            rows.append(
                (
                    "mlflow client -> mlflow server (log_batch x1000)",
                    _run_scenario("mlflow", ml_server, args.points, "batch"),
                )
            )
            rows.append(
                (
                    "mlflow client -> mlflow server (log_metric, async)",
                    _run_scenario("mlflow", ml_server, args.mlflow_points, "async"),
                )
            )
            rows.append(
                (
                    "mlflow client -> mlflow server (log_metric, default)",
                    _run_scenario("mlflow", ml_server, args.mlflow_points, "sync"),
                )
            )
        finally:
            fl_server.stop()
            ml_server.stop()

    print(
        f"\nMetric ingestion over HTTP (127.0.0.1, SQLite stores, 1 worker each, {os.cpu_count()} CPUs)"
    )
    print("(points/s: wall clock; per CPU-s: points / (client + server CPU seconds), which other")
    print(" load on the machine does not change)")
    print(
        f"{'scenario':<54}{'points':>9}{'seconds':>9}{'points/s':>11}"
        f"{'client CPU':>11}{'server CPU':>11}{'per CPU-s':>11}"
    )
    for name, r in rows:
        print(
            f"{name:<54}{r['points']:>9}{r['seconds']:>9.2f}{r['rate']:>11,.0f}"
            f"{r['client_cpu']:>11.2f}{r['server_cpu']:>11.2f}{r['cpu_rate']:>11,.0f}"
        )
    ours, ours_cpu = rows[0][1]["rate"], rows[0][1]["cpu_rate"]
    print("\nflightlog -> flightlog is (wall clock / per CPU-second):")
    for name, r in rows[1:]:
        print(f"  {ours / r['rate']:8.1f}x / {ours_cpu / r['cpu_rate']:8.1f}x  {name}")
    print("\nServers")
    print(f"{'server':<20}{'start -> /health (s)':>22}{'idle RSS (MiB)':>16}")
    for name, (startup, rss) in servers.items():
        print(f"{name:<20}{startup:>22.2f}{rss:>16.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
