"""Autologging single estimators: params, training metrics, tags, model, dataset, plots."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics

import flightlog
from flightlog.entities import RunStatus

CLASSIFIER_METRICS = {
    "training_accuracy_score",
    "training_precision_score",
    "training_recall_score",
    "training_f1_score",
    "training_log_loss",
    "training_roc_auc",
    "training_score",
}
REGRESSOR_METRICS = {
    "training_mean_squared_error",
    "training_root_mean_squared_error",
    "training_mean_absolute_error",
    "training_r2_score",
    "training_score",
}


def test_logistic_regression(autolog, finished_runs, artifacts, binary_data):
    from sklearn.linear_model import LogisticRegression

    X, X_test, y, _ = binary_data
    autolog()
    model = LogisticRegression(C=0.5, max_iter=500)
    assert model.fit(X, y) is model

    (run,) = finished_runs()
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params["C"] == "0.5"
    assert run.data.params["max_iter"] == "500"
    assert set(run.data.params) == set(model.get_params(deep=True))
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert set(run.data.metrics) == CLASSIFIER_METRICS
    predicted = model.predict(X)
    proba = model.predict_proba(X)
    expected = {
        "training_accuracy_score": metrics.accuracy_score(y, predicted),
        "training_f1_score": metrics.f1_score(y, predicted, average="weighted"),
        "training_log_loss": metrics.log_loss(y, proba),
        "training_roc_auc": metrics.roc_auc_score(y, proba[:, 1]),
        "training_score": model.score(X, y),
    }
    for key, value in expected.items():
        assert run.data.metrics[key] == pytest.approx(value), key

    # The model loads back and predicts identically; it carries a signature.
    uri = f"runs:/{run.info.run_id}/model"
    loaded = flightlog.sklearn.load_model(uri)
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))
    info = flightlog.models.get_model_info(uri)
    assert "tensor" in info.signature_dict["inputs"] and "-1, 6" in info.signature_dict["inputs"]
    assert info.signature_dict["outputs"] is not None

    # The training data as a run input: name, digest, schema, shape; no data.
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.tags["mlflow.data.context"] == "train"
    assert dataset_input.dataset.name == "dataset"
    assert len(dataset_input.dataset.digest) == 8
    profile = json.loads(dataset_input.dataset.profile)
    assert profile["features_shape"] == [180, 6] and profile["targets_shape"] == [180]

    assert artifacts(run.info.run_id) == [
        "estimator.html",
        "model",
        "training_confusion_matrix.png",
        "training_precision_recall_curve.png",
        "training_roc_curve.png",
    ]


def test_random_forest_predicts_probabilities_once(
    autolog, finished_runs, multiclass_data, artifacts
):
    from sklearn.ensemble import RandomForestClassifier

    X, y = multiclass_data
    autolog()
    calls = []

    class CountingForest(RandomForestClassifier):  # defined after enabling: patched on creation
        def predict_proba(self, X):
            calls.append(len(X))
            return super().predict_proba(X)

    model = CountingForest(n_estimators=10, random_state=0).fit(X, y)
    assert calls == [len(X)]  # predict() and the metrics shared one pass
    assert "predict_proba" not in vars(model)  # the sharing left no trace on the model

    (run,) = finished_runs()
    assert set(run.data.metrics) == CLASSIFIER_METRICS
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(model.score(X, y))
    assert run.data.tags["estimator_name"] == "CountingForest"
    assert run.data.params["n_estimators"] == "10"
    # A class defined in a function is pickled by value, methods and all: it loads unpatched.
    loaded = flightlog.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # Three classes: a confusion matrix, no binary curves.
    assert "training_confusion_matrix.png" in artifacts(run.info.run_id)
    assert "training_roc_curve.png" not in artifacts(run.info.run_id)


def test_regressor_metrics_respect_sample_weights(autolog, finished_runs, regression_data):
    from sklearn.linear_model import Ridge

    X, y = regression_data
    weights = np.linspace(0.1, 3.0, len(y))
    autolog()
    model = Ridge(alpha=2.0).fit(X, y, sample_weight=weights)

    (run,) = finished_runs()
    assert set(run.data.metrics) == REGRESSOR_METRICS
    predicted = model.predict(X)
    mse = metrics.mean_squared_error(y, predicted, sample_weight=weights)
    assert run.data.metrics["training_mean_squared_error"] == pytest.approx(mse)
    assert mse != pytest.approx(metrics.mean_squared_error(y, predicted))  # weights mattered
    assert run.data.metrics["training_root_mean_squared_error"] == pytest.approx(np.sqrt(mse))
    assert run.data.metrics["training_mean_absolute_error"] == pytest.approx(
        metrics.mean_absolute_error(y, predicted, sample_weight=weights)
    )
    assert run.data.metrics["training_r2_score"] == pytest.approx(
        metrics.r2_score(y, predicted, sample_weight=weights)
    )
    assert run.data.metrics["training_score"] == pytest.approx(
        model.score(X, y, sample_weight=weights)
    )
    loaded = flightlog.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(X), predicted)


def test_classifier_metrics_respect_sample_weights(autolog, finished_runs, binary_data):
    from sklearn.tree import DecisionTreeClassifier

    X, _, y, _ = binary_data
    weights = np.where(y == 1, 5.0, 0.5)
    autolog()
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y, sample_weight=weights)

    (run,) = finished_runs()
    predicted = model.predict(X)
    weighted = metrics.accuracy_score(y, predicted, sample_weight=weights)
    assert weighted != pytest.approx(metrics.accuracy_score(y, predicted))
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(weighted)
    assert run.data.metrics["training_score"] == pytest.approx(weighted)


def test_pipeline_is_one_run_with_its_steps_params(autolog, finished_runs, binary_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, X_test, y, _ = binary_data
    autolog()
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=2.0))
    pipeline.fit(X, y)

    (run,) = finished_runs()  # the steps' own fits were nested: no runs of their own
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.params["logisticregression__C"] == "2.0"
    assert run.data.params["standardscaler__with_mean"] == "True"
    assert "steps" in run.data.params
    assert set(run.data.metrics) == CLASSIFIER_METRICS
    assert run.data.metrics["training_score"] == pytest.approx(pipeline.score(X, y))
    loaded = flightlog.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X_test), pipeline.predict(X_test))


def test_estimator_html_shows_the_pipeline(autolog, finished_runs, binary_data, tmp_path):
    """MLflow's `estimator.html`: scikit-learn's diagram, a page of its own."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, _, y, _ = binary_data
    autolog()
    make_pipeline(StandardScaler(), LogisticRegression(C=2.0)).fit(X, y)
    (run,) = finished_runs()
    path = flightlog.TrackingClient().download_artifacts(
        run.info.run_id, "estimator.html", str(tmp_path)
    )
    with open(path, encoding="utf-8") as f:
        page = f.read()
    assert page.startswith("<!DOCTYPE html>") and 'charset="UTF-8"' in page
    for step in ("StandardScaler", "LogisticRegression", "Pipeline"):
        assert step in page


