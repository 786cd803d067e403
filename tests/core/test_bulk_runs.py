"""Opening many runs at once: TrackingClient.create_runs and the stores' create_runs (one
transaction on SQL stores, one request per run elsewhere)."""

from __future__ import annotations

import pytest

import flightlog
from flightlog.entities import RunStatus, RunTag
from flightlog.exceptions import ExperimentNotActiveError, InvalidParameterError
from flightlog.store.base import RunSpec


def test_store_creates_runs_in_one_go(store):
    exp = store.create_experiment("bulk")
    specs = [
        RunSpec("alice", 1_000 + i, [RunTag("trial", str(i))], f"t-{i}" if i % 2 else None)
        for i in range(250)
    ]
    made = store.create_runs(exp, specs)
    assert len(made) == 250 and len({r.info.run_id for r in made}) == 250
    assert [r.data.tags["trial"] for r in made] == [str(i) for i in range(250)]
    assert made[1].info.run_name == "t-1" and made[0].info.run_name  # a generated name
    stored = store.search_runs([exp], max_results=1000)
    assert len(stored) == 250
    by_id = {r.info.run_id: r for r in stored}
    for run in made:
        again = by_id[run.info.run_id]
        assert again.info.status == RunStatus.RUNNING
        assert again.info.start_time == run.info.start_time
        assert again.data.tags["mlflow.runName"] == run.info.run_name
        assert again.info.artifact_uri.endswith(f"{run.info.run_id}/artifacts")
    assert store.create_runs(exp, []) == []


def test_deleted_experiment_refuses_and_stores_nothing(store):
    exp = store.create_experiment("gone")
    store.delete_experiment(exp)
    with pytest.raises(ExperimentNotActiveError):
        store.create_runs(exp, [RunSpec("u", 1)] * 3)
    from flightlog.entities import ViewType

    assert store.search_runs([exp], run_view_type=ViewType.ALL) == []


def test_client_create_runs_are_ready_to_log():
    client = flightlog.MlflowClient()
    exp = client.create_experiment("sweep-trials")
    runs = client.create_runs(exp, 20, tags={"sweep": "s1"})
    assert len(runs) == 20
    for i, run in enumerate(runs):
        client.log_metric(run.info.run_id, "score", float(i))
    client.log_batch(runs[0].info.run_id, params=[flightlog.entities.Param("lr", "0.1")])
    flightlog.flush()
    found = client.search_runs([exp], "tags.sweep = 's1' and metrics.score >= 10")
    assert len(found) == 10

    named = client.create_runs(exp, [{"run_name": "a"}, {"run_name": "b", "tags": {"k": "v"}}])
    assert [r.info.run_name for r in named] == ["a", "b"] and named[1].data.tags["k"] == "v"

    # Caller-chosen ids stay idempotent.
    rid = "ab" * 16
    first = client.create_runs(exp, [{"run_id": rid}])
    second = client.create_runs(exp, [{"run_id": rid}])
    assert first[0].info.run_id == second[0].info.run_id == rid


@pytest.mark.parametrize(
    "runs, message",
    [(-1, "negative"), ("3", "count or a list"), ([{"bogus": 1}], "keys among"), ([3], "mapping")],
)
def test_bad_specs_are_clear_errors(runs, message):
    client = flightlog.MlflowClient()
    exp = client.create_experiment("bad")
    with pytest.raises(InvalidParameterError, match=message):
        client.create_runs(exp, runs)
    assert client.search_runs([exp]) == []
