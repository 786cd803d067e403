"""MLflow 3 logged models and model-version sources over a real `flightlog server`, driven by the
official mlflow client (what `mlflow.<flavor>.log_model` and the registry calls send)."""

from __future__ import annotations

import json

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


class _Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]


@pytest.fixture(scope="module")
def client(server):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mlflow.set_tracking_uri(server.url)
        mlflow.set_registry_uri(server.url)
        try:
            yield MlflowClient(tracking_uri=server.url, registry_uri=server.url)
        finally:
            mlflow.set_tracking_uri(None)
            mlflow.set_registry_uri(None)


@pytest.fixture(scope="module")
def logged(client):
    """A run that logs a pyfunc model, a metric of that model, and reads it back."""
    mlflow.set_experiment("logged-models")
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="doubler", python_model=_Doubler(), pip_requirements=["cloudpickle"]
        )
        mlflow.log_metric("accuracy", 0.75, step=3, model_id=info.model_id)
    return run.info.run_id, info.model_id


def test_run_outputs_name_the_logged_model(client, logged):
    run_id, model_id = logged
    outputs = client.get_run(run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [model_id]
    found = client.search_runs([client.get_run(run_id).info.experiment_id])
    assert [o.model_id for o in found[0].outputs.model_outputs] == [model_id]


def test_logged_model_metrics(client, logged):
    run_id, model_id = logged
    metrics = client.get_logged_model(model_id).metrics
    assert [(m.key, m.value, m.step, m.run_id) for m in metrics] == [("accuracy", 0.75, 3, run_id)]
    # the run keeps its copy
    assert client.get_run(run_id).data.metrics["accuracy"] == 0.75


def test_log_inputs_with_a_model(client, logged):
    from mlflow.entities import LoggedModelInput

    _run_id, model_id = logged
    experiment_id = client.get_logged_model(model_id).experiment_id
    user = client.create_run(experiment_id).info.run_id
    client.log_inputs(user, models=[LoggedModelInput(model_id)])
    client.log_inputs(user, models=[LoggedModelInput(model_id)])  # once is enough
    assert [m.model_id for m in client.get_run(user).inputs.model_inputs] == [model_id]
    with pytest.raises(MlflowException) as info:
        client.log_inputs(user, models=[LoggedModelInput("m-00000000000000000000000000000000")])
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_a_version_made_from_a_logged_model_is_noted_on_it(client, logged):
    _run_id, model_id = logged
    client.create_registered_model("from-logged")
    for _ in range(2):
        client.create_model_version("from-logged", f"models:/{model_id}", model_id=model_id)
    tag = client.get_logged_model(model_id).tags["mlflow.modelVersions"]
    assert json.loads(tag) == [
        {"name": "from-logged", "version": "1"},
        {"name": "from-logged", "version": "2"},
    ]
    # the fluent API (which appends to the tag itself too) still registers and loads it
    version = mlflow.register_model(f"models:/{model_id}", "from-logged-fluent")
    loaded = mlflow.pyfunc.load_model(f"models:/from-logged-fluent/{version.version}")
    assert list(loaded.predict([1, 2])) == [2, 4]


def test_unnamed_logged_models_get_distinct_names(client):
    experiment_id = client.create_experiment("unnamed-models")
    first = client.create_logged_model(experiment_id)
    second = client.create_logged_model(experiment_id)
    assert first.name and second.name and first.name != second.name
    found = client.search_logged_models([experiment_id], filter_string=f"name = '{first.name}'")
    assert [m.model_id for m in found] == [first.model_id]


def test_deleting_a_missing_logged_model_tag_raises(client):
    experiment_id = client.create_experiment("model-tags")
    model = client.create_logged_model(experiment_id, tags={"keep": "1"})
    client.delete_logged_model_tag(model.model_id, "keep")
    with pytest.raises(MlflowException) as info:
        client.delete_logged_model_tag(model.model_id, "keep")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


# --- model-version sources ------------------------------------------------------------------------
def _refused(client, name, source, **kwargs):
    with pytest.raises(MlflowException) as info:
        client.create_model_version(name, source, **kwargs)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE", info.value
    assert "Invalid model version source" in str(info.value)


def test_model_version_sources_follow_mlflows_rule(client, tmp_path):
    client.create_registered_model("sources")
    local_experiment = client.create_experiment("local-root", artifact_location=str(tmp_path))
    local_run = client.create_run(local_experiment).info.run_id
    proxied_experiment = client.create_experiment("proxied-root")
    proxied = client.create_run(proxied_experiment).info
    other = client.create_run(proxied_experiment).info

    # a local path only inside the artifact folder of the run it names
    _refused(client, "sources", "/etc")
    _refused(client, "sources", "file:///etc/passwd")
    _refused(client, "sources", str(tmp_path / "elsewhere"), run_id=local_run)
    _refused(client, "sources", f"{tmp_path}/{local_run}/artifacts/../../x", run_id=local_run)
    ok = client.create_model_version(
        "sources", f"{tmp_path}/{local_run}/artifacts/model", run_id=local_run
    )
    assert ok.version == "1"
    # proxied sources only inside the named run's root
    inside = f"{proxied.artifact_uri}/model"
    assert client.create_model_version("sources", inside, run_id=proxied.run_id).version == "2"
    _refused(client, "sources", inside, run_id=other.run_id)
    _refused(client, "sources", inside)
    _refused(client, "sources", "mlflow-artifacts:/1/%2E%2E/%2E%2E/x", run_id=proxied.run_id)
    # runs:/ only with the run it names
    runs_uri = f"runs:/{proxied.run_id}/model"
    assert client.create_model_version("sources", runs_uri, run_id=proxied.run_id).version == "3"
    _refused(client, "sources", runs_uri, run_id=other.run_id)
    # a logged model's URI only with that model's id
    _refused(client, "sources", "models:/m-0123456789abcdef0123456789abcdef")
    # object stores are the client's business
    assert client.create_model_version("sources", "s3://bucket/models/a").version == "4"
    assert [v.version for v in client.search_model_versions("name = 'sources'")] == [
        "4",
        "3",
        "2",
        "1",
    ]


def test_log_batch_metrics_with_a_model_id(client, logged):
    from mlflow.entities import Metric

    run_id, model_id = logged
    points = [
        Metric(
            "loss",
            1.0 / (step + 1),
            1000 + step,
            step,
            model_id=model_id,
            dataset_name="d",
            dataset_digest="abc",
        )
        for step in range(3)
    ]
    client.log_batch(run_id, metrics=points)
    client.log_batch(run_id, metrics=points)  # a re-sent batch: identical points are one point
    model_loss = [m for m in client.get_logged_model(model_id).metrics if m.key == "loss"]
    assert [(m.step, m.value, m.dataset_name) for m in model_loss] == [
        (0, 1.0, "d"),
        (1, 0.5, "d"),
        (2, 1.0 / 3, "d"),
    ]
    assert len(client.get_metric_history(run_id, "loss")) == 3
