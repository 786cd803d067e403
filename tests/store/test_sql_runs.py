"""SqlStore runs: lifecycle, log_batch semantics and atomicity, metric values and history."""

from __future__ import annotations

import math
import re
import sys
import threading

import pytest
import sqlalchemy as sa

from flightlog.entities import (
    Dataset,
    DatasetInput,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from flightlog.exceptions import (
    ExperimentNotFoundError,
    InvalidKeyError,
    InvalidParameterError,
    InvalidValueError,
    ParamConflictError,
    ResourceNotFoundError,
    RunNotActiveError,
    RunNotFoundError,
)
from flightlog.store import dbschema as db
from flightlog.store.base import AbstractStore

MISSING_RUN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def run_id(store):
    return store.create_run("0", "alice", 1000, [], "base").info.run_id


def snapshot(store, run_id):
    """Everything stored for a run, to check that a failed call changed nothing."""
    run = store.get_run(run_id)
    history = {key: list(store.get_metric_history(run_id, key)) for key in sorted(run.data.metrics)}
    return run.info, run.data.metrics, run.data.params, run.data.tags, history


# --- create / get ---------------------------------------------------------------------------


def test_create_run(store):
    experiment_id = store.create_experiment("exp")
    run = store.create_run(experiment_id, "alice", 1234, [RunTag("k", "v")], "my-run")
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert info.run_uuid == info.run_id
    assert info.experiment_id == experiment_id
    assert info.run_name == "my-run"
    assert info.user_id == "alice"
    assert info.status == RunStatus.RUNNING
    assert info.start_time == 1234
    assert info.end_time is None
    assert info.lifecycle_stage == LifecycleStage.ACTIVE
    location = store.get_experiment(experiment_id).artifact_location
    assert info.artifact_uri == f"{location}/{info.run_id}/artifacts"
    assert run.data.tags == {"k": "v", "mlflow.runName": "my-run"}
    fetched = store.get_run(info.run_id)
    assert fetched.info == info
    assert fetched.data.tags == run.data.tags
    assert fetched.data.metrics == {} and fetched.data.params == {}
    assert fetched.inputs.dataset_inputs == []


def test_run_name_generated(store):
    run = store.create_run("0", "u", 1, [], None)
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", run.info.run_name)
    assert store.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name


def test_run_name_from_tag(store):
    run = store.create_run("0", "u", 1, [RunTag("mlflow.runName", "from-tag")], None)
    assert run.info.run_name == "from-tag"
    assert store.get_run(run.info.run_id).info.run_name == "from-tag"


def test_run_name_and_tag_disagree(store):
    with pytest.raises(InvalidParameterError, match="'a'.*'b'"):
        store.create_run("0", "u", 1, [RunTag("mlflow.runName", "b")], "a")
    assert store.search_runs(["0"]) == []
    same = store.create_run("0", "u", 1, [RunTag("mlflow.runName", "a")], "a")
    assert same.info.run_name == "a"


def test_run_in_unknown_experiment(store):
    with pytest.raises(ExperimentNotFoundError, match="'4242'"):
        store.create_run("4242", "u", 1, [], None)


def test_get_unknown_run(store):
    with pytest.raises(RunNotFoundError, match=MISSING_RUN):
        store.get_run(MISSING_RUN)
    with pytest.raises(RunNotFoundError, match=MISSING_RUN):
        store.get_metric_history(MISSING_RUN, "m")


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.log_batch(MISSING_RUN, metrics=[Metric("m", 1.0, 1, 0)]),
        lambda s: s.log_batch(MISSING_RUN),
        lambda s: s.set_tag(MISSING_RUN, RunTag("k", "v")),
        lambda s: s.log_param(MISSING_RUN, Param("k", "v")),
        lambda s: s.log_metric(MISSING_RUN, Metric("m", 1.0, 1, 0)),
        lambda s: s.delete_tag(MISSING_RUN, "k"),
        lambda s: s.update_run_info(MISSING_RUN, RunStatus.FINISHED, 5),
        lambda s: s.delete_run(MISSING_RUN),
        lambda s: s.restore_run(MISSING_RUN),
        lambda s: s.log_inputs(MISSING_RUN, []),
    ],
)
def test_unknown_run_everywhere(store, call):
    with pytest.raises(RunNotFoundError, match=MISSING_RUN):
        call(store)


