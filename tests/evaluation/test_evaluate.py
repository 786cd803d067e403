"""flightlog.evaluate: MLflow Evaluate's metric names, values equal to scikit-learn's own
functions on the same predictions, the plots and CSV as artifacts, baseline thresholds."""

from __future__ import annotations

import csv
import json
import math
import os

import numpy as np
import pytest
from eval_data import binary_problem, multiclass_problem, regression_problem
from sklearn import metrics as skm

import flightlog
from flightlog.evaluation import MetricThreshold
from flightlog.evaluation.errors import EvaluationInputError, ModelValidationFailedError

BINARY_NAMES = {
    "true_negatives", "false_positives", "false_negatives", "true_positives", "recall_score",
    "precision_score", "f1_score", "accuracy_score", "example_count", "log_loss", "roc_auc",
    "precision_recall_auc",
}  # fmt: skip
MULTICLASS_NAMES = {
    "accuracy_score", "f1_score_micro", "f1_score_macro", "log_loss", "example_count",
    "recall_score", "precision_score", "f1_score", "roc_auc",
}  # fmt: skip
REGRESSOR_NAMES = {
    "example_count", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error",
    "sum_on_target", "mean_on_target", "r2_score", "max_error", "mean_absolute_percentage_error",
}  # fmt: skip


