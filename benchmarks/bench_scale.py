"""Scale: long metric histories and large artifacts, flightlog beside MLflow 3 in the same run.

    python benchmarks/bench_scale.py            # 100k and 1M-point histories, 256 MiB artifact
    python benchmarks/bench_scale.py --full     # adds 10M points and a 1 GiB artifact
    python benchmarks/bench_scale.py --only history|chart|search|runs|server|artifacts

Every measurement runs in a fresh child process, so its time and peak memory (ru_maxrss) are
its own. Both stores get the same logical data: one run, one key, N points (step = i,
timestamp = t0 + i, value = i / 1000). flightlog's is written through `SqlStore.log_batch`;
MLflow's SQLite store is created by MLflow itself and its `metrics` rows are bulk-inserted with
sqlite3 (logging millions of points through MLflow's client takes many minutes); the check
after each read compares the point count and the first and last points, so both sides hold
the same data.

Sections:
- history: `get_metric_history` (flightlog: list-like MetricHistory; MLflow: list of Metric),
  flightlog's `get_metric_history_arrays`, time and peak client memory;
- search: a filtered, ordered search_runs over 1k/10k/100k runs (10 params, 10 tags, 5 metrics
  each; the template run is written by each client, its copies made inside SQLite, the same
  on both sides, and both must return the same 100 runs), and paging through all of them;
- runs: opening runs one by one, and flightlog's `create_runs`;
- chart: the UI's downsampled series, per-bucket SQL beside the cached rollup;
- server: an unpaged `metrics/get-history` through `flightlog server` (streamed), its peak
  RSS (VmHWM) before and after;
- artifacts: a large file through `flightlog server --artifacts-destination s3://...` (moto's
  S3 server) and back: time, and the server's peak RSS growth.
Not a test: numbers go in the README and the docs, never into assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEY = "loss"
T0 = 1_700_000_000_000


# --- children: one measurement each ------------------------------------------------------------
def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, uri: str, run_id: str) -> None:
    began = time.perf_counter()
    if kind == "flightlog-objects":
        from flightlog import MlflowClient

        history = MlflowClient(tracking_uri=uri).get_metric_history(run_id, KEY)
        n, first, last = len(history), history[0], history[-1]
        check = (first.step, first.value, last.step, last.value)
    elif kind == "flightlog-arrays":
        from flightlog import MlflowClient

        steps, _, values = MlflowClient(tracking_uri=uri).get_metric_history_arrays(run_id, KEY)
        n = len(values)
        check = (steps[0], values[0], steps[-1], values[-1])
    elif kind == "flightlog-list":
        # What a caller pays who wants real Metric objects for every point.
        from flightlog import MlflowClient

        history = list(MlflowClient(tracking_uri=uri).get_metric_history(run_id, KEY))
        n = len(history)
        check = (history[0].step, history[0].value, history[-1].step, history[-1].value)
    elif kind == "mlflow":
        from mlflow import MlflowClient

        history = MlflowClient(tracking_uri=uri).get_metric_history(run_id, KEY)
        history.sort(key=lambda m: (m.step, m.timestamp))
        n = len(history)
        check = (history[0].step, history[0].value, history[-1].step, history[-1].value)
    else:
        raise SystemExit(f"unknown child {kind}")
    elapsed = time.perf_counter() - began
    print(json.dumps({"seconds": elapsed, "peak_mib": _peak_mib(), "n": n, "check": check}))


def run_child(kind: str, uri: str, run_id: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, uri, run_id],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- populating ---------------------------------------------------------------------------------
def flightlog_store(folder: Path, n: int) -> tuple[str, str]:
    from flightlog.entities import Metric
    from flightlog.store.sql import SqlStore

    uri = f"sqlite:///{folder / 'flightlog.db'}"
    store = SqlStore(uri, default_artifact_root=str(folder / "artifacts"))
    exp = store.create_experiment("scale")
    run_id = store.create_run(exp, "bench", T0, [], None).info.run_id
    for start in range(0, n, 50_000):
        batch = [Metric(KEY, i / 1000, T0 + i, i) for i in range(start, min(n, start + 50_000))]
        store.log_batch(run_id, metrics=batch)
    store.close()
    return uri, run_id


def mlflow_store(folder: Path, n: int) -> tuple[str, str]:
    import mlflow

    db = folder / "mlflow.db"
    uri = f"sqlite:///{db}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("scale", artifact_location=str(folder / "mlartifacts"))
    run_id = client.create_run(exp).info.run_id
    client.log_metric(run_id, KEY, 0.0, timestamp=T0, step=0)  # latest_metrics row, as logged
    conn = sqlite3.connect(db)
    rows = ((KEY, i / 1000, T0 + i, run_id, i, 0) for i in range(1, n))
    conn.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    return uri, run_id


# --- sections -----------------------------------------------------------------------------------
def history_section(sizes: list[int], work: Path) -> None:
    print("\n## get_metric_history (one key), fresh process each: seconds / peak MiB")
    print(
        f"{'points':>11s} {'fl history':>16s} {'fl arrays':>16s} {'fl list(...)':>16s}"
        f" {'mlflow':>16s} {'ratio':>7s}"
    )
    for n in sizes:
        folder = Path(tempfile.mkdtemp(dir=work))
        fl_uri, fl_run = flightlog_store(folder, n)
        res = {
            k: run_child(k, fl_uri, fl_run)
            for k in ("flightlog-objects", "flightlog-arrays", "flightlog-list")
        }
        ml = None
        if n <= 1_000_000:  # MLflow at 10M points needs tens of GB and many minutes
            ml_uri, ml_run = mlflow_store(folder, n)
            ml = run_child("mlflow", ml_uri, ml_run)
            for k, r in res.items():
                assert r["n"] == ml["n"] == n and r["check"] == ml["check"], (k, r, ml)

        def cell(r):
            return f"{r['seconds']:7.2f}s {r['peak_mib']:6.0f}M"

        ratio = f"{ml['seconds'] / res['flightlog-objects']['seconds']:6.1f}x" if ml else "   -"
        print(
            f"{n:>11,d} {cell(res['flightlog-objects']):>16s} {cell(res['flightlog-arrays']):>16s}"
            f" {cell(res['flightlog-list']):>16s} {cell(ml) if ml else '-':>16s} {ratio:>7s}"
        )


def chart_section(sizes: list[int], work: Path) -> None:
    """The UI's downsampled series (800 px): the per-bucket queries every render used to run,
    against the rollup's first render (built) and a later one (cached, 1,000 new points)."""
    from flightlog.entities import Metric
    from flightlog.server.ui import downsample, rollups
    from flightlog.store.sql import SqlStore

    print("\n## UI chart series, 800 px wide (seconds)")
    print(f"{'points':>11s} {'per-bucket SQL':>15s} {'rollup build':>13s} {'rollup cached':>14s}")
    for n in sizes:
        folder = Path(tempfile.mkdtemp(dir=work))
        uri, run_id = flightlog_store(folder, n)
        store = SqlStore(uri, default_artifact_root=str(folder / "artifacts"))
        with store._read() as conn:
            began = time.perf_counter()
            downsample._step_buckets(conn, run_id, KEY, 0, n - 1, 800, "step")
            plain = time.perf_counter() - began
        rollups.CACHE.clear()
        began = time.perf_counter()
        downsample.metric_series(store, run_id, KEY, "step", 800)
        built = time.perf_counter() - began
        store.log_batch(run_id, metrics=[Metric(KEY, 0.5, T0 + n + i, n + i) for i in range(1000)])
        began = time.perf_counter()
        series = downsample.metric_series(store, run_id, KEY, "step", 800)
        cached = time.perf_counter() - began
        assert series.total == n + 1000
        store.close()
        print(f"{n:>11,d} {plain:>14.3f}s {built:>12.3f}s {cached:>13.3f}s")


