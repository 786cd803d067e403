"""The UI's JSON endpoints and pages in-process (no browser): downsampling, artifact access rules,
model registration, error handling, and the `flightlog ui` command's refusals."""

from __future__ import annotations

import math
import socket

import pytest

from flightlog.entities import Metric, Param, RunTag
from flightlog.server.ui import downsample

T0 = 1_700_000_000_000


@pytest.fixture
def store(tmp_path):
    from flightlog.store.sql import SqlStore

    store = SqlStore(
        f"sqlite:///{tmp_path / 'ui.db'}",
        default_artifact_root=(tmp_path / "artifacts").as_uri(),
    )
    yield store
    store.close()


@pytest.fixture
def client(store, tmp_path):
    import warnings

    with warnings.catch_warnings():
        # Starlette asks for a newer HTTP client package; httpx is what this project has.
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from flightlog.server.app import create_app
    from flightlog.server.settings import ServerSettings

    settings = ServerSettings.build(
        backend_store_uri=store.db_uri, artifacts_destination=str(tmp_path / "artifacts")
    )
    # A name the Host allow-list accepts (TestClient would send "testserver").
    app = create_app(settings, store=store)
    with TestClient(app, base_url="http://localhost") as test_client:
        yield test_client


def _run(store, name="run", experiment_id="0"):
    return store.create_run(experiment_id, "tester", T0, [], name).info.run_id


def _log_points(store, run_id, key, values, steps=None, times=None):
    metrics = [
        Metric(key, v, times[i] if times else T0 + i, steps[i] if steps else i)
        for i, v in enumerate(values)
    ]
    for start in range(0, len(metrics), 50_000):
        store.log_batch(run_id, metrics=metrics[start : start + 50_000])


class _PlainStore:
    """Only the generic store interface, so metric_series takes its streaming path."""

    def __init__(self, store):
        self._store = store

    def get_run(self, run_id):
        return self._store.get_run(run_id)

    def get_metric_history(self, *args, **kwargs):
        return self._store.get_metric_history(*args, **kwargs)


# --- downsampling --------------------------------------------------------------------------------


def test_short_history_is_sent_whole_with_nan_as_none(store):
    run_id = _run(store)
    values = [0.5, math.nan, 0.25, math.inf]
    _log_points(store, run_id, "loss", values)
    series = downsample.metric_series(store, run_id, "loss", "step", 100)
    assert not series.sampled
    assert series.total == 4
    assert [p[0] for p in series.points] == [0, 1, 2, 3]
    assert series.points[1][1] is None
    assert series.points[3][1] == pytest.approx(1.7976931348623157e308)
    as_json = series.to_json()
    assert as_json["points"][0] == [0, 0.5] and "buckets" not in as_json


@pytest.mark.parametrize("axis", ["step", "time"])
def test_long_history_keeps_min_max_per_bucket(store, axis):
    run_id = _run(store)
    n = 20_000
    values = [math.sin(i / 500) for i in range(n)]
    values[7_777] = 50.0  # a spike one point wide
    values[12_345] = -40.0
    values[3_000] = math.nan
    _log_points(store, run_id, "loss", values, times=[T0 + 10 * i for i in range(n)])
    width = 200
    series = downsample.metric_series(store, run_id, "loss", axis, width)
    assert series.sampled
    assert len(series.buckets) <= width
    assert series.total == n - 1  # the NaN point is not drawn once sampled
    assert sum(b[5] for b in series.buckets) == n - 1
    assert max(b[3] for b in series.buckets) == 50.0
    assert min(b[2] for b in series.buckets) == -40.0
    xs = [b[0] for b in series.buckets]
    assert xs == sorted(xs)
    for x0, x1, lo, hi, mean, count in series.buckets:
        assert x0 <= x1 and lo <= mean <= hi and count > 0
    if axis == "time":
        assert series.buckets[0][0] == T0 and series.buckets[-1][1] == T0 + 10 * (n - 1)
    else:
        assert series.buckets[0][0] == 0 and series.buckets[-1][1] == n - 1
    spike = next(b for b in series.buckets if b[3] == 50.0)
    position = 7_777 if axis == "step" else T0 + 10 * 7_777
    assert spike[0] <= position <= spike[1]

    # The streaming path (any store) agrees with the SQL one on the step axis.
    if axis == "step":
        streamed = downsample.metric_series(_PlainStore(store), run_id, "loss", axis, width)
        assert streamed.sampled and streamed.total == n
        assert [b[:4] for b in streamed.buckets] == [b[:4] for b in series.buckets]


