"""Evaluation and drift in one run: a scikit-learn classifier is trained and logged, evaluated
on a held-out set with flightlog.evaluate (MLflow Evaluate's metrics and plots), compared with
a baseline under thresholds, then the training data is compared with a shifted copy of itself
with flightlog.log_drift (per-column tests, data quality, an HTML report) and checked with
flightlog.check, the way a CI job would. Under a minute on a CPU.
Stored in the embedded store (./flightlog-runs). Run: python examples/evaluate_and_drift.py"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier

import flightlog
from flightlog.evaluation import MetricThreshold

flightlog.set_experiment("evaluate-and-drift")

X, y = make_classification(3000, 6, n_informative=4, random_state=0)
columns = [f"f{i}" for i in range(6)]
data = pd.DataFrame(X, columns=columns)
data["segment"] = np.where(data["f0"] > 0, "north", "south")  # a categorical feature
data["label"] = y
train, test = data.iloc[:2000], data.iloc[2000:]
features = [*columns]

with flightlog.start_run(run_name="forest") as run:
    model = RandomForestClassifier(n_estimators=50, max_depth=6, random_state=0)
    model.fit(train[features], train["label"])
    info = flightlog.sklearn.log_model(model, name="model", input_example=train[features].head())
    baseline = DummyClassifier(strategy="most_frequent").fit(train[features], train["label"])

    # 1. Evaluate the logged model (by URI) on the held-out rows, against a baseline.
    result = flightlog.evaluate(
        info.model_uri,
        test[[*features, "label"]],
        targets="label",
        model_type="classifier",
        baseline_model=baseline,
        validation_thresholds={
            "accuracy_score": MetricThreshold(threshold=0.8, min_absolute_change=0.1),
            "log_loss": MetricThreshold(threshold=0.6, greater_is_better=False),
        },
    )

    # 2. Drift: the training data against a copy with one feature shifted and a new category.
    shifted = train.copy()
    shifted["f1"] = shifted["f1"] + 0.8
    shifted.loc[shifted.index[:150], "segment"] = "east"
    report = flightlog.log_drift(train.drop(columns="label"), shifted.drop(columns="label"))

    # 3. Checks with thresholds, tagged on the run (what `flightlog check` does in CI).
    checks = flightlog.check(["accuracy_score > 0.8", "share_of_drifted_columns < 0.25"])

print(f"run {run.info.run_id} in experiment {run.info.experiment_id}")
for key in ("accuracy_score", "f1_score", "roc_auc", "log_loss"):
    print(f"  {key:<16} {result.metrics[key]:.4f}  (baseline {result.baseline_metrics[key]:.4f})")
print(f"  validation       {'passed' if result.validation_passed else 'FAILED'}")
print("  plots:           " + ", ".join(sorted(result.artifacts)))
print(
    f"  drift:           {report.number_of_drifted_columns} of {report.number_of_columns} columns"
    f" ({report.share_of_drifted_columns:.0%}), dataset drift: {report.dataset_drifted}"
)
for column in report.columns:
    print(
        f"    {column.column:<8} {column.test_title:<32} score {column.score:.4g}"
        f"{'  DRIFT' if column.drifted else ''}"
    )
for outcome in checks:
    print(f"  check {outcome.condition!r:<38} {'pass' if outcome.passed else 'FAIL'}")
# The command is in the same environment as this interpreter (e.g. .venv/bin/flightlog).
cli = Path(sys.executable).with_name("flightlog")
cli = str(cli) if cli.exists() else "flightlog"
print(f"Look at it:   {cli} ui   (open the run at http://127.0.0.1:5000: Evaluation, Drift)")
print(
    f"              {cli} check {run.info.run_id} 'share_of_drifted_columns < 0.25'"
    f"   (exits {0 if checks.passed else 1})"
)
print(f"              the HTML report: {report.artifacts['report_html']}")
