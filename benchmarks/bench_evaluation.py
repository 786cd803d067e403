"""Evaluation and drift speed: flightlog.evaluate vs mlflow.evaluate on the same model and data,
and flightlog.drift on a wide table (vs scipy's own per-column functions as the floor).

    python benchmarks/bench_evaluation.py [--rows 100000] [--columns 50] [--repeats 3] [--quick]

- evaluate: a LogisticRegression on `rows` x 10, binary; both log metrics and plots into their
  own SQLite store in a temporary folder (MLflow's model logged once beforehand and evaluated by
  URI, as mlflow.evaluate wants; flightlog evaluates the same estimator). Target: under 1 s.
- drift: `rows` x `columns` (80% numeric, 20% categorical), reference and current of `rows`
  each (so Wasserstein and Jensen-Shannon, Evidently's large-data defaults), one in five
  columns shifted; `drift()` alone and `log_drift()` (metrics + HTML + JSON logged). The floor
  is scipy.stats.wasserstein_distance / jensenshannon called per column with nothing else.
  Target: under 2 s. (Evidently itself does not import here, so it is not timed.)

Medians over the repeats, each variant taking turns within a repeat. Speed is never asserted
in tests; this script prints it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")


_cpu: dict[int, list[float]] = {}


def _time(fn) -> float:
    """Wall seconds of fn(); its CPU seconds (all threads) are kept in _cpu by id(fn)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    _cpu.setdefault(id(fn), []).append(time.process_time() - cpu)
    return time.perf_counter() - start


def _cpu_median(fn) -> float:
    return statistics.median(_cpu[id(fn)])


def evaluate_case(rows: int, repeats: int, tmp: str) -> dict[str, float]:
    import mlflow
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    import flightlog

    X, y = make_classification(rows, 10, random_state=0)
    model = LogisticRegression(max_iter=300).fit(X[:5000], y[:5000])
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    frame["label"] = y

    flightlog.set_tracking_uri(f"sqlite:///{os.path.join(tmp, 'fl', 'flightlog.db')}")
    mlflow.set_tracking_uri(f"sqlite:///{os.path.join(tmp, 'mlflow.db')}")
    with mlflow.start_run():
        uri = mlflow.sklearn.log_model(model, name="model").model_uri

    def run_flightlog():
        with flightlog.start_run():
            flightlog.evaluate(model, frame, targets="label", model_type="classifier")

    def run_mlflow():
        with mlflow.start_run():
            mlflow.evaluate(uri, frame, targets="label", model_type="classifier")

    run_flightlog()  # warm-up: imports, matplotlib, store creation
    run_mlflow()
    times: dict[str, list[float]] = {"flightlog": [], "mlflow": []}
    for _ in range(repeats):
        times["flightlog"].append(_time(run_flightlog))
        times["mlflow"].append(_time(run_mlflow))
    out = {k: statistics.median(v) for k, v in times.items()}
    out.update(flightlog_cpu=_cpu_median(run_flightlog), mlflow_cpu=_cpu_median(run_mlflow))
    return out


def drift_case(rows: int, columns: int, repeats: int, tmp: str) -> dict[str, float]:
    import numpy as np
    import pandas as pd
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    import flightlog

    rng = np.random.default_rng(0)
    n_cat = max(1, columns // 5)
    ref, cur = {}, {}
    for i in range(columns - n_cat):
        ref[f"num_{i}"] = rng.normal(0, 1, rows)
        cur[f"num_{i}"] = rng.normal(0.2 if i % 5 == 0 else 0.0, 1, rows)
    cats = np.array([f"c{k}" for k in range(12)], dtype=object)
    for i in range(n_cat):
        ref[f"cat_{i}"] = cats[rng.integers(0, 12, rows)]
        cur[f"cat_{i}"] = cats[rng.integers(0, 12 if i % 5 else 6, rows)]
    reference, current = pd.DataFrame(ref), pd.DataFrame(cur)
    flightlog.set_tracking_uri(f"sqlite:///{os.path.join(tmp, 'fl-drift', 'flightlog.db')}")

    def scipy_floor():
        for name in reference.columns:
            r, c = reference[name], current[name]
            if name.startswith("num_"):
                wasserstein_distance(r, c) / np.std(r)
            else:
                keys = sorted(set(r) | set(c))
                jensenshannon(
                    r.value_counts().reindex(keys, fill_value=0).to_numpy(),
                    c.value_counts().reindex(keys, fill_value=0).to_numpy(),
                )

    def run_drift():
        flightlog.drift(reference, current)

    def run_log_drift():
        with flightlog.start_run():
            flightlog.log_drift(reference, current)

    run_drift()
    times: dict[str, list[float]] = {"drift": [], "log_drift": [], "scipy": []}
    for _ in range(repeats):
        times["drift"].append(_time(run_drift))
        times["log_drift"].append(_time(run_log_drift))
        times["scipy"].append(_time(scipy_floor))
    out = {k: statistics.median(v) for k, v in times.items()}
    out.update(drift_cpu=_cpu_median(run_drift), scipy_cpu=_cpu_median(scipy_floor))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20k rows, 1 repeat")
    parser.add_argument("--only", choices=["evaluate", "drift"])
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 20_000, 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs (load {load:.1f}), "
          f"rows={args.rows}, repeats={args.repeats} (medians)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-evaluation-") as tmp:
        if args.only in (None, "evaluate"):
            t = evaluate_case(args.rows, args.repeats, tmp)
            print(f"\nevaluate, {args.rows} rows x 10, binary, metrics + plots logged")
            print(
                f"  flightlog.evaluate  {t['flightlog']:7.3f} s  cpu {t['flightlog_cpu']:6.3f} s  (target < 1 s)"
            )
            print(f"  mlflow.evaluate     {t['mlflow']:7.3f} s  cpu {t['mlflow_cpu']:6.3f} s")
            print(f"  ratio mlflow/flightlog: {t['mlflow'] / t['flightlog']:.1f}x")
        if args.only in (None, "drift"):
            t = drift_case(args.rows, args.columns, args.repeats, tmp)
            print(f"\ndrift, {args.rows} + {args.rows} rows x {args.columns} columns")
            print(
                f"  flightlog.drift      {t['drift']:7.3f} s  cpu {t['drift_cpu']:6.3f} s  (target < 2 s)"
            )
            print(f"  flightlog.log_drift  {t['log_drift']:7.3f} s   (+ metrics, HTML, JSON)")
            print(
                f"  scipy per column     {t['scipy']:7.3f} s  cpu {t['scipy_cpu']:6.3f} s  (the tests alone)"
            )
            print(f"  ratio scipy/drift: {t['scipy'] / t['drift']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
