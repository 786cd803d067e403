"""Autolog overhead, flightlog vs MLflow, side by side in one process; one section per framework.

    python benchmarks/bench_autolog.py [--only sklearn] [--repeats 3] [--stat median|min]

Each case trains the same model without autolog, with flightlog's autolog and with MLflow's, the
three variants taking turns within each repeat (so a change in machine load hits all alike),
after a small warm-up fit per variant (imports, store creation, matplotlib); medians (or, with
--stat min, minimums: steadier on a busy machine) are reported. Both trackers log into their own SQLite store in a temporary folder.

- "returns": until `fit` gives the model back (what the training script waits for);
- "stored": adds flightlog's flush (queued data written, plots drawn on the background thread);
  MLflow's autolog is synchronous, its two numbers are the same;
- "cpu": CPU time of the process (all threads) and its child processes (MLflow infers a model's
  pip requirements in a subprocess), i.e. the work done whatever else the machine runs.

Overhead = variant - no autolog. Targets (scikit-learn): flightlog's overhead at most 1/5 of
MLflow's, and under 10% of the random forest's fit time.

Adding a framework: write `bench_<framework>(args) -> list[CaseResult]` (use
`autolog_variants()`, `separate_stores()` and `measure()`) and add it to SECTIONS.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

KINDS = ("returns", "stored", "cpu")
# How repeats are summarized (--stat): the median, or the minimum, which is steadier on a shared
# machine (other processes only ever add time).
STATISTICS = {"median": statistics.median, "min": min}
_statistic = "median"


@dataclass
class Variant:
    enable: Callable[[], None]
    settle: Callable[[], None]  # wait until everything the variant logged is stored
    disable: Callable[[], None]


@dataclass
class CaseResult:
    title: str
    medians: dict[str, dict[str, float]]  # variant -> kind -> seconds


def _nothing() -> None:
    pass


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def autolog_variants(ours: Any, theirs: Any, settle: Callable[[], None]) -> dict[str, Variant]:
    """The three variants of a section: no autolog, `ours.autolog()` (a flightlog module) and
    `theirs.autolog(silent=True)` (the MLflow module of the same framework). MLflow's autolog
    is synchronous, so only flightlog's variant has something to `settle`."""
    return {
        "no autolog": Variant(_nothing, _nothing, _nothing),
        "flightlog": Variant(ours.autolog, settle, lambda: ours.autolog(disable=True)),
        "mlflow": Variant(
            lambda: theirs.autolog(silent=True), _nothing, lambda: theirs.autolog(disable=True)
        ),
    }


@contextlib.contextmanager
def separate_stores() -> Iterator[str]:
    """A temporary folder in which flightlog and MLflow each log into their own SQLite file."""
    import mlflow

    import flightlog

    with tempfile.TemporaryDirectory() as tmp:
        flightlog.set_tracking_uri(f"sqlite:///{os.path.join(tmp, 'flightlog.db')}")
        mlflow.set_tracking_uri(f"sqlite:///{os.path.join(tmp, 'mlflow.db')}")
        yield tmp


def measure(
    variants: dict[str, Variant],
    train: Callable[[], Any],
    warm_up: Callable[[], Any],
    repeats: int,
) -> dict[str, dict[str, float]]:
    """Returns/stored/cpu seconds of `train()` per variant (median or min of the repeats)."""
    for variant in variants.values():
        variant.enable()
        warm_up()
        variant.settle()
        variant.disable()
    samples = {name: {kind: [] for kind in KINDS} for name in variants}
    for _ in range(repeats):
        for name, variant in variants.items():
            variant.enable()
            cpu = _cpu_seconds()
            start = time.perf_counter()
            train()
            returned = time.perf_counter()
            variant.settle()
            stored = time.perf_counter()
            samples[name]["cpu"].append(_cpu_seconds() - cpu)
            samples[name]["returns"].append(returned - start)
            samples[name]["stored"].append(stored - start)
            variant.disable()
    summarize = STATISTICS[_statistic]
    return {
        name: {kind: summarize(values) for kind, values in kinds.items()}
        for name, kinds in samples.items()
    }