# --- update / delete / restore --------------------------------------------------------------


def test_update_run_info(store, run_id):
    info = store.update_run_info(run_id, RunStatus.FINISHED, 2000)
    assert (info.status, info.end_time, info.run_name) == (RunStatus.FINISHED, 2000, "base")
    info = store.update_run_info(run_id, RunStatus.FAILED, 3000, run_name="renamed")
    assert (info.status, info.end_time, info.run_name) == (RunStatus.FAILED, 3000, "renamed")
    run = store.get_run(run_id)
    assert run.info == info
    assert run.data.tags["mlflow.runName"] == "renamed"


def test_update_run_info_invalid_status(store, run_id):
    before = snapshot(store, run_id)
    with pytest.raises(InvalidParameterError, match="'DONE'"):
        store.update_run_info(run_id, "DONE", 5)
    assert snapshot(store, run_id) == before


def test_terminated_runs_still_take_data(store, run_id):
    # Refusing writes to finished runs is the client's call, not the store's.
    store.update_run_info(run_id, RunStatus.FINISHED, 2000)
    store.log_batch(run_id, metrics=[Metric("late", 1.0, 1, 0)])
    assert store.get_run(run_id).data.metrics == {"late": 1.0}


def test_delete_and_restore_run(store, run_id):
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert store.search_runs(["0"]) == []
    assert [
        r.info.run_id for r in store.search_runs(["0"], run_view_type=ViewType.DELETED_ONLY)
    ] == [run_id]
    store.delete_run(run_id)  # again: fine
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])


@pytest.mark.parametrize(
    "call",
    [
        lambda s, r: s.log_batch(r, metrics=[Metric("m", 2.0, 2, 2)]),
        lambda s, r: s.log_batch(r, params=[Param("new", "x")]),
        lambda s, r: s.log_batch(r),
        lambda s, r: s.set_tag(r, RunTag("t", "changed")),
        lambda s, r: s.delete_tag(r, "t"),
        lambda s, r: s.update_run_info(r, RunStatus.FINISHED, 5),
        lambda s, r: s.log_inputs(r, [DatasetInput(Dataset("d", "1"))]),
    ],
)
def test_deleted_run_refuses_changes(store, run_id, call):
    store.log_batch(run_id, [Metric("m", 1.0, 1, 1)], [Param("p", "1")], [RunTag("t", "v")])
    store.delete_run(run_id)
    before = snapshot(store, run_id)
    with pytest.raises(RunNotActiveError, match=run_id):
        call(store, run_id)
    assert snapshot(store, run_id) == before


def test_runs_of_deleted_experiment_refuse_logging(store):
    experiment_id = store.create_experiment("exp")
    run_id = store.create_run(experiment_id, "u", 1, [], None).info.run_id
    store.delete_experiment(experiment_id)
    with pytest.raises(RunNotActiveError, match=run_id):
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    store.restore_experiment(experiment_id)
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])


# --- tags -------------------------------------------------------------------------------------


def test_tags(store, run_id):
    store.set_tag(run_id, RunTag("a", "1"))
    store.log_batch(run_id, tags=[RunTag("a", "2"), RunTag("b", "x"), RunTag("b", "y")])
    assert store.get_run(run_id).data.tags == {"mlflow.runName": "base", "a": "2", "b": "y"}
    store.delete_tag(run_id, "a")
    assert "a" not in store.get_run(run_id).data.tags


def test_delete_missing_tag(store, run_id):
    store.set_tag(run_id, RunTag("a", "1"))
    before = snapshot(store, run_id)
    with pytest.raises(ResourceNotFoundError, match=f"'nope'.*{run_id}"):
        store.delete_tag(run_id, "nope")
    assert snapshot(store, run_id) == before