def test_history_without_steps_is_bucketed_by_time(store):
    run_id = _run(store)
    n = 1_000
    _log_points(store, run_id, "x", [float(i) for i in range(n)], steps=[0] * n)
    series = downsample.metric_series(store, run_id, "x", "time", 50)
    assert series.sampled and len(series.buckets) == 50
    assert series.buckets[0][2] == 0.0 and series.buckets[-1][3] == float(n - 1)
    assert sum(b[5] for b in series.buckets) == n


def test_bad_series_requests_are_refused(client, store):
    run_id = _run(store)
    bad_axis = client.get(
        "/ui-api/metric-series", params={"run_id": run_id, "key": "a", "x": "epoch"}
    )
    assert bad_axis.status_code == 400
    assert "x must be one of" in bad_axis.json()["message"]
    narrow = client.get("/ui-api/metric-series", params={"run_id": run_id, "key": "a", "width": 3})
    assert narrow.status_code == 400
    missing = client.get("/ui-api/metric-series", params={"run_id": "f" * 32, "key": "a"})
    assert missing.status_code == 404
    empty = client.get("/ui-api/metric-series", params={"run_id": run_id, "key": "never"})
    assert empty.status_code == 200 and empty.json()["points"] == []


# --- runs table ----------------------------------------------------------------------------------


def test_runs_endpoint_filters_sorts_and_pages(client, store):
    experiment_id = store.create_experiment("table")
    parent = _run(store, "parent", experiment_id)
    for i, acc in enumerate([0.2, 0.9, 0.6]):
        child = store.create_run(
            experiment_id, "t", T0 + i + 1, [RunTag("mlflow.parentRunId", parent)], f"c{i}"
        ).info.run_id
        store.log_batch(child, [Metric("acc", acc, T0, 0)], [Param("lr", str(i))])
    params = {"experiment_id": experiment_id, "filter": "metrics.acc > 0.5"}
    params["order_by"] = "metrics.acc DESC"
    found = client.get("/ui-api/runs", params=params).json()
    assert [r["name"] for r in found["runs"]] == ["c1", "c2"]
    assert found["runs"][0]["parent"] == parent and found["runs"][0]["params"] == {"lr": "1"}
    first = client.get("/ui-api/runs", params={"experiment_id": experiment_id, "max_results": 3})
    assert len(first.json()["runs"]) == 3 and first.json()["next_page_token"]
    rest = client.get(
        "/ui-api/runs",
        params={"experiment_id": experiment_id, "page_token": first.json()["next_page_token"]},
    )
    assert len(rest.json()["runs"]) == 1 and rest.json()["next_page_token"] is None
    bad = client.get("/ui-api/runs", params={"experiment_id": experiment_id, "filter": "acc >"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_experiments_page_counts_runs_and_escapes_names(client, store):
    experiment_id = store.create_experiment("<b>bold</b>")
    for i in range(3):
        _run(store, f"r{i}", experiment_id)
    html = client.get("/").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    row = html[html.index(f'data-experiment-id="{experiment_id}"') :]
    assert 'class="num run-count">3<' in row[:1000]
    response = client.get(f"/experiments/{experiment_id}")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_unknown_pages_are_html_errors(client):
    missing = client.get("/runs/" + "a" * 32)
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert client.get("/experiments/424242").status_code == 404
    assert client.get("/compare").status_code == 400
    assert client.get("/models/nope").status_code == 404


# --- artifacts and models --------------------------------------------------------------------------


def _log_model(store, run_id, tmp_path):
    """A run with a logged scikit-learn model (in its local artifact folder)."""
    from sklearn.linear_model import LinearRegression

    import flightlog
    import flightlog.sklearn

    flightlog.set_tracking_uri(store.db_uri)
    model = LinearRegression().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]], [0.0, 1.0, 2.0])
    flightlog.sklearn.log_model(model, name="reg", run_id=run_id, input_example=[[0.5, 0.5]])
    flightlog.flush()


