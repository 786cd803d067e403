"""MLflow 3 logged models in the embedded store and the client (issue 13 item 3): log_model makes
a LoggedModel (model_id, params, tags, status, source run), metrics logged with model_id (or right
after log_model) are the model's too, search/get/tags/finalize, runs:/ and models:/ both load.
Store methods run on SQLite, PostgreSQL and MySQL (the `store` fixture)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import flightlog
import flightlog.pyfunc
import flightlog.sklearn
from flightlog.entities import LoggedModelStatus, Metric, RunTag
from flightlog.exceptions import InvalidFilterError, InvalidParameterError, LoggedModelNotFoundError


@pytest.fixture(scope="module")
def regressor():
    from sklearn.linear_model import LinearRegression

    X = np.arange(20.0).reshape(10, 2)
    return LinearRegression().fit(X, X @ np.array([1.0, 2.0])), X


def test_log_model_creates_a_logged_model(regressor):
    model, X = regressor
    with flightlog.start_run() as run:
        flightlog.log_param("alpha", 0.5)
        info = flightlog.sklearn.log_model(
            model, name="reg", params={"depth": 3}, tags={"team": "ml"}, model_type="regressor"
        )
    assert info.model_id and info.model_id.startswith("m-")
    assert info.model_uri == f"models:/{info.model_id}"
    logged = flightlog.get_logged_model(info.model_id)
    assert logged.name == "reg" and logged.source_run_id == run.info.run_id
    assert logged.experiment_id == run.info.experiment_id
    assert logged.status == LoggedModelStatus.READY
    assert logged.model_type == "regressor"
    # MLflow 3: the run's params plus the given ones; the given tags plus the source tags
    assert logged.params == {"alpha": "0.5", "depth": "3"}
    assert logged.tags["team"] == "ml" and logged.tags["mlflow.source.type"] == "LOCAL"
    # the MLmodel names the model id; every URI form loads the same model
    loaded = flightlog.pyfunc.load_model(info.model_uri)
    assert loaded.metadata.model_id == info.model_id
    expected = model.predict(X)
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/reg", logged.artifact_location):
        np.testing.assert_allclose(flightlog.pyfunc.load_model(uri).predict(X), expected)
    assert flightlog.last_logged_model().model_id == info.model_id


def test_metrics_with_model_id_and_after_log_model(regressor):
    model, _ = regressor
    with flightlog.start_run() as run:
        flightlog.log_metric("before", 1.0)  # logged before the model: the run's only
        info = flightlog.sklearn.log_model(model, name="m")
        flightlog.log_metric("rmse", 0.25, model_id=info.model_id)
        flightlog.log_metrics({"mae": 0.5, "r2": 0.9}, step=2, model_id=info.model_id)
        flightlog.log_metric("after", 3.0)  # step 0, the model's step: linked (MLflow's rule)
        flightlog.log_metric("later_step", 4.0, step=5)  # another step: the run's only
    logged = flightlog.get_logged_model(info.model_id)
    points = {(m.key, m.step, m.value) for m in logged.metrics}
    assert points == {("rmse", 0, 0.25), ("mae", 2, 0.5), ("r2", 2, 0.9), ("after", 0, 3.0)}
    assert all(m.run_id == run.info.run_id and m.model_id == info.model_id for m in logged.metrics)
    stored = flightlog.get_run(run.info.run_id).data.metrics
    assert stored == {
        "before": 1.0,
        "rmse": 0.25,
        "mae": 0.5,
        "r2": 0.9,
        "after": 3.0,
        "later_step": 4.0,
    }
    # each point once in the run's history, not once per model
    client = flightlog.MlflowClient()
    assert len(client.get_metric_history(run.info.run_id, "rmse")) == 1


def test_metric_with_dataset_links_the_dataset(regressor):
    import pandas as pd

    model, _ = regressor
    eval_data = flightlog.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="eval")
    with flightlog.start_run() as run:
        info = flightlog.sklearn.log_model(model, name="m")
        flightlog.log_metric("acc", 0.8, model_id=info.model_id, dataset=eval_data)
        flightlog.log_metric("f1", 0.7, model_id=info.model_id, dataset=eval_data)
    (metric_acc, metric_f1) = sorted(
        flightlog.get_logged_model(info.model_id).metrics, key=lambda m: m.key
    )
    assert (metric_acc.dataset_name, metric_acc.dataset_digest) == ("eval", eval_data.digest)
    inputs = flightlog.get_run(run.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [("eval", eval_data.digest)]


def test_search_tags_finalize_and_params(regressor):
    model, _ = regressor
    flightlog.set_experiment("search-models")
    with flightlog.start_run():
        a = flightlog.sklearn.log_model(model, name="a", params={"lr": "0.1"})
        flightlog.log_metric("acc", 0.6, model_id=a.model_id)
        flightlog.log_metric("acc", 0.9, step=1, model_id=a.model_id)  # the latest point
        b = flightlog.sklearn.log_model(model, name="b", params={"lr": "0.2"})
        flightlog.log_metric("acc", 0.7, model_id=b.model_id)
    found = flightlog.search_logged_models(output_format="list")
    assert [m.name for m in found] == ["b", "a"]  # newest first, as MLflow
    by = {
        m.name
        for m in flightlog.search_logged_models(
            filter_string="params.lr = '0.1'", output_format="list"
        )
    }
    assert by == {"a"}
    best = flightlog.search_logged_models(filter_string="metrics.acc > 0.8", output_format="list")
    assert [m.name for m in best] == ["a"]
    ordered = flightlog.search_logged_models(
        order_by=[{"field_name": "creation_time", "ascending": True}], output_format="list"
    )
    assert [m.name for m in ordered] == ["a", "b"]
    frame = flightlog.search_logged_models()
    assert list(frame["name"]) == ["b", "a"] and "model_id" in frame.columns

    flightlog.set_logged_model_tags(a.model_id, {"stage": "candidate", "n": 1})
    assert flightlog.get_logged_model(a.model_id).tags["n"] == "1"
    flightlog.delete_logged_model_tag(a.model_id, "stage")
    assert "stage" not in flightlog.get_logged_model(a.model_id).tags
    flightlog.log_model_params({"extra": "yes"}, model_id=a.model_id)
    assert flightlog.get_logged_model(a.model_id).params["extra"] == "yes"

    pending = flightlog.initialize_logged_model(name="external")
    assert pending.status == LoggedModelStatus.PENDING
    assert flightlog.finalize_logged_model(pending.model_id, "READY").status == "READY"
    external = flightlog.create_external_model(name="ext")
    assert external.status == "READY" and external.tags["mlflow.model.type"] == "external"

    with pytest.raises(InvalidFilterError):
        flightlog.search_logged_models(filter_string="metrix.acc > 1")
    with pytest.raises(InvalidParameterError, match="output_format"):
        flightlog.search_logged_models(output_format="json")
    with pytest.raises(LoggedModelNotFoundError):
        flightlog.get_logged_model("m-does-not-exist")


def test_failed_save_marks_the_model_failed(tmp_path):
    class Unpicklable(flightlog.pyfunc.PythonModel):
        def __init__(self):
            self.handle = open(tmp_path / "f", "w")  # noqa: SIM115 - a file cannot be pickled

        def predict(self, context, model_input, params=None):
            return model_input

    with flightlog.start_run() as run, pytest.raises(InvalidParameterError, match="serialize"):
        flightlog.pyfunc.log_model(name="broken", python_model=Unpicklable())
    (model,) = flightlog.MlflowClient().search_logged_models([run.info.experiment_id])
    assert model.name == "broken" and model.status == LoggedModelStatus.FAILED


def _run(store) -> str:
    return store.create_run("0", "ann", int(time.time() * 1000), [], "r").info.run_id


def test_store_model_metrics_on_every_backend(store):
    run_id = _run(store)
    model = store.create_logged_model("0", "m", run_id, [RunTag("t", "1")], [RunTag("p", "2")])
    now = int(time.time() * 1000)
    points = [
        Metric("loss", 0.5, now, 0),
        Metric("loss", 0.25, now + 1, 1),
        Metric("loss", math.nan, now + 2, 2),
        Metric("big", math.inf, now, 0),
    ]
    store.log_logged_model_metrics(model.model_id, points, run_id)
    store.log_logged_model_metrics(model.model_id, points[:2], run_id)  # identical: same points
    got = store.get_logged_model(model.model_id).metrics
    assert [(m.key, m.step) for m in got] == [("big", 0), ("loss", 0), ("loss", 1), ("loss", 2)]
    assert math.isnan(got[3].value) and got[0].value > 1e300
    assert {m.run_id for m in got} == {run_id}
    found = store.search_logged_models(["0"], "metrics.loss < 0.3")
    assert found == []  # the latest loss point is NaN, which compares with nothing
    store.log_logged_model_metrics(model.model_id, [Metric("loss", 0.1, now + 5, 3)], run_id)
    assert [m.model_id for m in store.search_logged_models(["0"], "metrics.loss < 0.3")] == [
        model.model_id
    ]
    with pytest.raises(LoggedModelNotFoundError):
        store.log_logged_model_metrics("m-nope", points, run_id)
    # a model's own artifact location can be given (flightlog's log_model passes the run's)
    placed = store.create_logged_model("0", "p", run_id, artifact_location="file:///somewhere/m")
    assert placed.artifact_location == "file:///somewhere/m"