def report(case: CaseResult, fit_share_target: float | None = None) -> None:
    results = case.medians
    base = results["no autolog"]
    print(f"\n{case.title} ({_statistic} of the repeats, seconds)")
    print(
        f"  {'variant':<11} {'returns':>8} {'stored':>8} {'cpu':>8}   overhead: returns  stored     cpu"
    )
    for name, r in results.items():
        print(
            f"  {name:<11} {r['returns']:8.3f} {r['stored']:8.3f} {r['cpu']:8.3f}"
            f"            {r['returns'] - base['returns']:7.3f} {r['stored'] - base['stored']:7.3f}"
            f" {r['cpu'] - base['cpu']:7.3f}"
        )
    for kind in KINDS:
        ours = results["flightlog"][kind] - base[kind]
        theirs = results["mlflow"][kind] - base[kind]
        ratio = ours / theirs if theirs > 0 else float("inf")
        verdict = "meets" if ratio <= 0.2 else "misses"
        print(
            f"  overhead ratio flightlog/mlflow ({kind}): {ratio:6.3f}  ({verdict} the 0.2 target)"
        )
    if fit_share_target is not None:
        for kind in ("returns", "stored"):
            share = (results["flightlog"][kind] - base[kind]) / base[kind]
            verdict = "meets" if share < fit_share_target else "misses"
            print(
                f"  flightlog overhead / fit time ({kind}): {share:6.1%}  "
                f"({verdict} the {fit_share_target:.0%} target)"
            )


# --- scikit-learn ----------------------------------------------------------------------------
def bench_sklearn(args: argparse.Namespace) -> list[CaseResult]:
    import mlflow
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    import flightlog
    from flightlog.autolog import wait_for_background

    X, y = make_classification(n_samples=args.rows, n_features=20, n_informative=10, random_state=0)
    X_small, y_small = X[:500], y[:500]

    def flightlog_settle() -> None:
        wait_for_background()
        flightlog.flush()

    variants = autolog_variants(flightlog.sklearn, mlflow.sklearn, flightlog_settle)

    def forest() -> RandomForestClassifier:
        return RandomForestClassifier(n_estimators=100, random_state=0)

    def search() -> GridSearchCV:
        grid = {"C": [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]}
        return GridSearchCV(LogisticRegression(max_iter=1000), grid, cv=3)

    cases = []
    with separate_stores():
        medians = measure(
            variants,
            train=lambda: forest().fit(X, y),
            warm_up=lambda: RandomForestClassifier(n_estimators=5).fit(X_small, y_small),
            repeats=args.repeats,
        )
        cases.append(
            CaseResult(f"RandomForestClassifier(n_estimators=100).fit, {args.rows}x20", medians)
        )
        medians = measure(
            variants,
            train=lambda: search().fit(X, y),
            warm_up=lambda: search().fit(X_small, y_small),
            repeats=args.repeats,
        )
        cases.append(
            CaseResult(
                f"GridSearchCV(LogisticRegression), 6 candidates x 3 folds, {args.rows}x20", medians
            )
        )
    return cases


# --- XGBoost ---------------------------------------------------------------------------------
def bench_xgboost(args: argparse.Namespace) -> list[CaseResult]:
    """xgboost.train, 200 rounds, train + validation evals (logloss every round, so the callback
    logs 400 points), on 3000 + 1000 rows x 20 features. One XGBoost thread: on a small shared
    machine OpenMP threads competing with other processes make the baseline swing by several x.
    Target: flightlog's overhead at most 1/5 of MLflow's."""
    import mlflow
    import numpy as np
    import xgboost as xgb

    import flightlog
    from flightlog.autolog import wait_for_background

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 20))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=4000) > 0).astype(int)
    dtrain, dval = xgb.DMatrix(X[:3000], y[:3000]), xgb.DMatrix(X[3000:], y[3000:])
    params = {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "max_depth": 4,
        "nthread": 1,
    }
    evals = [(dtrain, "train"), (dval, "val")]

    def flightlog_settle() -> None:
        wait_for_background()
        flightlog.flush()

    variants = autolog_variants(flightlog.xgboost, mlflow.xgboost, flightlog_settle)
    with separate_stores():
        medians = measure(
            variants,
            train=lambda: xgb.train(params, dtrain, 200, evals=evals, verbose_eval=False),
            warm_up=lambda: xgb.train(params, dtrain, 5, evals=evals, verbose_eval=False),
            repeats=args.repeats,
        )
    return [CaseResult("xgboost.train, 200 rounds, train + val evals, 4000x20", medians)]