def test_a_scaler_alone_is_not_a_run(autolog, finished_runs, binary_data):
    from sklearn.preprocessing import StandardScaler

    X, *_ = binary_data
    autolog()
    StandardScaler().fit_transform(X)  # data manipulation, MLflow's rule: no run
    assert finished_runs() == []


def test_kmeans(autolog, finished_runs, multiclass_data):
    from sklearn.cluster import KMeans

    X, _ = multiclass_data
    autolog()
    model = KMeans(n_clusters=3, n_init=2, random_state=0).fit(X)

    (run,) = finished_runs()
    assert set(run.data.metrics) == {"training_silhouette_score", "training_score"}
    assert run.data.metrics["training_silhouette_score"] == pytest.approx(
        metrics.silhouette_score(X, model.labels_)
    )
    assert run.data.metrics["training_score"] == pytest.approx(model.score(X))
    assert run.data.params["n_clusters"] == "3"
    loaded = flightlog.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_fit_predict_and_user_estimators(autolog, finished_runs, multiclass_data):
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.cluster import AgglomerativeClustering

    X, y = multiclass_data

    class MajorityBefore(ClassifierMixin, BaseEstimator):  # defined before enabling
        def fit(self, X, y):
            values, counts = np.unique(y, return_counts=True)
            self.classes_ = values
            self.majority_ = values[np.argmax(counts)]
            return self

        def predict(self, X):
            return np.full(len(X), self.majority_)

    autolog()

    class MajorityAfter(MajorityBefore):  # defined after enabling; fit calls super().fit
        def fit(self, X, y):
            return super().fit(X, y)

    labels = AgglomerativeClustering(n_clusters=3).fit_predict(X)
    MajorityBefore().fit(X, y)
    MajorityAfter().fit(X, y)

    runs = {r.data.tags["estimator_name"]: r for r in finished_runs()}
    assert set(runs) == {"AgglomerativeClustering", "MajorityBefore", "MajorityAfter"}
    assert runs["AgglomerativeClustering"].data.metrics["training_silhouette_score"] == (
        pytest.approx(metrics.silhouette_score(X, labels))
    )
    assert runs["MajorityAfter"].data.metrics["training_accuracy_score"] == pytest.approx(1 / 3)


