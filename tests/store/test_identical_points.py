"""Identical metric points are one point, on every backend and through `flightlog server`.

A point equal to a stored one in (run, key, step, timestamp, value) is the same point: clients
re-send batches (a lost reply, a replayed spool, MLflow's own autolog logging epoch 0 twice) and
MLflow's store keeps one copy. Points that differ in value, step or timestamp are all kept. NaN
is stored as 0.0 with is_nan set, so two NaNs at the same step and timestamp are one point while
a NaN and a 0.0 there are two. The latest point of a key is the greatest (step, timestamp,
value), whatever order the points come in.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import sqlalchemy as sa

from flightlog.entities import Metric
from flightlog.store import migrations
from flightlog.store.sql import SqlStore

BATCH = [
    Metric("loss", 0.5, 1_000, 0),
    Metric("loss", 0.4, 1_001, 1),
    Metric("acc", 0.9, 1_000, 0),
    Metric("nan_metric", math.nan, 1_000, 0),
    Metric("inf_metric", math.inf, 1_000, 0),
]


def _points(store, run_id: str, key: str) -> list[tuple]:
    return [(m.step, m.timestamp, m.value) for m in store.get_metric_history(run_id, key)]


def _new_run(store) -> str:
    return store.create_run("0", "user", 0, [], "run").info.run_id


def _check_one_copy_each(store, run_id: str) -> None:
    assert _points(store, run_id, "loss") == [(0, 1_000, 0.5), (1, 1_001, 0.4)]
    assert _points(store, run_id, "acc") == [(0, 1_000, 0.9)]
    (nan_point,) = _points(store, run_id, "nan_metric")
    assert math.isnan(nan_point[2])
    assert _points(store, run_id, "inf_metric") == [(0, 1_000, sys.float_info.max)]
    metrics = store.get_run(run_id).data.metrics
    assert metrics["loss"] == 0.4 and metrics["acc"] == 0.9 and math.isnan(metrics["nan_metric"])


def test_same_batch_four_times_is_stored_once(store):
    run_id = _new_run(store)
    for _ in range(4):
        store.log_batch(run_id, metrics=BATCH)
    _check_one_copy_each(store, run_id)


def test_same_points_four_times_through_the_queue_path_are_stored_once(store):
    run_id = _new_run(store)
    points = [(m.key, m.value, m.timestamp, m.step) for m in BATCH]
    for _ in range(4):
        store.log_metric_points(run_id, points)
    _check_one_copy_each(store, run_id)


def test_duplicates_inside_one_batch_and_across_paths(store):
    run_id = _new_run(store)
    store.log_batch(run_id, metrics=BATCH + BATCH)
    store.log_metric_points(run_id, [(m.key, m.value, m.timestamp, m.step) for m in BATCH] * 2)
    _check_one_copy_each(store, run_id)


def test_points_that_differ_in_value_step_or_timestamp_are_all_kept(store):
    run_id = _new_run(store)
    differing = [
        Metric("m", 1.0, 100, 1),
        Metric("m", 2.0, 100, 1),  # value
        Metric("m", 1.0, 101, 1),  # timestamp
        Metric("m", 1.0, 100, 2),  # step
        Metric("m", math.nan, 100, 1),  # NaN is not 1.0 ...
        Metric("m", 0.0, 100, 1),  # ... nor 0.0, its stored value
    ]
    for _ in range(2):
        store.log_batch(run_id, metrics=differing)
    history = _points(store, run_id, "m")
    assert len(history) == 6
    assert sum(math.isnan(value) for _, _, value in history) == 1
    # the same point in another run, or under another key, is another point
    other = _new_run(store)
    store.log_batch(other, metrics=[Metric("m", 1.0, 100, 1), Metric("n", 1.0, 100, 1)])
    assert len(_points(store, other, "m")) == 1 and len(_points(store, other, "n")) == 1
    assert len(_points(store, run_id, "m")) == 6


def test_latest_is_the_same_whatever_order_and_resends(store):
    tie = [Metric("c", 1.0, 100, 3), Metric("c", 2.0, 100, 3)]  # same step and timestamp
    forward, backward = _new_run(store), _new_run(store)
    store.log_batch(forward, metrics=tie)
    store.log_batch(backward, metrics=tie[::-1])
    # a re-sent older point is not new: it changes neither the history nor the latest value
    store.log_batch(forward, metrics=tie[:1])
    store.log_metric_points(backward, [("c", 1.0, 100, 3)])
    for run_id in (forward, backward):
        assert store.get_run(run_id).data.metrics == {"c": 2.0}
        assert sorted(v for _, _, v in _points(store, run_id, "c")) == [1.0, 2.0]
    # a newer step still wins, a lower value at the same step and time does not
    store.log_batch(forward, metrics=[Metric("c", -5.0, 1, 4), Metric("c", -9.0, 1, 4)])
    assert store.get_run(forward).data.metrics == {"c": -5.0}


def _log_with_flightlog_client(tracking_uri: str) -> str:
    """The same batch logged 4 times through flightlog's client (its queue, then the store or
    the server), and one point 4 times with log_metric."""
    from flightlog.client import TrackingClient

    client = TrackingClient(tracking_uri=tracking_uri)
    run_id = client.create_run("0").info.run_id
    for _ in range(4):
        client.log_batch(run_id, metrics=BATCH)
    for _ in range(4):
        client.log_metric(run_id, "single", 3.0, timestamp=2_000, step=7)
    assert client.flush(timeout=300)
    return run_id


def test_same_batch_four_times_through_the_client(store_target):
    run_id = _log_with_flightlog_client(store_target.uri)
    store = store_target.open()
    try:
        _check_one_copy_each(store, run_id)
        assert _points(store, run_id, "single") == [(7, 2_000, 3.0)]
    finally:
        if store_target.backend == "sqlite":
            store.close()


def _duplicated_store_at_0002(uri: str, artifact_root: str) -> tuple[str, int]:
    """A store migrated to 0002 holding exact duplicates, as the old schema allowed."""
    store = SqlStore(uri, default_artifact_root=artifact_root)
    run_id = _new_run(store)
    engine = store.engine
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "0002")
        rows = [
            {"run_uuid": run_id, "key": k, "value": v, "timestamp": 5, "step": s, "is_nan": n}
            for k, v, s, n in [("a", 1.0, 0, False), ("a", 2.0, 0, False), ("b", 0.0, 0, True)]
        ]
        table = sa.table("metrics", *(sa.column(c) for c in rows[0]))
        conn.execute(table.insert(), rows * 3)  # every point three times
    store.close()
    return run_id, 9


def test_migration_removes_existing_duplicates(fresh_store_target):
    target = fresh_store_target
    run_id, stored = _duplicated_store_at_0002(target.uri, target.artifact_root)
    engine = sa.create_engine(target.uri)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM metrics").scalar() == stored
    engine.dispose()
    store = SqlStore(target.uri, default_artifact_root=target.artifact_root)  # migrates to head
    try:
        assert sorted(_points(store, run_id, "a")) == [(0, 5, 1.0), (0, 5, 2.0)]
        (b,) = _points(store, run_id, "b")
        assert math.isnan(b[2])
        store.log_batch(run_id, metrics=[Metric("a", 1.0, 5, 0)])
        assert len(_points(store, run_id, "a")) == 2
    finally:
        store.close()


_MLFLOW_CLIENT = textwrap.dedent(
    """
    import sys
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=sys.argv[1])
    run_id = client.create_run("0").info.run_id
    batch = [
        Metric("loss", 0.5, 1000, 0),
        Metric("loss", 0.4, 1001, 1),
        Metric("acc", 0.9, 1000, 0),
        Metric("nan_metric", float("nan"), 1000, 0),
    ]
    for _ in range(4):
        client.log_batch(run_id, metrics=batch)
    for _ in range(4):
        client.log_metric(run_id, "single", 3.0, timestamp=2000, step=7)
    client.log_metric(run_id, "single", 3.0, timestamp=2000, step=8)  # another step: kept
    print(run_id)
    """
)


def test_official_client_posting_a_batch_four_times_through_the_server(store_target, tmp_path):
    """The official mlflow client against `flightlog server` on each backend."""
    from flightlog.server.process import ServerProcess

    server = ServerProcess.flightlog(tmp_path / "server", backend_store_uri=store_target.uri)
    server.start(timeout=120)
    try:
        result = subprocess.run(
            [sys.executable, "-c", _MLFLOW_CLIENT, server.url],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        run_id = result.stdout.strip().splitlines()[-1]
        # read back through the official client's wire format too: the server's own answer
        import requests

        def history(key: str) -> list[dict]:
            response = requests.get(
                f"{server.url}/api/2.0/mlflow/metrics/get-history",
                params={"run_id": run_id, "metric_key": key},
                timeout=60,
            )
            response.raise_for_status()
            return response.json().get("metrics", [])

        assert [(m["step"], m["value"]) for m in history("loss")] == [(0, 0.5), (1, 0.4)]
        assert len(history("acc")) == 1
        assert len(history("nan_metric")) == 1
        assert [m["step"] for m in history("single")] == [7, 8]
        # flightlog's own client against the server: the same
        ours = _log_with_flightlog_client(server.url)
    finally:
        server.stop()
    store = store_target.open()
    try:
        assert len(store.get_metric_history(run_id, "loss")) == 2
        _check_one_copy_each(store, ours)
        assert _points(store, ours, "single") == [(7, 2_000, 3.0)]
    finally:
        if store_target.backend == "sqlite":
            store.close()