def test_run_name_tag_renames_the_run(store, run_id):
    store.set_tag(run_id, RunTag("mlflow.runName", "via-tag"))
    assert store.get_run(run_id).info.run_name == "via-tag"


# --- params -----------------------------------------------------------------------------------


def test_params(store, run_id):
    store.log_batch(run_id, params=[Param("lr", "0.1"), Param("opt", "adam")])
    store.log_param(run_id, Param("lr", "0.1"))  # same value again: fine
    store.log_batch(run_id, params=[Param("lr", "0.1"), Param("layers", "3")])
    assert store.get_run(run_id).data.params == {"lr": "0.1", "opt": "adam", "layers": "3"}


def test_param_conflict_rolls_back_the_whole_batch(store, run_id):
    store.log_batch(run_id, [Metric("m", 1.0, 10, 1)], [Param("lr", "0.1")], [RunTag("t", "v")])
    before = snapshot(store, run_id)
    with pytest.raises(ParamConflictError) as info:
        store.log_batch(
            run_id,
            metrics=[Metric("m", 5.0, 20, 2), Metric("other", 1.0, 20, 2)],
            params=[Param("fresh", "1"), Param("lr", "0.2")],
            tags=[RunTag("t", "changed"), RunTag("new", "x")],
        )
    message = str(info.value)
    for fragment in (run_id, "'lr'", "'0.1'", "'0.2'"):
        assert fragment in message
    assert isinstance(info.value, InvalidParameterError)
    assert snapshot(store, run_id) == before


def test_param_conflict_inside_one_batch(store, run_id):
    before = snapshot(store, run_id)
    with pytest.raises(ParamConflictError) as info:
        store.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 1, 0)],
            params=[Param("lr", "0.1"), Param("lr", "0.2")],
        )
    for fragment in (run_id, "'lr'", "'0.1'", "'0.2'"):
        assert fragment in str(info.value)
    assert snapshot(store, run_id) == before
    store.log_batch(run_id, params=[Param("lr", "0.1"), Param("lr", "0.1")])
    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_params_are_case_sensitive_keys(store, run_id):
    store.log_batch(run_id, params=[Param("LR", "1"), Param("lr", "2")])
    assert store.get_run(run_id).data.params == {"LR": "1", "lr": "2"}


def test_long_values(store, run_id):
    store.log_batch(run_id, params=[Param("p", "x" * 6000)], tags=[RunTag("t", "é" * 8000)])
    data = store.get_run(run_id).data
    assert data.params["p"] == "x" * 6000
    assert data.tags["t"] == "é" * 8000


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"params": [Param("p", "x" * 6001)]}, InvalidValueError),
        ({"tags": [RunTag("t", "x" * 8001)]}, InvalidValueError),
        ({"metrics": [Metric("bad key!", 1.0, 1, 0)]}, InvalidKeyError),
        ({"params": [Param("../escape", "1")]}, InvalidKeyError),
        ({"metrics": [Metric("m", "abc", 1, 0)]}, InvalidParameterError),  # type: ignore[arg-type]
        ({"metrics": [Metric("m", 1.0, "soon", 0)]}, InvalidParameterError),  # type: ignore[arg-type]
        ({"metrics": [Metric("m", 1.0, 1, 0.5)]}, InvalidParameterError),  # type: ignore[arg-type]
    ],
)
def test_invalid_input_stores_nothing(store, run_id, kwargs, error):
    before = snapshot(store, run_id)
    batch = {"metrics": [Metric("good", 1.0, 1, 0)], **kwargs}
    with pytest.raises(error):
        store.log_batch(run_id, **batch)
    assert snapshot(store, run_id) == before


# --- metrics ----------------------------------------------------------------------------------


def test_metric_values_round_trip(store, run_id):
    values = [0.0, -1.5, 1e-300, 123456789.125, math.nan, math.inf, -math.inf, sys.float_info.min]
    store.log_batch(run_id, metrics=[Metric("m", v, 100 + i, i) for i, v in enumerate(values)])
    history = store.get_metric_history(run_id, "m")
    got = [m.value for m in history]
    assert math.isnan(got[4])
    # +/-inf come back clipped to +/-float max, as MLflow returns them
    fmax = sys.float_info.max
    assert got[:4] + got[5:] == values[:4] + [fmax, -fmax] + values[7:]
    assert [(m.step, m.timestamp) for m in history] == [(i, 100 + i) for i in range(len(values))]
    # latest value is the last step's
    assert store.get_run(run_id).data.metrics == {"m": sys.float_info.min}