def test_options_turn_parts_off(autolog, finished_runs, artifacts, binary_data):
    from sklearn.linear_model import LogisticRegression

    X, _, y, _ = binary_data
    autolog(log_models=False, log_datasets=False, extra_tags={"owner": "qa"})
    LogisticRegression().fit(X, y)

    (run,) = finished_runs()
    assert run.inputs.dataset_inputs == []
    assert "model" not in artifacts(run.info.run_id)
    assert run.data.tags["owner"] == "qa"


def test_input_example_when_asked(autolog, finished_runs, artifacts, binary_data):
    from sklearn.linear_model import LogisticRegression

    X, _, y, _ = binary_data
    autolog(log_input_examples=True)
    LogisticRegression().fit(X, y)

    (run,) = finished_runs()
    assert "model/input_example.json" in artifacts(run.info.run_id, "model")
    info = flightlog.models.get_model_info(f"runs:/{run.info.run_id}/model")
    assert info.saved_input_example_info is not None


def test_registered_model_name(autolog, finished_runs, binary_data):
    from sklearn.linear_model import LogisticRegression

    X, _, y, _ = binary_data
    autolog(registered_model_name="autologged-classifier")
    LogisticRegression().fit(X, y)
    LogisticRegression(C=3.0).fit(X, y)

    runs = finished_runs()
    versions = flightlog.MlflowClient().search_model_versions("name = 'autologged-classifier'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    assert {v.run_id for v in versions} == {r.info.run_id for r in runs}


def test_dataframe_input_and_string_labels(autolog, finished_runs, artifacts):
    import pandas as pd
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.DataFrame(
        {"age": [22, 35, 58, 41, 19, 63, 30, 47] * 5, "income": [1.5, 3.2, 4.1, 2.8] * 10}
    )
    labels = pd.Series(["stay", "churn", "churn", "stay", "stay", "churn", "stay", "churn"] * 5)
    autolog(log_input_examples=True)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(frame, labels)

    (run,) = finished_runs()
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(model.score(frame, labels))
    (dataset_input,) = run.inputs.dataset_inputs
    schema = json.loads(dataset_input.dataset.schema)
    assert [c["name"] for c in json.loads(schema["mlflow_colspec"])] == ["age", "income"]
    assert json.loads(dataset_input.dataset.profile)["num_rows"] == 40
    info = flightlog.models.get_model_info(f"runs:/{run.info.run_id}/model")
    assert '"name": "age"' in info.signature_dict["inputs"]
    loaded = flightlog.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert list(loaded.predict(frame)) == list(model.predict(frame))
    assert {"training_roc_curve.png", "training_confusion_matrix.png"} <= set(
        artifacts(run.info.run_id)
    )


def test_text_pipeline(autolog, finished_runs):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["good movie", "bad film", "great plot", "awful acting", "loved it", "hated it"] * 4
    y = [1, 0, 1, 0, 1, 0] * 4
    autolog()
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, y)

    (run,) = finished_runs()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(pipeline.score(texts, y))
    assert run.inputs.dataset_inputs[0].dataset.name == "dataset"
    loaded = flightlog.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert list(loaded.predict(["good plot", "awful film"])) == list(
        pipeline.predict(["good plot", "awful film"])
    )
