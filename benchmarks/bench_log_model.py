"""log_model / load_model cost, flightlog vs MLflow, side by side in one process.

    python benchmarks/bench_log_model.py [--repeat N]

Both log the same small scikit-learn pipeline (with an input example, so both infer a signature)
into their own SQLite store under a temp folder. MLflow is timed twice: with its defaults (it
infers pip requirements by loading the model in a subprocess) and with `pip_requirements` given
(no subprocess), the fairest like-for-like. Prints medians and flightlog's speed-up ratios.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import warnings


def _data():
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(200, 4)), columns=["a", "b", "c", "d"])
    y = (x["a"] + x["b"] > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y), x


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up: first-call imports are not what autolog pays per model
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    model, x = _data()
    example = x.head(5)

    with tempfile.TemporaryDirectory() as tmp:
        import mlflow
        import mlflow.sklearn

        import flightlog
        import flightlog.sklearn

        logging.getLogger("mlflow").setLevel(logging.ERROR)  # after import: mlflow sets its own
        flightlog.set_tracking_uri(os.path.join(tmp, "flightlog"))
        mlflow.set_tracking_uri(f"sqlite:///{os.path.join(tmp, 'mlflow.db')}")

        with flightlog.start_run() as run:
            counter = iter(range(10_000))
            fl_log = _median_ms(
                lambda: flightlog.sklearn.log_model(
                    model, f"m{next(counter)}", input_example=example
                ),
                args.repeat,
            )
        uri = f"runs:/{run.info.run_id}/m0"
        fl_load = _median_ms(lambda: flightlog.pyfunc.load_model(uri).predict(x), args.repeat)

        with mlflow.start_run():
            ml_default = _median_ms(
                lambda: mlflow.sklearn.log_model(model, name="m", input_example=example),
                max(2, args.repeat // 3),
            )
            ml_log = _median_ms(
                lambda: mlflow.sklearn.log_model(
                    model,
                    name="m",
                    input_example=example,
                    pip_requirements=["scikit-learn"],
                    serialization_format="cloudpickle",
                ),
                args.repeat,
            )
            info = mlflow.sklearn.log_model(model, name="m", pip_requirements=["scikit-learn"])
        ml_load = _median_ms(
            lambda: mlflow.pyfunc.load_model(info.model_uri).predict(x), args.repeat
        )

    rows = [
        ("log_model (MLflow defaults)", fl_log, ml_default),
        ("log_model (MLflow, pip_requirements given)", fl_log, ml_log),
        ("load_model + predict", fl_load, ml_load),
    ]
    print(f"{'operation':<44}{'flightlog ms':>14}{'mlflow ms':>12}{'speed-up':>10}")
    for name, ours, theirs in rows:
        print(f"{name:<44}{ours:>14.1f}{theirs:>12.1f}{theirs / ours:>9.1f}x")


if __name__ == "__main__":
    main()
