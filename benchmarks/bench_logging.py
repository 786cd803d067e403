"""Logging cost in the training thread, ingestion into SQLite, and import time: flightlog and
MLflow side by side, in one run.

    python benchmarks/bench_logging.py [--quick]

1. One `log_metric(key, value, step)` call in the training thread, timed call by call (median and
   p99, ns; back-to-back calls, so the writer thread competes for the GIL the whole time: the
   worst case): flightlog (asynchronous by default), MLflow synchronous (its default) and MLflow
   asynchronous (`synchronous=False`).
2. End-to-end ingestion into a SQLite store in a temporary folder: points per second from the
   first logging call until everything is durably stored, i.e. committed (flightlog.flush() /
   mlflow.flush_async_logging() included), with 1 key per step (`log_metric`) and 10 keys per
   step (`log_metrics`). MLflow runs three ways: synchronous, asynchronous, and its fastest
   path, `MlflowClient().log_batch` with 1000 metrics per call (synchronous); the last column
   compares flightlog with the best of the three.
3. `import flightlog` vs `import mlflow`: wall time of the import in a fresh interpreter,
   median of several.

Every scenario runs in its own fresh process, and collects the garbage of imports and setup before
its timed part. MLflow's synchronous mode writes one transaction per call, so it gets fewer points (rates are comparable, totals are not). Without MLflow installed the
MLflow columns say so and the rest still runs. --quick keeps the whole run well under a minute;
the full run stays under about three.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

KEYS10 = [f"metric_{i}" for i in range(10)]

MLFLOW_BATCH = 1000  # metrics per MlflowClient.log_batch call: MLflow's own limit

# Points per scenario: latency (flightlog, MLflow sync, MLflow async); ingestion, per
# keys-per-step, (flightlog, MLflow sync, MLflow async, MLflow log_batch). MLflow's are upper
# bounds: its logging loops stop after `mlflow_budget` seconds (its rates depend a lot on the
# disk), and its async mode is capped low because flushing it takes long (about 100 points/s on a
# busy 2-core machine).
SIZES = {
    "quick": {
        "latency": (50_000, 2_000, 20_000),
        "ingest": {1: (100_000, 2_000, 1_000, 30_000), 10: (100_000, 10_000, 5_000, 30_000)},
        "mlflow_budget": 3.0,
        "imports": 3,
    },
    "full": {
        "latency": (200_000, 5_000, 50_000),
        "ingest": {1: (400_000, 5_000, 2_000, 100_000), 10: (400_000, 20_000, 10_000, 100_000)},
        "mlflow_budget": 8.0,
        "imports": 7,
    },
}


# --- scenarios, each in its own process ---------------------------------------------------
def _setup(lib: str, folder: str):
    """Import the library, point it at a fresh SQLite store, start a run; return the module."""
    if lib == "flightlog":
        import flightlog as mod

        mod.set_tracking_uri(f"sqlite:///{folder}/flightlog.db")
    else:
        import logging
        import warnings

        warnings.filterwarnings("ignore")
        logging.getLogger("mlflow").setLevel(logging.ERROR)
        logging.getLogger("alembic").setLevel(logging.ERROR)
        import mlflow as mod

        mod.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    mod.start_run()
    mod.log_metric("warmup", 0.0, step=0)  # opens the store, creates tables, starts threads
    return mod


def _flush(mod, lib: str, mode: str) -> None:
    if lib == "flightlog":
        assert mod.flush(timeout=600)
    elif mode == "async":
        mod.flush_async_logging()


def _collect_setup_garbage() -> None:
    """A full garbage collection before the timed part, for both libraries: the objects that
    imports and setup left behind otherwise bring on a full collection (20-30 ms here, more for
    MLflow's larger imports) at a chance moment inside it."""
    import gc

    gc.collect()


def _sync_arg(lib: str, mode: str) -> dict:
    if lib == "flightlog" or mode == "batch":
        return {}
    return {"synchronous": mode != "async"}


def scenario_latency(lib: str, mode: str, n: int, budget: float, folder: str) -> dict:
    mod = _setup(lib, folder)
    log_metric = mod.log_metric
    kwargs = _sync_arg(lib, mode)
    clock = time.perf_counter_ns
    for i in range(min(n // 10, 1000)):  # warm caches and code paths
        log_metric("loss", 0.5, step=i, **kwargs)
    _flush(mod, lib, mode)
    _collect_setup_garbage()
    samples = [0] * n
    stop_at = clock() + int(budget * 1e9)
    for i in range(n):
        start = clock()
        log_metric("loss", i * 0.001, step=i, **kwargs)
        samples[i] = clock() - start
        if i % 64 == 63 and start > stop_at:  # the time budget ran out (slow MLflow modes)
            n = i + 1
            break
    samples = samples[:n]
    # No flush: what happens after the calls is not measured here (section 2 measures it), and
    # the scenario process leaves with os._exit.
    overhead = min(_timer_overhead(clock) for _ in range(5))
    samples.sort()
    return {
        "n": n,
        "median_ns": samples[n // 2],
        "p99_ns": samples[min(n - 1, int(n * 0.99))],
        "timer_ns": overhead,
    }


def _timer_overhead(clock) -> int:
    samples = []
    for _ in range(2000):
        start = clock()
        samples.append(clock() - start)
    samples.sort()
    return samples[len(samples) // 2]


def scenario_ingest(lib: str, mode: str, n: int, keys: int, budget: float, folder: str) -> dict:
    mod = _setup(lib, folder)
    kwargs = _sync_arg(lib, mode)
    batch_client = mod.tracking.MlflowClient() if mode == "batch" else None
    _flush(mod, lib, mode)
    _collect_setup_garbage()
    started = time.perf_counter()
    stop_at = started + budget
    clock = time.perf_counter
    if batch_client is not None:
        n = _ingest_in_batches(batch_client, mod.active_run().info.run_id, n, keys, stop_at)
    elif keys == 1:
        log_metric = mod.log_metric
        for i in range(n):
            log_metric("loss", i * 0.001, step=i, **kwargs)
            if i % 64 == 63 and clock() > stop_at:  # the time budget ran out (slow modes)
                n = i + 1
                break
    else:
        log_metrics = mod.log_metrics
        for step in range(n // keys):
            log_metrics({k: step * 0.001 for k in KEYS10[:keys]}, step=step, **kwargs)
            if step % 8 == 7 and clock() > stop_at:
                n = (step + 1) * keys
                break
    logged = time.perf_counter()
    _flush(mod, lib, mode)
    done = time.perf_counter()
    run_id = mod.active_run().info.run_id
    client = mod.tracking.MlflowClient() if lib == "mlflow" else mod.TrackingClient()
    stored = sum(
        len(client.get_metric_history(run_id, k))
        for k in (["loss"] if keys == 1 else KEYS10[:keys])
    )
    return {"n": n, "stored": stored, "seconds": done - started, "loop_seconds": logged - started}


def _ingest_in_batches(client, run_id: str, n: int, keys: int, stop_at: float) -> int:
    """MLflow's fastest way in: Metric objects sent with MlflowClient().log_batch, MLFLOW_BATCH
    per call, synchronously (each call is one transaction). Returns the points logged."""
    from mlflow.entities import Metric

    names = ["loss"] if keys == 1 else KEYS10[:keys]
    buffer: list = []
    logged = 0
    for step in range(n // keys):
        timestamp = int(time.time() * 1000)
        for key in names:
            buffer.append(Metric(key, step * 0.001, timestamp, step))
        if len(buffer) >= MLFLOW_BATCH:
            client.log_batch(run_id, metrics=buffer, synchronous=True)
            logged += len(buffer)
            buffer = []
            if time.perf_counter() > stop_at:  # the time budget ran out
                return logged
    if buffer:
        client.log_batch(run_id, metrics=buffer, synchronous=True)
        logged += len(buffer)
    return logged


def scenario_import(lib: str) -> dict:
    started = time.perf_counter()
    __import__(lib)
    return {"seconds": time.perf_counter() - started}


# --- the driver ---------------------------------------------------------------------------
def _run_scenario(*args: str, env_extra: dict[str, str] | None = None) -> dict | None:
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, FLIGHTLOG_SPOOL_DIR=os.path.join(folder, "spool"))
        env.pop("FLIGHTLOG_TRACKING_URI", None)
        env.pop("MLFLOW_TRACKING_URI", None)
        if env_extra is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env.update(env_extra)
        proc = subprocess.run(
            [sys.executable, __file__, "--scenario", json.dumps([*args, folder])],
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            timeout=900,
        )
    if proc.returncode != 0:
        print(f"  scenario {args} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _dispatch(spec: list) -> dict:
    kind, *rest = spec
    folder = rest[-1]
    if kind == "latency":
        lib, mode, n, budget = rest[0], rest[1], int(rest[2]), float(rest[3])
        return scenario_latency(lib, mode, n, budget, folder)
    if kind == "ingest":
        lib, mode, n, keys, budget = rest[0], rest[1], int(rest[2]), int(rest[3]), float(rest[4])
        return scenario_ingest(lib, mode, n, keys, budget, folder)
    if kind == "import":
        return scenario_import(rest[0])
    raise SystemExit(f"unknown scenario {kind}")


def _have_mlflow() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import mlflow"], capture_output=True)
    return probe.returncode == 0


def _fmt_ns(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:,.2f} µs" if value >= 1000 else f"{value:,.0f} ns"


def _fmt_rate(result: dict | None) -> str:
    if not result:
        return "-"
    if result["stored"] != result["n"]:
        return f"{result['n'] / result['seconds']:,.0f}/s (stored {result['stored']}!)"
    return f"{result['n'] / result['seconds']:,.0f}/s"


def _ratio(ours: float | None, theirs: float | None, higher_is_better: bool) -> str:
    if not ours or not theirs:
        return "-"
    r = ours / theirs if higher_is_better else theirs / ours
    return f"{r:,.1f}x"


NAMES = ("flightlog", "MLflow sync", "MLflow async")
HEADERS = ["", *NAMES, "vs sync", "vs async"]
INGEST_NAMES = (*NAMES, "MLflow log_batch")
INGEST_HEADERS = ["", *INGEST_NAMES, "vs best MLflow"]


def _rate(result: dict | None) -> float | None:
    return result["n"] / result["seconds"] if result else None


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, well under a minute")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(_dispatch(json.loads(args.scenario))), flush=True)
        os._exit(0)  # results are out; skip exit-time flushing of what a latency run queued

    sizes = SIZES["quick" if args.quick else "full"]
    mlflow = _have_mlflow()
    began = time.perf_counter()
    if not mlflow:
        print("mlflow is not installed: MLflow columns are skipped\n")
    import platform

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs\n")

    # 1. latency of one call
    fl_n, ml_sync_n, ml_async_n = sizes["latency"]
    budget = str(sizes["mlflow_budget"])
    fl = _run_scenario("latency", "flightlog", "async", str(fl_n), "600")
    ml_sync = ml_async = None
    if mlflow:
        ml_sync = _run_scenario("latency", "mlflow", "sync", str(ml_sync_n), budget)
        ml_async = _run_scenario("latency", "mlflow", "async", str(ml_async_n), budget)
    print("1. One log_metric(key, value, step) call in the training thread")
    rows = []
    for stat in ("median_ns", "p99_ns"):
        rows.append(
            [
                stat.replace("_ns", ""),
                _fmt_ns(fl and fl[stat]),
                _fmt_ns(ml_sync and ml_sync[stat]),
                _fmt_ns(ml_async and ml_async[stat]),
                _ratio(fl and fl[stat], ml_sync and ml_sync[stat], False),
                _ratio(fl and fl[stat], ml_async and ml_async[stat], False),
            ]
        )
    _table(HEADERS, rows)
    timed = [(n, r) for n, r in zip(NAMES, (fl, ml_sync, ml_async), strict=True) if r]
    if timed:
        counts = ", ".join(f"{name} {r['n']:,}" for name, r in timed)
        print(
            f"   calls timed: {counts}; timer overhead (~{timed[0][1]['timer_ns']} ns) included\n"
        )

    # 2. ingestion
    print("2. End-to-end ingestion into SQLite, points/s until durably stored (flush included)")
    rows = []
    counts_by_keys = []
    for keys in (1, 10):
        fl_n, *ml_sizes = sizes["ingest"][keys]
        fl = _run_scenario("ingest", "flightlog", "async", str(fl_n), str(keys), "600")
        ml_results: list[dict | None] = [None, None, None]
        if mlflow:
            ml_results = [
                _run_scenario("ingest", "mlflow", mode, str(ml_n), str(keys), budget)
                for mode, ml_n in zip(("sync", "async", "batch"), ml_sizes, strict=True)
            ]
        results = (fl, *ml_results)
        best = max((rate for rate in map(_rate, ml_results) if rate), default=None)
        rows.append(
            [
                f"{keys} key{'s' if keys > 1 else ''}/step",
                *(_fmt_rate(r) for r in results),
                _ratio(_rate(fl), best, True),
            ]
        )
        counts_by_keys.append(
            f"{keys}k: "
            + ", ".join(f"{n} {r['n']:,}" for n, r in zip(INGEST_NAMES, results, strict=True) if r)
        )
    _table(INGEST_HEADERS, rows)
    print(f"   points: {'; '.join(counts_by_keys)}\n")

    # 3. import time
    runs = sizes["imports"]
    print(f"3. Import time in a fresh interpreter (median of {runs})")
    times = {}
    # As users run them: from compiled bytecode (kept in a private cache folder, so even with
    # PYTHONDONTWRITEBYTECODE set, neither library pays for compiling its sources).
    with tempfile.TemporaryDirectory() as pycache:
        compiled = {"PYTHONPYCACHEPREFIX": pycache}
        for lib in ("flightlog", "mlflow") if mlflow else ("flightlog",):
            _run_scenario("import", lib, env_extra=compiled)  # writes the bytecode
            results = [_run_scenario("import", lib, env_extra=compiled) for _ in range(runs)]
            samples = [r["seconds"] for r in results if r]
            times[lib] = statistics.median(samples) if samples else None
    fl_t, ml_t = times.get("flightlog"), times.get("mlflow")
    _table(
        ["", "flightlog", "MLflow", "ratio"],
        [
            [
                "import",
                f"{fl_t * 1000:,.0f} ms" if fl_t else "-",
                f"{ml_t * 1000:,.0f} ms" if ml_t else "-",
                _ratio(fl_t, ml_t, False),
            ]
        ],
    )
    print(f"Total benchmark time: {time.perf_counter() - began:,.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
