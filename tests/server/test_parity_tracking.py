"""Tracking-API details MLflow's clients and its own server tests depend on, against a real
`flightlog server` child process: MLflow's wording of validation errors, the extra endpoints
MLflow's client and web app call, artifact roots. The official mlflow client is the caller
wherever one exists."""

from __future__ import annotations

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


def test_log_batch_validation_wording(api, run_id):
    _bad_request(
        api,
        "/api/2.0/mlflow/runs/log-batch",
        {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": "x", "step": 0}]},
        "Invalid value \\\"x\\\" for parameter 'metrics.0.timestamp' supplied",
    )
