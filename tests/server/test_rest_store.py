"""RestStore and HttpArtifactRepository against a real `flightlog server`."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import pytest
from server_helpers import DroppingProxy

from flightlog.entities import Dataset, DatasetInput, Metric, Param, RunTag, ViewType
from flightlog.exceptions import (
    ExperimentNotFoundError,
    ParamConflictError,
    ResourceAlreadyExistsError,
    RunNotFoundError,
    StoreUnavailableError,
)
from flightlog.rest_client import RestClient
from flightlog.server.process import free_port
from flightlog.store.rest import RestStore


@pytest.fixture
def store(server):
    s = RestStore(server.url)
    yield s
    s.close()


def _run(store: RestStore, experiment: str):
    exp_id = store.create_experiment(experiment, tags=[RunTag("team", "vision")])
    return store.create_run(exp_id, "ann", 1_000, [RunTag("t", "1")], "run-a")


def test_store_contract_attributes(store, server):
    assert store.is_remote is True
    assert store.uri == server.url
    assert (store.max_metrics_per_batch, store.max_params_per_batch) == (1000, 100)
    assert store.max_tags_per_batch == 100


def test_experiments(store):
    exp_id = store.create_experiment("rest-exp", tags=[RunTag("a", "b")])
    exp = store.get_experiment(exp_id)
    assert (exp.name, exp.tags, exp.artifact_location) == (
        "rest-exp",
        {"a": "b"},
        f"mlflow-artifacts:/{exp_id}",
    )
    assert store.get_experiment_by_name("rest-exp").experiment_id == exp_id
    assert store.get_experiment_by_name("missing-exp") is None
    with pytest.raises(ResourceAlreadyExistsError):
        store.create_experiment("rest-exp")
    with pytest.raises(ExperimentNotFoundError):
        store.get_experiment("424242")
    store.rename_experiment(exp_id, "rest-exp-2")
    store.set_experiment_tag(exp_id, RunTag("c", "d"))
    assert store.get_experiment(exp_id).tags == {"a": "b", "c": "d"}
    store.delete_experiment(exp_id)
    deleted = store.search_experiments(ViewType.DELETED_ONLY, filter_string="name = 'rest-exp-2'")
    assert [e.experiment_id for e in deleted] == [exp_id]
    store.restore_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == "active"


def test_runs_and_batches_beyond_one_request(store):
    run = _run(store, "rest-batches")
    run_id = run.info.run_id
    assert run.info.run_name == "run-a" and run.data.tags["t"] == "1"
    now = int(time.time() * 1000)
    metrics = [Metric("loss", 1 / (i + 1), now + i, i) for i in range(2500)]
    metrics += [Metric("odd", v, now, 0) for v in (math.nan, math.inf, -math.inf)]
    # 150 params of 6000 characters: over MLflow's 100-per-request and 1 MB-per-request limits.
    params = [Param(f"p{i}", str(i) * 6000 if i < 10 else ("v" * 6000)) for i in range(150)]
    tags = [RunTag(f"tag{i}", "x" * 8000) for i in range(250)]
    store.log_batch(run_id, metrics, params, tags)

    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(2500))
    assert history[-1].value == 1 / 2500
    odd = [m.value for m in store.get_metric_history(run_id, "odd")]
    # +/-inf come back as +/-float max, as from an MLflow server.
    assert math.isnan(odd[0]) and odd[1:] == [sys.float_info.max, -sys.float_info.max]
    got = store.get_run(run_id)
    assert got.data.params == {p.key: p.value for p in params}
    assert all(got.data.tags[t.key] == t.value for t in tags)

    page = store.get_metric_history(run_id, "loss", max_results=1000)
    assert len(page) == 1000 and page.token
    rest = store.get_metric_history(run_id, "loss", max_results=2000, page_token=page.token)
    assert rest[0].step == 1000 and len(rest) == 1500 and rest.token is None


def test_errors_come_back_as_flightlog_exceptions(store):
    run_id = _run(store, "rest-errors").info.run_id
    store.log_param(run_id, Param("lr", "0.1"))
    with pytest.raises(ParamConflictError):
        store.log_batch(run_id, params=[Param("lr", "0.2")])
    store.log_batch(run_id, params=[Param("lr", "0.1")])  # the same value again is fine
    with pytest.raises(RunNotFoundError):
        store.get_run("f" * 32)
    with pytest.raises(RunNotFoundError):
        store.log_batch("f" * 32, metrics=[Metric("m", 1.0, 1, 0)])


def test_run_updates_search_and_inputs(store):
    run_id = _run(store, "rest-search").info.run_id
    exp_id = store.get_run(run_id).info.experiment_id
    others = [store.create_run(exp_id, "bob", 2_000 + i, [], None).info.run_id for i in range(3)]
    for i, rid in enumerate([run_id, *others]):
        store.log_batch(rid, metrics=[Metric("acc", i / 10, 1, 0)])
    info = store.update_run_info(run_id, "FINISHED", 5_000)
    assert (info.status, info.end_time) == ("FINISHED", 5_000)
    page = store.search_runs(
        [exp_id], "metrics.acc >= 0.1", order_by=["metrics.acc ASC"], max_results=2
    )
    assert [r.info.run_id for r in page] == others[:2] and page.token
    rest = store.search_runs(
        [exp_id], "metrics.acc >= 0.1", order_by=["metrics.acc ASC"], page_token=page.token
    )
    assert [r.info.run_id for r in rest] == others[2:]
    store.delete_run(others[0])
    assert store.get_run(others[0]).info.lifecycle_stage == "deleted"
    store.restore_run(others[0])
    store.delete_tag(run_id, "t")
    assert "t" not in store.get_run(run_id).data.tags
    dataset = Dataset("iris", "abc123", "local", '{"uri": "/data/iris"}')
    store.log_inputs(run_id, [DatasetInput(dataset, {"mlflow.data.context": "train"})])
    (logged,) = store.get_run(run_id).inputs.dataset_inputs
    assert (logged.dataset.name, logged.tags) == ("iris", {"mlflow.data.context": "train"})


def test_unreachable_server_raises_store_unavailable_quickly():
    client = RestClient(f"http://127.0.0.1:{free_port()}", max_retries=2, backoff_factor=0.01)
    store = RestStore(client.base_url, client=client)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError):
        store.log_batch("a" * 32, metrics=[Metric("m", 1.0, 1, 0)])
    # a few quick retries, not the default minutes of backoff (a generous bound: busy CI)
    assert time.monotonic() - started < 60


def test_a_batch_whose_answer_was_lost_is_stored_once(server, store):
    """The server stored the batch but the connection broke before the answer: the store must
    find out instead of sending it twice (or dropping it)."""
    run_id = _run(store, "rest-ambiguous").info.run_id
    proxy = DroppingProxy(server.port, match=b"/runs/log-batch", drops=1)
    try:
        through_proxy = RestStore(proxy.url)
        points = [Metric("x", float(i), 10 + i, i) for i in range(50)]
        through_proxy.log_batch(run_id, metrics=points)
        assert proxy.dropped == 1
        assert len(store.get_metric_history(run_id, "x")) == 50
        # A batch that did not make it (the proxy drops nothing now) is still sent.
        through_proxy.log_batch(run_id, metrics=[Metric("x", 99.0, 99, 99)])
        assert len(store.get_metric_history(run_id, "x")) == 51
    finally:
        proxy.close()


def test_session_is_recreated_in_a_forked_child(store):
    exp_id = store.create_experiment("rest-fork")
    store.get_experiment(exp_id)  # the parent's pooled connection now exists
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's socket
        try:
            ok = store.get_experiment(exp_id).name == "rest-fork"
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get_experiment(exp_id).name == "rest-fork"


def test_http_artifact_repository(server, store, tmp_path):
    from flightlog.artifacts import get_artifact_repository

    run = _run(store, "rest-artifacts")
    repo = get_artifact_repository(run.info.artifact_uri, server.url)
    src = tmp_path / "src"
    (src / "nested deeper").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "nested deeper" / "ü.bin").write_bytes(os.urandom(3000))
    repo.log_artifacts(str(src), "folder")
    repo.log_artifact(str(src / "a.txt"))
    repo.log_bytes(b'{"k": 1}', "dicts/d.json")

    assert [(f.path, f.is_dir) for f in repo.list_artifacts()] == [
        ("a.txt", False),
        ("dicts", True),
        ("folder", True),
    ]
    listed = repo.list_artifacts("folder/nested deeper")
    assert [(f.path, f.file_size) for f in listed] == [("folder/nested deeper/ü.bin", 3000)]
    assert repo.list_artifacts("folder/a.txt") == []  # a file is not a folder
    assert repo.list_artifacts("missing") == []

    out = repo.download_artifacts("folder", str(tmp_path / "out"))
    assert Path(out, "a.txt").read_text() == "alpha"
    assert (
        Path(out, "nested deeper", "ü.bin").read_bytes()
        == (src / "nested deeper" / "ü.bin").read_bytes()
    )
    single = repo.download_artifacts("dicts/d.json", str(tmp_path / "one"))
    assert Path(single).read_text() == '{"k": 1}'

    # The resolved http:// form of the same location works too.
    http_repo = get_artifact_repository(
        f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{run.info.artifact_uri.split(':/', 1)[1]}"
    )
    assert [f.path for f in http_repo.list_artifacts("dicts")] == ["dicts/d.json"]


def test_tracking_client_over_http(server):
    from flightlog.client import TrackingClient

    client = TrackingClient(server.url)
    exp_id = client.create_experiment("rest-client")
    run = client.create_run(exp_id, run_name="c")
    for step in range(300):
        client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
    client.log_param(run.info.run_id, "lr", 0.01)
    client.log_text(run.info.run_id, "hello", "notes/readme.txt")
    client.set_terminated(run.info.run_id)
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 300
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.data.params == {"lr": "0.01"}
    assert [f.path for f in client.list_artifacts(run.info.run_id, "notes")] == ["notes/readme.txt"]


def test_an_experiment_whose_answer_was_lost_is_not_reported_as_a_duplicate(server, store):
    proxy = DroppingProxy(server.port, match=b"/experiments/create", drops=1)
    try:
        exp_id = RestStore(proxy.url).create_experiment("rest-lost-answer")
        assert proxy.dropped == 1
        assert store.get_experiment(exp_id).name == "rest-lost-answer"
    finally:
        proxy.close()
