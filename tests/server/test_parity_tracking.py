"""Tracking-API details MLflow's clients and its own server tests depend on, against a real
`flightlog server` child process: MLflow's wording of validation errors, the extra endpoints
MLflow's client and web app call, artifact roots. The official mlflow client is the caller
wherever one exists."""

from __future__ import annotations

from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402


@pytest.fixture(scope="module")
def client(server):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        yield MlflowClient(tracking_uri=server.url)


@pytest.fixture(scope="module")
def run_id(client):
    return client.create_run(client.create_experiment("wording")).info.run_id


def _bad_request(api, endpoint, body, expected):
    response = api("POST", endpoint, body)
    assert response.status_code == 400, response.text
    # as MLflow's tests look for it: in the raw response text (JSON-escaped quotes)
    assert expected in response.text, response.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"run_id": 31, "key": "m", "value": 41, "timestamp": 59, "step": 26},
         "Invalid value 31 for parameter 'run_id' supplied"),
        ({"run_id": "RUN", "key": 31, "value": 41, "timestamp": 59, "step": 26},
         "Invalid value 31 for parameter 'key' supplied"),
        ({"run_id": "RUN", "key": "foo", "value": 31, "timestamp": 59, "step": "foo"},
         'Invalid value \\"foo\\" for parameter \'step\' supplied'),
        ({"run_id": "RUN", "key": "foo", "value": 31, "timestamp": "foo", "step": 41},
         'Invalid value \\"foo\\" for parameter \'timestamp\' supplied'),
        ({"run_id": None, "key": "foo", "value": 31, "timestamp": 59, "step": 41},
         "Missing value for required parameter 'run_id'"),
        ({"run_id": "RUN", "value": 31, "timestamp": 59, "step": 41},
         "Missing value for required parameter 'key'"),
        ({"run_id": "RUN", "key": None, "value": 31, "timestamp": 59, "step": 41},
         "Missing value for required parameter 'key'"),
    ],
)  # fmt: skip
def test_log_metric_validation_wording(api, run_id, body, expected):
    body = {k: (run_id if v == "RUN" else v) for k, v in body.items()}
    _bad_request(api, "/api/2.0/mlflow/runs/log-metric", body, expected)


def test_log_param_and_experiment_validation_wording(api, run_id):
    _bad_request(
        api,
        "/api/2.0/mlflow/runs/log-parameter",
        {"run_id": 31, "key": "param", "value": 41},
        "Invalid value 31 for parameter 'run_id' supplied",
    )
    _bad_request(
        api,
        "/api/2.0/mlflow/runs/log-parameter",
        {"run_id": run_id, "key": 31, "value": 41},
        "Invalid value 31 for parameter 'key' supplied",
    )
    create = "/api/2.0/mlflow/experiments/create"
    _bad_request(api, create, {"name": 123}, "Invalid value 123 for parameter 'name'")
    _bad_request(api, create, {}, "Missing value for required parameter 'name'")
    _bad_request(
        api,
        create,
        {"name": "n", "artifact_location": 9.0},
        "Invalid value 9.0 for parameter 'artifact_location'",
    )
    _bad_request(
        api, create, {"name": "n", "tags": "5"}, "Invalid value \\\"5\\\" for parameter 'tags'"
    )
    # the refused requests stored nothing
    run = api("GET", "/api/2.0/mlflow/runs/get", {"run_id": run_id}).json()["run"]
    assert not run["data"].get("params")
    found = api("POST", "/api/2.0/mlflow/experiments/search", {"max_results": 100}).json()
    assert "n" not in [e["name"] for e in found.get("experiments", [])]