# --- search at 100k runs --------------------------------------------------------------------
_K10 = "(SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4"
_K10 += " UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8"
_K10 += " UNION ALL SELECT 9)"


def replicate_runs(db: Path, template: str, n: int) -> None:
    """Copy a client-written template run n times inside SQLite: 10 params, 10 tags and 5
    metrics per run, with deterministic values (p1 = 'x' for a quarter of the runs, m0 and m1
    spread over [0, 1)). Works on both schemas: flightlog's tables use MLflow's names."""
    conn = sqlite3.connect(db)

    def columns(table: str) -> list[str]:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]

    picks = {
        "run_uuid": "printf('%032x', n)",
        "name": "'run-' || n",
        "start_time": "1000 + n",
        "end_time": "2000 + n",
        "status": "'FINISHED'",
    }
    run_cols = columns("runs")
    select = ", ".join(picks.get(c, f"r.{c}") for c in run_cols)
    conn.executescript(
        f"""
        CREATE TEMP TABLE seq(n INTEGER PRIMARY KEY);
        WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n})
            INSERT INTO seq SELECT n FROM s;
        INSERT INTO runs ({", ".join(run_cols)}) SELECT {select} FROM seq, runs r
            WHERE r.run_uuid = '{template}';
        INSERT INTO params (run_uuid, key, value) SELECT printf('%032x', n), 'p' || k.k,
            CASE WHEN (n * 7 + k.k) % 4 = 0 THEN 'x' ELSE 'y' || ((n + k.k) % 10) END
            FROM seq, {_K10} k;
        INSERT INTO tags (run_uuid, key, value) SELECT printf('%032x', n), 't' || k.k,
            'v' || ((n * 3 + k.k) % 50) FROM seq, {_K10} k;
        INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan)
            SELECT printf('%032x', n), 'm' || k.k,
            ((n * 2654435761 + k.k * 40503) % 1000) / 1000.0, 1, 0, 0
            FROM seq, {_K10} k WHERE k.k < 5;
        INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan)
            SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics
            WHERE run_uuid != '{template}';
        """
    )
    conn.commit()
    conn.close()