def test_nan_and_inf_as_latest(store, run_id):
    store.log_batch(
        run_id,
        metrics=[
            Metric("n", math.nan, 1, 0),
            Metric("p", math.inf, 1, 0),
            Metric("q", -math.inf, 1, 0),
        ],
    )
    metrics = store.get_run(run_id).data.metrics
    assert math.isnan(metrics["n"])
    assert metrics["p"] == sys.float_info.max and metrics["q"] == -sys.float_info.max


def test_storage_encoding_of_nan_and_inf(store, run_id):
    # MLflow's encoding, so a database is readable by either: NaN -> 0 + is_nan, inf -> max.
    store.log_batch(
        run_id,
        metrics=[
            Metric("n", math.nan, 1, 0),
            Metric("p", math.inf, 2, 1),
            Metric("q", -math.inf, 3, 2),
        ],
    )
    with store.engine.connect() as conn:
        rows, latest = (
            conn.execute(
                sa.select(t.c.key, t.c.value, t.c.is_nan)
                .where(t.c.run_uuid == run_id)
                .order_by(t.c.key)
            ).all()
            for t in (db.metrics, db.latest_metrics)
        )
    expected = [
        ("n", 0.0, True),
        ("p", sys.float_info.max, False),
        ("q", -sys.float_info.max, False),
    ]
    assert [(k, v, bool(n)) for k, v, n in rows] == expected
    assert [(k, v, bool(n)) for k, v, n in latest] == expected


def test_numpy_like_values(store, run_id):
    class Number:
        def __float__(self):
            return 2.5

    store.log_batch(run_id, metrics=[Metric("m", 3, 1, 0), Metric("m", Number(), 2, 1)])  # type: ignore[arg-type]
    assert [m.value for m in store.get_metric_history(run_id, "m")] == [3.0, 2.5]


def test_latest_metric_rule(store, run_id):
    # greater step wins even with an older timestamp
    store.log_batch(run_id, metrics=[Metric("a", 1.0, 500, 5), Metric("a", 2.0, 100, 7)])
    # same step: greater timestamp wins
    store.log_batch(run_id, metrics=[Metric("b", 1.0, 200, 3), Metric("b", 2.0, 100, 3)])
    # same step and timestamp: the later point wins
    store.log_batch(run_id, metrics=[Metric("c", 1.0, 100, 3), Metric("c", 2.0, 100, 3)])
    latest = {m.key: m for m in store.get_run(run_id).data._metric_objs}
    assert (latest["a"].value, latest["a"].step, latest["a"].timestamp) == (2.0, 7, 100)
    assert (latest["b"].value, latest["b"].timestamp) == (1.0, 200)
    assert latest["c"].value == 2.0

    # across batches: an older point never replaces a newer one...
    store.log_batch(run_id, metrics=[Metric("a", 9.0, 999, 6), Metric("b", 9.0, 150, 3)])
    # ... a newer one does, and a tie goes to the later batch
    store.log_batch(run_id, metrics=[Metric("c", 3.0, 100, 3)])
    metrics = store.get_run(run_id).data.metrics
    assert metrics == {"a": 2.0, "b": 1.0, "c": 3.0}
    store.log_batch(run_id, metrics=[Metric("a", 4.0, 1, 8), Metric("b", 5.0, 201, 3)])
    assert store.get_run(run_id).data.metrics == {"a": 4.0, "b": 5.0, "c": 3.0}