def _local(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def _stored_metrics(run_id: str) -> dict[str, float]:
    return flightlog.get_run(run_id).data.metrics


def test_binary_metrics_equal_sklearn_and_are_logged():
    model, frame = binary_problem()
    X, y = frame.drop(columns="label"), frame["label"].to_numpy()
    pred, proba = model.predict(X.to_numpy()), model.predict_proba(X.to_numpy())[:, 1]
    result = flightlog.evaluate(model, frame, targets="label", model_type="classifier")
    m = result.metrics
    assert set(m) >= BINARY_NAMES
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    expected = {
        "true_negatives": tn, "false_positives": fp, "false_negatives": fn, "true_positives": tp,
        "accuracy_score": skm.accuracy_score(y, pred), "recall_score": skm.recall_score(y, pred),
        "precision_score": skm.precision_score(y, pred), "f1_score": skm.f1_score(y, pred),
        "example_count": len(y), "log_loss": skm.log_loss(y, proba),
        "roc_auc": skm.roc_auc_score(y, proba),
        "precision_recall_auc": skm.average_precision_score(y, proba),
        "score": model.score(X.to_numpy(), y),
    }  # fmt: skip
    for name, value in expected.items():
        assert m[name] == pytest.approx(float(value), abs=1e-12), name
    stored = _stored_metrics(result.run_id)
    for name in BINARY_NAMES:
        assert stored[name] == pytest.approx(m[name], abs=1e-12)
    # MLflow's plot artifacts, as PNG files.
    for name in ("confusion_matrix", "roc_curve_plot", "precision_recall_curve_plot",
                 "lift_curve_plot", "calibration_curve_plot"):  # fmt: skip
        path = _local(result.artifacts[name])
        assert path.endswith(f"{name}.png")
        with open(path, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    run = flightlog.get_run(result.run_id)
    assert run.data.tags["flightlog.evaluation"] == "classifier"
    summary_path = os.path.join(_local(run.info.artifact_uri), "evaluation_summary.json")
    with open(summary_path) as fh:
        summary = json.load(fh)
    assert summary["model_type"] == "classifier" and summary["pos_label"] == 1
    assert summary["metrics"]["roc_auc"] == pytest.approx(m["roc_auc"])


def test_binary_string_labels_and_pos_label():
    model, frame = binary_problem()
    names = np.array(["no", "yes"])
    y = names[frame["label"].to_numpy()]
    X = frame.drop(columns="label").to_numpy()

    def predict(data):
        return names[model.predict(np.asarray(data))]

    result = flightlog.evaluate(predict, X, targets=y, model_type="classifier",
                                evaluator_config={"pos_label": "no"})  # fmt: skip
    pred = predict(X)
    assert result.metrics["recall_score"] == pytest.approx(
        skm.recall_score(y, pred, pos_label="no")
    )
    assert result.metrics["true_positives"] == float(np.sum((y == "no") & (pred == "no")))
    # A callable has no predict_proba: no probability metrics, no curves.
    assert "roc_auc" not in result.metrics and "roc_curve_plot" not in result.artifacts
    assert "confusion_matrix" in result.artifacts


def test_multiclass_metrics_equal_sklearn_and_per_class_csv():
    model, frame = multiclass_problem()
    X, y = frame.drop(columns="label").to_numpy(), frame["label"].to_numpy()
    pred, proba = model.predict(X), model.predict_proba(X)
    with flightlog.start_run() as run:
        result = flightlog.evaluate(model, frame, targets="label", model_type="classifier")
    assert result.run_id == run.info.run_id
    m = result.metrics
    assert set(m) >= MULTICLASS_NAMES
    expected = {
        "accuracy_score": skm.accuracy_score(y, pred),
        "f1_score_micro": skm.f1_score(y, pred, average="micro"),
        "f1_score_macro": skm.f1_score(y, pred, average="macro"),
        "f1_score": skm.f1_score(y, pred, average="weighted"),
        "recall_score": skm.recall_score(y, pred, average="weighted"),
        "precision_score": skm.precision_score(y, pred, average="weighted"),
        "log_loss": skm.log_loss(y, proba),
        "roc_auc": skm.roc_auc_score(y, proba, average="weighted", multi_class="ovr"),
        "example_count": len(y),
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(float(value), abs=1e-12), name
    with open(_local(result.artifacts["per_class_metrics"]), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["positive_class"]) for r in rows] == [0, 1, 2]
    for row in rows:
        label = int(row["positive_class"])
        yb, pb = (y == label).astype(int), (pred == label).astype(int)
        assert int(row["true_positives"]) == int(np.sum((yb == 1) & (pb == 1)))
        assert float(row["recall_score"]) == pytest.approx(skm.recall_score(yb, pb))
        assert float(row["roc_auc"]) == pytest.approx(skm.roc_auc_score(yb, proba[:, label]))
    assert {"confusion_matrix", "roc_curve_plot", "precision_recall_curve_plot"} <= set(
        result.artifacts
    )


def test_regressor_metrics_equal_sklearn():
    model, frame = regression_problem()
    X, y = frame.drop(columns="target").to_numpy(), frame["target"].to_numpy()
    pred = model.predict(X)
    result = flightlog.evaluate(model, frame, targets="target", model_type="regressor")
    m = result.metrics
    assert set(m) >= REGRESSOR_NAMES
    expected = {
        "example_count": len(y),
        "mean_absolute_error": skm.mean_absolute_error(y, pred),
        "mean_squared_error": skm.mean_squared_error(y, pred),
        "root_mean_squared_error": math.sqrt(skm.mean_squared_error(y, pred)),
        "sum_on_target": float(np.sum(y)),
        "mean_on_target": float(np.mean(y)),
        "r2_score": skm.r2_score(y, pred),
        "max_error": skm.max_error(y, pred),
        "mean_absolute_percentage_error": skm.mean_absolute_percentage_error(y, pred),
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(float(value), rel=1e-12), name
    assert result.artifacts == {}  # MLflow draws no plots for regressors either


def test_model_uri_and_loaded_model_give_the_same_metrics():
    model, frame = binary_problem()
    with flightlog.start_run():
        info = flightlog.sklearn.log_model(model, name="model")
        by_uri = flightlog.evaluate(info.model_uri, frame, targets="label")
        loaded = flightlog.models.load_model(info.model_uri)
        by_loaded = flightlog.evaluate(loaded, frame, targets="label")
    direct = flightlog.evaluate(model, frame, targets="label")
    for name in BINARY_NAMES:
        assert by_uri.metrics[name] == pytest.approx(direct.metrics[name], abs=1e-12)
        assert by_loaded.metrics[name] == pytest.approx(direct.metrics[name], abs=1e-12)


def test_evaluate_starts_and_ends_a_run_when_none_is_active():
    model, frame = binary_problem()
    result = flightlog.evaluate(model, frame, targets="label")
    assert flightlog.active_run() is None
    assert flightlog.get_run(result.run_id).info.status == "FINISHED"


def test_baseline_thresholds_pass_and_fail():
    from sklearn.dummy import DummyClassifier

    model, frame = binary_problem()
    X, y = frame.drop(columns="label"), frame["label"]
    baseline = DummyClassifier(strategy="most_frequent").fit(X, y)
    ok = flightlog.evaluate(
        model, frame, targets="label", baseline_model=baseline,
        validation_thresholds={
            "accuracy_score": MetricThreshold(threshold=0.6, min_absolute_change=0.05,
                                              min_relative_change=0.05),
            "log_loss": MetricThreshold(threshold=5.0, greater_is_better=False),
        },
    )  # fmt: skip
    assert ok.validation_passed
    assert ok.baseline_metrics["accuracy_score"] == pytest.approx(
        skm.accuracy_score(y, baseline.predict(X))
    )
    stored = _stored_metrics(ok.run_id)
    assert stored["baseline_accuracy_score"] == pytest.approx(ok.baseline_metrics["accuracy_score"])
    tags = flightlog.get_run(ok.run_id).data.tags
    assert tags["flightlog.evaluation.validation"] == "pass"
    assert tags["flightlog.evaluation.validation.accuracy_score"] == "pass"

    gain = ok.metrics["accuracy_score"] - ok.baseline_metrics["accuracy_score"]
    bad = flightlog.evaluate(
        model, frame, targets="label", baseline_model=baseline,
        validation_thresholds={"accuracy_score": MetricThreshold(min_absolute_change=gain + 0.01)},
    )  # fmt: skip
    assert not bad.validation_passed
    assert "min_absolute_change" in bad.validation["accuracy_score"].reasons[0]
    assert flightlog.get_run(bad.run_id).data.tags["flightlog.evaluation.validation"] == "fail"
    with pytest.raises(ModelValidationFailedError, match="accuracy_score"):
        flightlog.evaluate(
            model, frame, targets="label",
            validation_thresholds={"accuracy_score": MetricThreshold(threshold=0.9999)},
            raise_on_failure=True,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"targets": "nope"}, "targets column 'nope'"),
        ({"targets": "label", "model_type": "ranker"}, "model_type must be one of"),
        ({"targets": "label", "evaluators": ["shap"]}, "Unknown evaluator"),
        ({"targets": None}, "targets is required"),
        ({"targets": [0, 1]}, "targets has 2 values"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_logs_nothing(kwargs, message):
    model, frame = binary_problem()
    with flightlog.start_run() as run, pytest.raises(EvaluationInputError, match=message):
        flightlog.evaluate(model, frame, **kwargs)
    assert flightlog.get_run(run.info.run_id).data.metrics == {}


def test_min_change_without_baseline_is_refused():
    model, frame = binary_problem()
    with pytest.raises(EvaluationInputError, match="baseline_model"):
        flightlog.evaluate(model, frame, targets="label",
                           validation_thresholds={"f1_score": MetricThreshold(min_absolute_change=0.1)})  # fmt: skip