SEARCH = "metrics.m0 > 0.5 and params.p1 = 'x'"


def search_section(sizes: list[int], work: Path) -> None:
    import mlflow

    from flightlog import MlflowClient
    from flightlog.entities import Metric, Param, RunTag

    print(f"\n## search_runs {SEARCH!r}, order by metrics.m1 DESC, 100 results (p50 of 5)")
    print(f"{'runs':>9s} {'flightlog':>10s} {'mlflow':>9s} {'ratio':>7s}  {'fl page all':>12s}")
    for n in sizes:
        folder = Path(tempfile.mkdtemp(dir=work))
        results = {}
        for side in ("flightlog", "mlflow"):
            db = folder / f"{side}.db"
            uri = f"sqlite:///{db}"
            client = (MlflowClient if side == "flightlog" else mlflow.MlflowClient)(
                tracking_uri=uri
            )
            exp = client.create_experiment("scale", artifact_location=str(folder / side))
            template = client.create_run(exp).info.run_id
            if side == "flightlog":
                client.log_batch(
                    template,
                    metrics=[Metric(f"m{k}", 0.1, 1, 0) for k in range(5)],
                    params=[Param(f"p{k}", "z") for k in range(10)],
                    tags=[RunTag(f"t{k}", "v") for k in range(10)],
                )
                client.set_terminated(template)
                import flightlog

                flightlog.flush()
            else:
                from mlflow.entities import Metric as MM
                from mlflow.entities import Param as MP
                from mlflow.entities import RunTag as MT

                client.log_batch(
                    template,
                    metrics=[MM(f"m{k}", 0.1, 1, 0) for k in range(5)],
                    params=[MP(f"p{k}", "z") for k in range(10)],
                    tags=[MT(f"t{k}", "v") for k in range(10)],
                )
                client.set_terminated(template)
            replicate_runs(db, template, n - 1)
            times, names = [], None
            for _ in range(5):
                began = time.perf_counter()
                found = client.search_runs(
                    [exp], SEARCH, max_results=100, order_by=["metrics.m1 DESC"]
                )
                times.append(time.perf_counter() - began)
                names = [r.info.run_name for r in found]
            results[side] = (sorted(times)[2], names, client, exp)
        assert results["flightlog"][1] == results["mlflow"][1], "different answers"
        client, exp = results["flightlog"][2], results["flightlog"][3]
        began, seen, token = time.perf_counter(), 0, None
        while True:
            page = client.search_runs([exp], max_results=1000, page_token=token)
            seen += len(page)
            token = page.token
            if not token:
                break
        paged = time.perf_counter() - began
        assert seen == n
        fl, ml = results["flightlog"][0], results["mlflow"][0]
        print(f"{n:>9,d} {fl * 1000:>8.0f}ms {ml * 1000:>7.0f}ms {ml / fl:>6.1f}x  {paged:>10.1f}s")