def test_history_keeps_every_point_in_order(store, run_id):
    store.log_batch(
        run_id,
        metrics=[
            Metric("m", 1.0, 300, 2),
            Metric("m", 2.0, 100, 1),
            Metric("m", 3.0, 200, 1),
            Metric("m", 4.0, 200, 1),  # same step and time: insertion order
            Metric("m", 4.0, 200, 1),  # an exact duplicate is the same point: stored once
            Metric("other", 9.0, 1, 0),
        ],
    )
    store.log_batch(run_id, metrics=[Metric("m", 5.0, 50, 0), Metric("m", 6.0, 200, 1)])
    history = store.get_metric_history(run_id, "m")
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (0, 50, 5.0),
        (1, 100, 2.0),
        (1, 200, 3.0),
        (1, 200, 4.0),
        (1, 200, 6.0),
        (2, 300, 1.0),
    ]
    assert all(m.key == "m" for m in history)
    assert history.token is None
    assert list(store.get_metric_history(run_id, "missing")) == []


def test_history_paging(store, run_id):
    points = [Metric("m", float(i), 1000 + i // 3, i // 5) for i in range(23)]
    store.log_batch(run_id, metrics=points)
    full = list(store.get_metric_history(run_id, "m"))
    pages, token = [], None
    while True:
        page = store.get_metric_history(run_id, "m", max_results=5, page_token=token)
        pages.append(list(page))
        token = page.token
        if token is None:
            break
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [m for page in pages for m in page] == full
    exact = store.get_metric_history(run_id, "m", max_results=23)
    assert len(exact) == 23 and exact.token is None


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"max_results": 0}, "positive integer"),
        ({"max_results": 50_001}, "at most 50000"),
        ({"page_token": "not-a-token"}, "Invalid page token"),
    ],
)
def test_history_bad_paging(store, run_id, kwargs, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        store.get_metric_history(run_id, "m", **kwargs)


def test_log_batch_many_points_and_keys(store, run_id):
    metrics = [Metric(f"k{i % 10}", i * 0.5, 10_000 + i, i // 10) for i in range(5000)]
    params = [Param(f"p{i}", str(i)) for i in range(100)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(100)]
    store.log_batch(run_id, metrics, params, tags)
    run = store.get_run(run_id)
    assert run.data.metrics == {f"k{k}": (4990 + k) * 0.5 for k in range(10)}
    assert len(run.data.params) == 100 and len(run.data.tags) == 101
    assert len(store.get_metric_history(run_id, "k3")) == 500


def test_empty_batch(store, run_id):
    before = snapshot(store, run_id)
    store.log_batch(run_id)
    assert snapshot(store, run_id) == before


def test_concurrent_writers(store, run_id):
    # Threads share the store as the queue's writer and a user thread would.
    errors = []

    def write(worker):
        try:
            for i in range(20):
                store.log_batch(
                    run_id,
                    metrics=[Metric("m", float(i), i, worker * 100 + i)],
                    tags=[RunTag(f"w{worker}", str(i))],
                )
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.get_metric_history(run_id, "m")) == 80
    assert store.get_run(run_id).data.metrics["m"] == 19.0


# --- dataset inputs ---------------------------------------------------------------------------


def test_log_inputs(store, run_id):
    train = Dataset("train", "abc123", "local", '{"uri": "/data"}', '{"cols": 3}', '{"rows": 10}')
    test = Dataset("test", "def456")
    store.log_inputs(
        run_id,
        [
            DatasetInput(train, {"mlflow.data.context": "training"}),
            DatasetInput(test, {}),
        ],
    )
    store.log_inputs(run_id, [DatasetInput(train, {"mlflow.data.context": "training"})])  # dup
    inputs = store.get_run(run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.tags) for i in inputs] == [
        ("test", {}),
        ("train", {"mlflow.data.context": "training"}),
    ]
    assert inputs[1].dataset == train
    other = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_inputs(other, [DatasetInput(train, {})])  # the same dataset, another run
    assert store.get_run(other).inputs.dataset_inputs == [DatasetInput(train, {})]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.datasets)).scalar() == 2


def test_abstract_store_contract():
    from flightlog.store.sql import SqlStore

    assert issubclass(SqlStore, AbstractStore)
    assert not getattr(SqlStore, "__abstractmethods__", None)
    assert SqlStore.log_inputs is not AbstractStore.log_inputs
