"""Metric histories as columns: the arrays path, the list-like MetricHistory, and the server's
streamed unpaged `metrics/get-history` (read by flightlog's RestStore and by the official
mlflow client), checked point for point against what was logged."""

from __future__ import annotations

import math

import pytest

import flightlog
from flightlog.entities import Metric
from flightlog.history import MetricHistory


def _logged(n: int) -> list[Metric]:
    """n points with repeated steps, a NaN and both infinities, logged in the active run."""
    points = []
    for i in range(n):
        value = i / 7.0
        if i == 3:
            value = math.nan
        elif i == 5:
            value = math.inf
        elif i == 6:
            value = -math.inf
        points.append(Metric("loss", value, 1_700_000_000_000 + i, i // 2))
    return points


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _log(client, run_id: str, points: list[Metric]) -> None:
    for start in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[start : start + 1000])


def _expected(points: list[Metric]) -> list[tuple[int, int, float]]:
    clip = 1.7976931348623157e308
    out = []
    for m in points:
        v = m.value
        if math.isinf(v):
            v = clip if v > 0 else -clip  # stores keep infinities as +-float max, as MLflow
        out.append((m.step, m.timestamp, v))
    return sorted(out, key=lambda t: (t[0], t[1]))


def test_arrays_and_history_agree_with_what_was_logged():
    client = flightlog.MlflowClient()
    exp = client.create_experiment("hist")
    run = client.create_run(exp)
    points = _logged(2_503)
    _log(client, run.info.run_id, points)

    steps, timestamps, values = client.get_metric_history_arrays(run.info.run_id, "loss")
    expected = _expected(points)
    assert len(values) == len(expected)
    got = list(zip(steps, timestamps, values, strict=True))
    assert all(g[:2] == e[:2] and _same(g[2], e[2]) for g, e in zip(got, expected, strict=True))

    np_arrays = client.get_metric_history_arrays(run.info.run_id, "loss", numpy=True)
    assert str(np_arrays.values.dtype) == "float64" and str(np_arrays.steps.dtype) == "int64"
    assert np_arrays.steps.tolist() == list(steps)

    history = client.get_metric_history(run.info.run_id, "loss")
    assert isinstance(history, MetricHistory)
    assert len(history) == len(expected)
    assert history[0] == Metric("loss", 0.0, 1_700_000_000_000, 0)
    assert history[-1].step == expected[-1][0]
    assert [m.step for m in history[10:13]] == [e[0] for e in expected[10:13]]
    assert sum(1 for m in history if math.isnan(m.value)) == 1
    as_list = list(history)
    assert as_list[7:] == history[7:]  # (NaN != NaN, as for MLflow's Metric)

    client.log_batch(run.info.run_id, metrics=[Metric("acc", 0.5, 1, 0), Metric("acc", 0.7, 2, 1)])
    acc = client.get_metric_history(run.info.run_id, "acc")
    assert acc == [Metric("acc", 0.5, 1, 0), Metric("acc", 0.7, 2, 1)]
    assert acc != [Metric("acc", 0.5, 1, 0)]


def test_unknown_run_and_empty_history():
    client = flightlog.MlflowClient()
    run = client.create_run(client.create_experiment("empty"))
    assert len(client.get_metric_history(run.info.run_id, "nothing")) == 0
    with pytest.raises(flightlog.exceptions.RunNotFoundError):
        client.get_metric_history_arrays("0" * 32, "loss")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from flightlog.server.process import ServerProcess

    proc = ServerProcess.flightlog(tmp_path_factory.mktemp("history-server"))
    proc.start(timeout=60)
    try:
        yield proc
    finally:
        proc.stop()


def test_streamed_history_through_the_server(server):
    """60,000 points (more than two stream pages) come back complete and in order, through
    flightlog's RestStore, the official mlflow client, and a paged request."""
    import requests

    flightlog.set_tracking_uri(server.url)
    client = flightlog.MlflowClient()
    run = client.create_run(client.create_experiment("streamed"))
    run_id = run.info.run_id
    points = _logged(60_000)
    _log(client, run_id, points)
    expected = _expected(points)

    steps, timestamps, values = client.get_metric_history_arrays(run_id, "loss")
    assert list(zip(steps, timestamps, strict=True)) == [e[:2] for e in expected]

    # The unpaged GET that MLflow's client sends is streamed; it must still be valid JSON.
    reply = requests.get(
        f"{server.url}/api/2.0/mlflow/metrics/get-history",
        params={"run_id": run_id, "metric_key": "loss"},
        timeout=120,
    )
    assert reply.status_code == 200
    body = reply.json()["metrics"]
    assert len(body) == 60_000
    assert body[3]["value"] == "NaN" and body[0] == {
        "key": "loss",
        "value": 0.0,
        "timestamp": 1_700_000_000_000,
        "step": 0,
    }

    mlflow = pytest.importorskip("mlflow")
    theirs = mlflow.MlflowClient(tracking_uri=server.url).get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp) for m in theirs] == [e[:2] for e in expected]

    paged = requests.get(
        f"{server.url}/api/2.0/mlflow/metrics/get-history",
        params={"run_id": run_id, "metric_key": "loss", "max_results": 10},
        timeout=60,
    ).json()
    assert len(paged["metrics"]) == 10 and paged["next_page_token"]

    missing = requests.get(
        f"{server.url}/api/2.0/mlflow/metrics/get-history",
        params={"run_id": "f" * 32, "metric_key": "loss"},
        timeout=60,
    )
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