def runs_section(work: Path) -> None:
    import mlflow

    from flightlog import MlflowClient

    n = 500
    print(f"\n## opening runs ({n}; SQLite): runs per second")
    rates = {}
    for label, make in (
        ("flightlog create_run", lambda c, e: [c.create_run(e) for _ in range(n)]),
        ("flightlog create_runs", lambda c, e: c.create_runs(e, n)),
        ("mlflow create_run", lambda c, e: [c.create_run(e) for _ in range(n)]),
    ):
        folder = Path(tempfile.mkdtemp(dir=work))
        cls = mlflow.MlflowClient if label.startswith("mlflow") else MlflowClient
        client = cls(tracking_uri=f"sqlite:///{folder / 'r.db'}")
        exp = client.create_experiment("runs", artifact_location=str(folder / "a"))
        began = time.perf_counter()
        make(client, exp)
        rates[label] = n / (time.perf_counter() - began)
        print(f"{label:>24s}: {rates[label]:8,.0f}/s")
    base = rates["mlflow create_run"]
    print(
        f"ratios to mlflow: create_run {rates['flightlog create_run'] / base:.1f}x, "
        f"create_runs {rates['flightlog create_runs'] / base:.1f}x"
    )


def _vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_section(n: int, work: Path) -> None:
    import requests

    from flightlog.server.process import ServerProcess

    folder = Path(tempfile.mkdtemp(dir=work))
    uri, run_id = flightlog_store(folder, n)
    server = ServerProcess.flightlog(folder / "srv", backend_store_uri=uri)
    with server.start(timeout=120):
        before = _vm_hwm_mib(server.pid)
        began = time.perf_counter()
        size = 0
        with requests.get(
            f"{server.url}/api/2.0/mlflow/metrics/get-history",
            params={"run_id": run_id, "metric_key": KEY},
            stream=True,
            timeout=600,
        ) as reply:
            for chunk in reply.iter_content(1 << 20):
                size += len(chunk)
        elapsed = time.perf_counter() - began
        after = _vm_hwm_mib(server.pid)
    print(f"\n## unpaged metrics/get-history through flightlog server, {n:,d} points")
    print(
        f"body {size / (1 << 20):.0f} MiB in {elapsed:.1f} s; server peak RSS "
        f"{before:.0f} -> {after:.0f} MiB"
    )


def artifacts_section(size_mib: int, work: Path) -> None:
    import boto3

    from flightlog import MlflowClient
    from flightlog.server.process import ServerProcess, free_port

    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FLIGHTLOG_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    os.environ.update(env)
    try:
        for _ in range(300):
            try:
                boto3.client("s3", endpoint_url=env["FLIGHTLOG_S3_ENDPOINT_URL"]).create_bucket(
                    Bucket="bench"
                )
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        folder = Path(tempfile.mkdtemp(dir=work))
        big = folder / "model.bin"
        with open(big, "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(size_mib):
                f.write(block)
        server = ServerProcess.flightlog(
            folder / "srv", artifacts_destination="s3://bench/a", env=env
        )
        with server.start(timeout=120):
            before = _vm_hwm_mib(server.pid)
            client = MlflowClient(tracking_uri=server.url)
            run = client.create_run(client.create_experiment("big"))
            began = time.perf_counter()
            client.log_artifact(run.info.run_id, str(big), "model")
            up = time.perf_counter() - began
            began = time.perf_counter()
            back = client.download_artifacts(
                run.info.run_id, "model/model.bin", str(folder / "back")
            )
            down = time.perf_counter() - began
            after = _vm_hwm_mib(server.pid)
        assert os.path.getsize(back) == size_mib << 20
    finally:
        moto.terminate()
        moto.wait(timeout=30)
    print(f"\n## {size_mib} MiB artifact through flightlog server to S3 (moto) and back")
    print(
        f"upload {up:.1f} s, download {down:.1f} s; server peak RSS {before:.0f} -> "
        f"{after:.0f} MiB (+{after - before:.0f})"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    parser.add_argument(
        "--only", choices=["history", "chart", "search", "runs", "server", "artifacts"]
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flightlog-bench-scale-"))
    sizes = [100_000, 1_000_000] + ([10_000_000] if args.full else [])
    if args.only in (None, "history"):
        history_section(sizes, work)
    if args.only in (None, "search"):
        search_section([1_000, 10_000, 100_000], work)
    if args.only in (None, "runs"):
        runs_section(work)
    if args.only in (None, "chart"):
        chart_section(sizes, work)
    if args.only in (None, "server"):
        server_section(5_000_000 if args.full else 1_000_000, work)
    if args.only in (None, "artifacts"):
        artifacts_section(1024 if args.full else 256, work)


if __name__ == "__main__":
    main()