def test_model_info_and_registration(client, store, tmp_path):
    run_id = _run(store)
    _log_model(store, run_id, tmp_path)
    info = client.get("/ui-api/artifacts/model", params={"run_id": run_id, "path": "reg"}).json()
    assert {"python_function", "sklearn"} <= set(info["flavors"])
    assert info["signature"]["inputs"] and info["signature"]["outputs"]
    assert info["input_example"]["json"] is not None
    assert info["registered"] == []

    def register(name, create, path="reg"):
        body = {"run_id": run_id, "path": path, "name": name, "create": create}
        return client.post("/ui-api/register-model", json=body)

    first = register("reg-model", True)
    assert first.status_code == 200 and first.json() == {"name": "reg-model", "version": "1"}
    again = register("reg-model", True)
    assert again.status_code == 400 and "already exists" in again.json()["message"]
    second = register("reg-model", False)
    assert second.json()["version"] == "2"
    unknown = register("no-such-model", False)
    assert unknown.status_code == 404
    no_model = register("x", True, path="nothing-here")
    assert no_model.status_code == 404 and "No logged model" in no_model.json()["message"]
    version = store.get_model_version("reg-model", "2")
    assert version.run_id == run_id and version.source.endswith(f"/{run_id}/artifacts/reg")
    info = client.get("/ui-api/artifacts/model", params={"run_id": run_id, "path": "reg"}).json()
    assert sorted(r["version"] for r in info["registered"]) == ["1", "2"]
    page = client.get(f"/runs/{run_id}").text
    assert 'data-path="reg"' in page  # found through the run's log-model history


def test_mlflow3_logged_model_shows_and_registers(client, store, tmp_path):
    """What MLflow 3's client leaves on a server: a logged model with its own location."""
    from sklearn.linear_model import LinearRegression

    import flightlog.sklearn
    from flightlog.artifacts.local import local_path_from_uri

    run_id = _run(store)
    logged = store.create_logged_model("0", name="net", source_run_id=run_id)
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    flightlog.sklearn.save_model(model, str(local_path_from_uri(logged.artifact_location)))
    page = client.get(f"/runs/{run_id}").text
    assert f'data-model-id="{logged.model_id}"' in page
    info = client.get("/ui-api/artifacts/model", params={"model_id": logged.model_id}).json()
    assert "sklearn" in info["flavors"] and info["model_id"] == logged.model_id
    body = {"model_id": logged.model_id, "name": "net-model", "create": True}
    registered = client.post("/ui-api/register-model", json=body)
    assert registered.status_code == 200, registered.text
    version = store.get_model_version("net-model", registered.json()["version"])
    assert version.model_id == logged.model_id and version.run_id == run_id
    assert version.source == f"models:/{logged.model_id}"
    info = client.get("/ui-api/artifacts/model", params={"model_id": logged.model_id}).json()
    assert info["registered"] == [{"name": "net-model", "version": "1"}]
    neither = client.post("/ui-api/register-model", json={"name": "x"})
    assert neither.status_code == 400 and "run_id and path, or a model_id" in neither.text


def test_artifact_paths_cannot_escape(client, store, tmp_path):
    run_id = _run(store)
    _log_model(store, run_id, tmp_path)
    listing = client.get("/ui-api/artifacts/list", params={"run_id": run_id}).json()
    assert [f["name"] for f in listing["files"]] == ["reg"]
    for path in ("../../../etc/passwd", "/etc/passwd", "reg/%2e%2e/%2e%2e/x"):
        response = client.get("/ui-api/artifacts/file", params={"run_id": run_id, "path": path})
        assert response.status_code == 400, path
    text = client.get("/ui-api/artifacts/file", params={"run_id": run_id, "path": "reg/MLmodel"})
    assert text.status_code == 200 and "flavors" in text.text
    assert text.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in text.headers["content-security-policy"]
    head = client.get(
        "/ui-api/artifacts/file", params={"run_id": run_id, "path": "reg/MLmodel", "limit": 10}
    )
    assert len(head.content) == 10 and head.headers["x-flightlog-truncated"] == "1"
    download = client.get(
        "/ui-api/artifacts/download", params={"run_id": run_id, "path": "reg/MLmodel"}
    )
    assert download.content == text.content
    assert "attachment" in download.headers["content-disposition"]


def test_artifacts_outside_the_root_are_not_served(client, store, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("keep out")
    experiment_id = store.create_experiment("outside", artifact_location=str(elsewhere))
    run_id = _run(store, "r", experiment_id)
    response = client.get("/ui-api/artifacts/list", params={"run_id": run_id})
    assert response.status_code == 400
    assert "outside this server's artifact root" in response.json()["message"]
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200 and "outside this server&#39;s artifact root" in page.text


# --- the command ---------------------------------------------------------------------------------


def test_ui_command_refuses_a_busy_port_and_a_server_uri(tmp_path, capsys):
    from flightlog.cli import main

    store_dir = tmp_path / "store"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["ui", "--port", str(port), "--backend-store-uri", str(store_dir)]) == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["ui", "--backend-store-uri", "http://127.0.0.1:1"]) == 1
    assert "open its web UI" in capsys.readouterr().err