def test_log_batch_validation_wording(api, run_id):
    _bad_request(
        api,
        "/api/2.0/mlflow/runs/log-batch",
        {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": "x", "step": 0}]},
        "Invalid value \\\"x\\\" for parameter 'metrics.0.timestamp' supplied",
    )
    run = api("GET", "/api/2.0/mlflow/runs/get", {"run_id": run_id}).json()["run"]
    assert not run["data"].get("metrics")  # the refused batch stored nothing


# --- endpoints MLflow's client and web app call ---------------------------------------------------
def test_delete_experiment_tag(client):
    from mlflow.exceptions import MlflowException

    experiment_id = client.create_experiment("tagged", tags={"keep": "1", "drop": "2"})
    client.delete_experiment_tag(experiment_id, "drop")
    assert client.get_experiment(experiment_id).tags == {"keep": "1"}
    with pytest.raises(MlflowException) as info:
        client.delete_experiment_tag(experiment_id, "drop")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_experiment(experiment_id).tags == {"keep": "1"}


def test_ajax_api_aliases(api, client):
    experiment_id = client.create_experiment("ajax")
    response = api("GET", "/ajax-api/2.0/mlflow/experiments/get", {"experiment_id": experiment_id})
    assert response.status_code == 200, response.text
    assert response.json()["experiment"]["name"] == "ajax"
    created = api("POST", "/ajax-api/2.0/mlflow/runs/create", {"experiment_id": experiment_id})
    assert created.status_code == 200, created.text
    run_id = created.json()["run"]["info"]["run_id"]
    listed = api("GET", "/ajax-api/2.0/mlflow/artifacts/list", {"run_id": run_id})
    assert listed.status_code == 200 and listed.json().get("files", []) == []
    missing = api("GET", "/ajax-api/2.0/mlflow/no-such-endpoint")
    assert missing.status_code == 404


def test_artifact_downloads_are_attachments_with_mlflows_types(api, server, client):
    import requests

    run = client.create_run(client.create_experiment("downloads"))
    run_id = run.info.run_id
    client.log_text(run_id, "flavors: {}\n", "model/MLmodel")
    client.log_text(run_id, "name: p\n", "MLproject")
    client.log_text(run_id, "<script>alert(1)</script>", "page.html")
    client.log_text(run_id, "héllo", "notes/日本.txt")
    root = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{run.info.experiment_id}/{run_id}"
    expected = {
        "model/MLmodel": ("text/plain", "attachment; filename=MLmodel"),
        "MLproject": ("text/plain", "attachment; filename=MLproject"),
        "page.html": ("text/plain", "attachment; filename=page.html"),
    }
    for path, (media, disposition) in expected.items():
        for url in (
            f"{root}/artifacts/{path}",
            f"{server.url}/get-artifact?run_id={run_id}&path={path}",
        ):
            response = requests.get(url, timeout=30)
            assert response.status_code == 200, (url, response.text)
            assert response.headers["content-type"].split(";")[0] == media, url
            assert response.headers["content-disposition"] == disposition, url
            assert response.headers["x-content-type-options"] == "nosniff"
    response = requests.get(f"{root}/artifacts/notes/日本.txt", timeout=30)
    assert response.content.decode() == "héllo"
    assert "filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt" in response.headers["content-disposition"]
    # what the official client downloads is unchanged
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="model/MLmodel", tracking_uri=server.url
    )
    assert Path(local).read_text() == "flavors: {}\n"


def test_get_artifact_refuses_roots_the_server_does_not_serve(api, client, tmp_path):
    experiment_id = client.create_experiment("elsewhere", artifact_location=str(tmp_path))
    run_id = client.create_run(experiment_id).info.run_id
    (tmp_path / run_id / "artifacts").mkdir(parents=True)
    (tmp_path / run_id / "artifacts" / "secret.txt").write_text("not for the server to serve")
    response = api("GET", "/get-artifact", {"run_id": run_id, "path": "secret.txt"})
    assert response.status_code == 400
    assert "does not proxy" in response.json()["message"]


def test_metric_history_bulk_and_interval(api, client):
    experiment_id = client.create_experiment("bulk")
    runs = [client.create_run(experiment_id).info.run_id for _ in range(2)]
    from mlflow.entities import Metric

    for n, run_id in enumerate(runs):
        points = [Metric("loss", float(step * (n + 1)), 1000 + step, step) for step in range(50)]
        client.log_batch(run_id, metrics=points)
    response = api(
        "GET",
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
        {"run_id": runs, "metric_key": "loss"},
    )
    assert response.status_code == 200, response.text
    metrics = response.json()["metrics"]
    assert len(metrics) == 100
    assert {m["run_id"] for m in metrics} == set(runs)
    first = sorted(runs)[0]
    assert [m["step"] for m in metrics if m["run_id"] == first] == list(range(50))

    response = api(
        "GET",
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        {"run_ids": runs, "metric_key": "loss", "max_results": 10},
    )
    assert response.status_code == 200, response.text
    sampled = response.json()["metrics"]
    for run_id in runs:
        steps = [m["step"] for m in sampled if m["run_id"] == run_id]
        assert steps[0] == 0 and steps[-1] == 49 and 10 <= len(steps) <= 11
        assert steps == sorted(steps)
    ranged = api(
        "GET",
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        {"run_ids": runs[0], "metric_key": "loss", "start_step": 10, "end_step": 14},
    ).json()["metrics"]
    assert [m["step"] for m in ranged] == [10, 11, 12, 13, 14]
    bad = api(
        "GET",
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        {"run_ids": runs[0], "metric_key": "loss", "start_step": 10},
    )
    assert bad.status_code == 400
    assert (
        api(
            "GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk", {"metric_key": "loss"}
        ).status_code
        == 400
    )


def test_search_datasets(api, server):
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas

    mlflow.set_tracking_uri(server.url)
    try:
        experiment_id = mlflow.create_experiment("datasets")
        with mlflow.start_run(experiment_id=experiment_id):
            frame = pd.DataFrame({"a": [1, 2, 3]})
            mlflow.log_input(from_pandas(frame, name="train-set"), context="training")
            mlflow.log_input(from_pandas(frame.head(2), name="eval-set"), context="eval")
    finally:
        mlflow.set_tracking_uri(None)
    response = api(
        "POST",
        "/ajax-api/2.0/mlflow/experiments/search-datasets",
        {"experiment_ids": [experiment_id]},
    )
    assert response.status_code == 200, response.text
    summaries = response.json()["dataset_summaries"]
    assert sorted((d["name"], d["context"]) for d in summaries) == [
        ("eval-set", "eval"),
        ("train-set", "training"),
    ]
    assert all(d["experiment_id"] == experiment_id and d["digest"] for d in summaries)
    assert api("POST", "/api/2.0/mlflow/experiments/search-datasets", {}).status_code == 400


