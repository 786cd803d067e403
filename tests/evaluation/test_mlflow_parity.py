"""flightlog.evaluate against the real mlflow.evaluate (mlflow 3.17.2) on the same model and
data: every metric MLflow logs is logged by flightlog under the same name with the same value
(within 1e-9), and every plot/CSV artifact MLflow logs is there too.

MLflow's SHAP explainability is optional and skipped by MLflow itself when shap is missing
(it is not installed here), so it is not part of the comparison."""

from __future__ import annotations

import os

import pytest
from eval_data import binary_problem, multiclass_problem, regression_problem

import flightlog

mlflow = pytest.importorskip("mlflow")

pytestmark = [pytest.mark.interop, pytest.mark.slow]


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    # MLflow's default experiment (set_experiment would export MLFLOW_EXPERIMENT_ID, which
    # flightlog reads too).
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    yield
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _mlflow_evaluate(model, frame, targets, model_type):
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model")
        result = mlflow.evaluate(info.model_uri, frame, targets=targets, model_type=model_type)
    logged = mlflow.MlflowClient().get_run(run.info.run_id).data.metrics
    files = {
        os.path.splitext(f.path)[0] for f in mlflow.MlflowClient().list_artifacts(run.info.run_id)
    }
    return result, logged, files


@pytest.mark.parametrize(
    ("problem", "targets", "model_type"),
    [
        (binary_problem, "label", "classifier"),
        (multiclass_problem, "label", "classifier"),
        (regression_problem, "target", "regressor"),
    ],
    ids=["binary", "multiclass", "regressor"],
)
def test_same_names_values_and_plots_as_mlflow_evaluate(mlflow_store, problem, targets, model_type):
    model, frame = problem()
    ml_result, ml_logged, ml_files = _mlflow_evaluate(model, frame, targets, model_type)
    assert ml_result.metrics, "mlflow.evaluate logged no metrics"
    fl = flightlog.evaluate(model, frame, targets=targets, model_type=model_type)
    fl_logged = flightlog.get_run(fl.run_id).data.metrics
    for name, value in ml_logged.items():
        assert name in fl.metrics, f"mlflow logs {name!r}, flightlog does not"
        assert fl.metrics[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name
        assert fl_logged[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name
    # MLflow's artifacts (plots, per_class_metrics.csv) under the same names.
    ml_artifacts = set(ml_result.artifacts) | ml_files
    ml_artifacts.discard("model")
    assert ml_artifacts <= set(fl.artifacts), ml_artifacts - set(fl.artifacts)
    if model_type == "classifier":
        assert {"confusion_matrix", "roc_curve_plot", "precision_recall_curve_plot"} <= ml_artifacts