# --- Lightning (deep learning) -------------------------------------------------------------
def bench_lightning(args: argparse.Namespace) -> list[CaseResult]:
    """Lightning `trainer.fit`: a 3-layer MLP, 5 epochs of 250 batches (16000 x 32 rows,
    batch 64) with a validation set, on one CPU thread (so other processes on a small machine
    do not make the baseline swing). flightlog through MLflow's spelling,
    `flightlog.pytorch.autolog()` (plain-loop and Lightning integrations both on), against
    `mlflow.pytorch.autolog()`; each logs params, epoch metrics and the model.
    Targets: flightlog's overhead under 3% of the fit time and at most 1/5 of MLflow's."""
    import logging
    import warnings

    import lightning as L
    import mlflow
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    import flightlog

    torch.set_num_threads(1)
    for name in ("lightning.pytorch", "lightning.fabric", "mlflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")

    class MLP(L.LightningModule):
        def __init__(self, features: int = 32, hidden: int = 64, lr: float = 1e-3):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(
                nn.Linear(features, hidden),
                nn.ReLU(),
                nn.Linear(hidden, hidden),
                nn.ReLU(),
                nn.Linear(hidden, 2),
            )
            self.loss = nn.CrossEntropyLoss()

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = self.loss(self(x), y)
            self.log("train_loss", loss, on_step=False, on_epoch=True)
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            self.log("val_loss", self.loss(self(x), y))

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    generator = torch.Generator().manual_seed(0)
    X = torch.randn(20_000, 32, generator=generator)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).long()
    train_loader = DataLoader(TensorDataset(X[:16_000], y[:16_000]), batch_size=64, shuffle=True)
    val_loader = DataLoader(TensorDataset(X[16_000:], y[16_000:]), batch_size=500)
    small_loader = DataLoader(TensorDataset(X[:640], y[:640]), batch_size=64)

    variants = autolog_variants(flightlog.pytorch, mlflow.pytorch, flightlog.flush)

    with separate_stores() as tmp:

        def fit(epochs: int, loader: Any) -> None:
            torch.manual_seed(0)
            trainer = L.Trainer(
                max_epochs=epochs,
                accelerator="cpu",
                logger=False,
                enable_progress_bar=False,
                enable_model_summary=False,
                num_sanity_val_steps=0,
                default_root_dir=os.path.join(tmp, "lightning"),
            )
            trainer.fit(MLP(), loader, val_loader)

        medians = measure(
            variants,
            train=lambda: fit(5, train_loader),
            warm_up=lambda: fit(1, small_loader),
            repeats=args.repeats,
        )
    return [CaseResult("Lightning trainer.fit, MLP 32-64-64-2, 5 epochs x 250 batches", medians)]


SECTIONS: dict[str, Callable[[argparse.Namespace], list[CaseResult]]] = {
    "sklearn": bench_sklearn,
    "xgboost": bench_xgboost,
    "lightning": bench_lightning,
}
FIT_SHARE_TARGETS = {"RandomForestClassifier": 0.10, "Lightning": 0.03}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--stat", choices=sorted(STATISTICS), default="median")
    args = parser.parse_args(argv)
    global _statistic
    _statistic = args.stat
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("FLIGHTLOG_AUTOLOG_TESTING", "0")
    import warnings

    # MLflow's metric calls use argument names scikit-learn 1.9 deprecates; not our output.
    warnings.filterwarnings("ignore", category=FutureWarning)
    for name in args.only or SECTIONS:
        for case in SECTIONS[name](args):
            target = next(
                (
                    share
                    for prefix, share in FIT_SHARE_TARGETS.items()
                    if case.title.startswith(prefix)
                ),
                None,
            )
            report(case, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