def test_upload_artifact(server, client):
    import requests

    run = client.create_run(client.create_experiment("upload"))
    response = requests.post(
        f"{server.url}/ajax-api/2.0/mlflow/upload-artifact",
        params={"run_uuid": run.info.run_id, "path": "dir/uploaded.txt"},
        data=b"uploaded bytes",
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert [f.path for f in client.list_artifacts(run.info.run_id, "dir")] == ["dir/uploaded.txt"]
    local = client.download_artifacts(run.info.run_id, "dir/uploaded.txt")
    assert Path(local).read_bytes() == b"uploaded bytes"
    for params in ({"path": "x.txt"}, {"run_uuid": run.info.run_id}):
        bad = requests.post(
            f"{server.url}/ajax-api/2.0/mlflow/upload-artifact",
            params=params,
            data=b"x",
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert bad.status_code == 400, bad.text


class _Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]


def test_logged_model_artifact_endpoints(api, server):
    mlflow.set_tracking_uri(server.url)
    try:
        mlflow.set_experiment("logged-model-artifacts")
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(
                name="doubler", python_model=_Doubler(), pip_requirements=["cloudpickle"]
            )
    finally:
        mlflow.set_tracking_uri(None)
    model_id = info.model_id
    listed = api("GET", f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/directories")
    assert listed.status_code == 200, listed.text
    names = {f["path"] for f in listed.json()["files"]}
    assert "MLmodel" in names and "python_model.pkl" in names
    assert listed.json()["root_uri"].endswith(f"{model_id}/artifacts")
    mlmodel = api(
        "GET",
        f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files",
        {"artifact_file_path": "MLmodel"},
    )
    assert mlmodel.status_code == 200, mlmodel.text
    assert mlmodel.headers["content-type"].startswith("text/plain")
    assert "python_function" in mlmodel.text
    assert mlmodel.headers["content-disposition"] == "attachment; filename=MLmodel"
    missing = api("GET", f"/api/2.0/mlflow/logged-models/{model_id}/artifacts/files")
    assert missing.status_code == 400
    unknown = api(
        "GET", "/api/2.0/mlflow/logged-models/m-0000/artifacts/files", {"artifact_file_path": "x"}
    )
    assert unknown.status_code == 404


# --- artifact roots -------------------------------------------------------------------------------
def test_relative_artifact_location_is_made_absolute(client, server):
    experiment_id = client.create_experiment("relative-root", artifact_location="my_location")
    # the server's working directory (the fixture starts it in its work folder)
    expected = str(Path(server.cwd).resolve() / "my_location")
    assert client.get_experiment(experiment_id).artifact_location == expected
    uri_id = client.create_experiment("uri-root", artifact_location="s3://bucket/some/where")
    assert client.get_experiment(uri_id).artifact_location == "s3://bucket/some/where"


@pytest.mark.parametrize("form", ["path", "file-uri", "s3"])
def test_default_artifact_root(tmp_path, form):
    from flightlog.server.process import ServerProcess

    root_dir = tmp_path / "roots"
    root = {
        "path": str(root_dir),
        "file-uri": root_dir.as_uri(),
        "s3": "s3://flightlog-test-bucket/roots",
    }[form]
    proc = ServerProcess.flightlog(tmp_path / "srv", extra_args=["--default-artifact-root", root])
    proc.start(timeout=60)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
            mlflow_client = MlflowClient(tracking_uri=proc.url)
            experiment_id = mlflow_client.create_experiment("rooted")
            location = mlflow_client.get_experiment(experiment_id).artifact_location
            assert location == f"{root}/{experiment_id}"
            if form == "s3":
                return  # where it points is all the server decides; no S3 here
            run_id = mlflow_client.create_run(experiment_id).info.run_id
            mlflow_client.log_text(run_id, "written by the client itself", "notes/a.txt")
            on_disk = root_dir / experiment_id / run_id / "artifacts" / "notes" / "a.txt"
            assert on_disk.read_text() == "written by the client itself"
            # the server lists and serves what lies under the root it was given
            assert [f.path for f in mlflow_client.list_artifacts(run_id, "notes")] == [
                "notes/a.txt"
            ]
            import requests

            served = requests.get(
                f"{proc.url}/get-artifact",
                params={"run_id": run_id, "path": "notes/a.txt"},
                timeout=30,
            )
            assert served.status_code == 200 and served.text == "written by the client itself"
            listed = requests.get(
                f"{proc.url}/api/2.0/mlflow/artifacts/list",
                params={"run_id": run_id, "path": "notes"},
                timeout=30,
            )
            assert [f["path"] for f in listed.json()["files"]] == ["notes/a.txt"]
    finally:
        proc.stop()
