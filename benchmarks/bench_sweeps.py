"""Sweeps: per-trial tracking overhead of an Optuna study, flightlog vs optuna-integration's
MLflowCallback with MLflow, side by side in one process; and the time a 200-trial sweep's
parent page data (/ui-api/sweep) takes to serve.

    python benchmarks/bench_sweeps.py [--trials 200] [--repeats 3] [--quick]

The same study (a cheap objective, TPE with a fixed seed, sequential) is optimized without
tracking, with flightlog's Optuna autolog, and with MLflowCallback, each tracker into its own
SQLite store in a temporary folder; variants take turns within each repeat and the median is
kept. Overhead per trial = (variant - untracked) / trials. flightlog's number includes the
final flush (everything stored). Target: flightlog's overhead at most 1/10 of MLflow's.

Then a 200-trial study is logged with flightlog, a `flightlog server` is started on that store,
and GET /ui-api/sweep?run_id=<parent> (trials table, history and parallel-coordinates data) is
timed end to end over HTTP (median of 15). Target: under 300 ms. The importance endpoint
(Optuna's fANOVA) is timed too, but loads after the page.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path


def _objective(trial):
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_int("y", 0, 10)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    for step in range(3):
        trial.report(x + step, step)
    return (x - 2) ** 2 + y + (0.5 if c == "b" else 0.0)


def _study(optuna, name: str):
    return optuna.create_study(study_name=name, sampler=optuna.samplers.RandomSampler(seed=0))


def run_untracked(optuna, trials: int, tag: str) -> float:
    study = _study(optuna, f"plain-{tag}")
    start = time.perf_counter()
    study.optimize(_objective, n_trials=trials)
    return time.perf_counter() - start


def run_flightlog(optuna, trials: int, tag: str, folder: Path) -> float:
    import flightlog

    flightlog.set_tracking_uri(f"sqlite:///{folder / 'flightlog.db'}")
    # MLflow's set_experiment exports MLFLOW_EXPERIMENT_ID, which names an id of *its* store.
    flightlog.set_experiment("bench-sweeps")
    flightlog.optuna.autolog()
    try:
        study = _study(optuna, f"fl-{tag}")
        start = time.perf_counter()
        study.optimize(_objective, n_trials=trials)
        flightlog.flush()
        return time.perf_counter() - start
    finally:
        flightlog.optuna.autolog(disable=True)


def run_mlflow(optuna, trials: int, tag: str, folder: Path) -> float:
    from optuna_integration.mlflow import MLflowCallback

    callback = MLflowCallback(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}", metric_name="value")
    study = _study(optuna, f"ml-{tag}")
    start = time.perf_counter()
    study.optimize(_objective, n_trials=trials, callbacks=[callback])
    return time.perf_counter() - start


def bench_overhead(trials: int, repeats: int) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        fl_dir, ml_dir = Path(tmp, "fl"), Path(tmp, "ml")
        fl_dir.mkdir()
        ml_dir.mkdir()
        # Warm-up: imports, store creation and migrations, outside the timings.
        run_untracked(optuna, 3, "warm")
        run_flightlog(optuna, 3, "warm", fl_dir)
        run_mlflow(optuna, 3, "warm", ml_dir)
        times: dict[str, list[float]] = {"untracked": [], "flightlog": [], "mlflow": []}
        for r in range(repeats):
            times["untracked"].append(run_untracked(optuna, trials, str(r)))
            times["flightlog"].append(run_flightlog(optuna, trials, str(r), fl_dir))
            times["mlflow"].append(run_mlflow(optuna, trials, str(r), ml_dir))
    med = {k: statistics.median(v) for k, v in times.items()}
    fl = (med["flightlog"] - med["untracked"]) / trials
    ml = (med["mlflow"] - med["untracked"]) / trials
    print(f"Optuna study, {trials} trials, median of {repeats} (SQLite stores):")
    print(f"  untracked            {med['untracked'] * 1000 / trials:8.2f} ms/trial")
    print(f"  flightlog autolog    {fl * 1000:8.2f} ms/trial overhead (stored)")
    print(f"  MLflowCallback       {ml * 1000:8.2f} ms/trial overhead")
    print(f"  ratio MLflow/flightlog: {ml / fl:.1f}x less overhead per trial" if fl > 0 else "")


def bench_page(trials: int, samples: int) -> None:
    import optuna
    import requests

    import flightlog
    from flightlog.server.process import ServerProcess

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp, "page.db")
        flightlog.set_tracking_uri(f"sqlite:///{store}")
        experiment = flightlog.set_experiment("bench-page")
        flightlog.optuna.autolog()
        study = _study(optuna, "page")
        study.optimize(_objective, n_trials=trials)
        flightlog.flush()
        flightlog.optuna.autolog(disable=True)
        parent = next(
            r
            for r in flightlog.search_runs([experiment.experiment_id], output_format="list")
            if "flightlog.sweep.key" in r.data.tags
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTLOG_TRACKING")}
        server = ServerProcess.flightlog(
            Path(tmp, "server"), backend_store_uri=f"sqlite:///{store}", env=env
        )
        server.start(timeout=120)
        try:
            session = requests.Session()
            url = f"{server.url}/ui-api/sweep"
            params = {"run_id": parent.info.run_id}
            first = session.get(url, params=params, timeout=60)
            first.raise_for_status()
            assert len(first.json()["trials"]) == trials
            spent = []
            for _ in range(samples):
                start = time.perf_counter()
                session.get(url, params=params, timeout=60).raise_for_status()
                spent.append(time.perf_counter() - start)
            start = time.perf_counter()
            imp = session.get(f"{url}/importance", params=params, timeout=300).json()
            importance_s = time.perf_counter() - start
        finally:
            server.stop()
    print(f"Parent page data of a {trials}-trial sweep, GET /ui-api/sweep over HTTP:")
    print(
        f"  median {statistics.median(spent) * 1000:.0f} ms, max {max(spent) * 1000:.0f} ms "
        f"({samples} requests; target < 300 ms)"
    )
    print(
        f"  importance ({imp.get('method')}): {importance_s * 1000:.0f} ms, loaded after the page"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50 trials, 1 repeat, 5 page requests")
    args = parser.parse_args(argv)
    trials, repeats, samples = (50, 1, 5) if args.quick else (args.trials, args.repeats, 15)
    bench_overhead(trials, repeats)
    bench_page(200, samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
