"""SqlStore.search_runs: every operator, and/or/parentheses, order_by, paging and view types,
compiled to SQL on each backend."""

from __future__ import annotations

import math

import pytest

from flightlog.entities import Dataset, DatasetInput, Metric, Param, RunStatus, RunTag, ViewType
from flightlog.exceptions import InvalidFilterError, InvalidParameterError


class Runs(dict):
    """name -> run id, plus the experiment ids."""

    experiment_id: str
    other_experiment_id: str


def _make(store, experiment_id, name, start, status, user, metrics, params, tags, end=None):
    run_id = store.create_run(experiment_id, user, start, [], name).info.run_id
    store.log_batch(
        run_id,
        metrics=[Metric(k, v, start, 0) for k, v in metrics.items()],
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    if status != RunStatus.RUNNING:
        store.update_run_info(run_id, status, end)
    return run_id


@pytest.fixture
def runs(store):
    experiment_id = store.create_experiment("search")
    other = store.create_experiment("other")
    found = Runs()
    found.experiment_id, found.other_experiment_id = experiment_id, other
    spec = [
        # name, start, status, user, metrics, params, tags, end
        (
            "alpha",
            1000,
            RunStatus.FINISHED,
            "alice",
            {"acc": 0.9, "loss": 0.5, "f1 score": 0.7},
            {"lr": "0.1", "opt": "adam", "note": "a_b"},
            {"team": "vision", "a b": "x"},
            2000,
        ),
        (
            "beta",
            2000,
            RunStatus.FAILED,
            "bob",
            {"acc": 0.7, "loss": math.nan},
            {"lr": "0.01", "opt": "sgd", "note": "axb"},
            {"team": "Vision"},
            3000,
        ),
        (
            "gamma-baseline",
            3000,
            RunStatus.RUNNING,
            "alice",
            {"acc": 0.95, "loss": math.inf},
            {"lr": "0.1"},
            {},
            None,
        ),
        ("delta", 4000, RunStatus.FINISHED, "carol", {}, {"opt": "adam"}, {"team": "nlp"}, 5000),
    ]
    for name, start, status, user, metrics, params, tags, end in spec:
        found[name] = _make(
            store, experiment_id, name, start, status, user, metrics, params, tags, end
        )
    found["other"] = _make(
        store, other, "other", 500, RunStatus.RUNNING, "dan", {"acc": 0.99}, {}, {}
    )
    found["deleted"] = _make(
        store, experiment_id, "deleted", 2500, RunStatus.RUNNING, "erin", {"acc": 0.5}, {}, {}
    )
    store.delete_run(found["deleted"])
    store.log_inputs(
        found["alpha"],
        [DatasetInput(Dataset("train", "d1"), {"mlflow.data.context": "training"})],
    )
    store.log_inputs(found["beta"], [DatasetInput(Dataset("eval", "d2"), {})])
    return found


def names(runs, result):
    by_id = {v: k for k, v in runs.items()}
    return [by_id[r.info.run_id] for r in result]


def search(store, runs, filter_string="", **kwargs):
    return names(runs, store.search_runs([runs.experiment_id], filter_string, **kwargs))


def test_default_order_is_newest_first(store, runs):
    assert search(store, runs) == ["delta", "gamma-baseline", "beta", "alpha"]


def test_results_carry_the_run_data(store, runs):
    (found,) = store.search_runs([runs.experiment_id], "run_name = 'alpha'")
    expected = store.get_run(runs["alpha"])
    assert found.info == expected.info
    assert found.data.metrics == expected.data.metrics
    assert found.data.params == expected.data.params
    assert found.data.tags == expected.data.tags
    assert found.inputs == expected.inputs
    assert [i.dataset.name for i in found.inputs.dataset_inputs] == ["train"]


FILTERS = [
    # metrics: numeric comparisons; NaN matches only != and NOT IN
    ("metrics.acc > 0.9", ["gamma-baseline"]),
    ("metrics.acc >= 0.9", ["gamma-baseline", "alpha"]),
    ("metrics.acc < 0.9", ["beta"]),
    ("metrics.acc <= 0.9", ["beta", "alpha"]),
    ("metrics.acc = 0.7", ["beta"]),
    ("metrics.acc != 0.7", ["gamma-baseline", "alpha"]),
    ("metrics.loss != 0.5", ["gamma-baseline", "beta"]),
    ("metrics.loss = 0", []),
    ("metrics.loss < 1", ["alpha"]),
    ("metrics.loss > 1e308", ["gamma-baseline"]),
    ("metrics.acc IN (0.7, 0.95)", ["gamma-baseline", "beta"]),
    ("metrics.acc NOT IN (0.7, 0.95)", ["alpha"]),
    ("metrics.loss NOT IN (0.5)", ["gamma-baseline", "beta"]),
    ("metrics.loss IS NULL", ["delta"]),
    ("metrics.loss IS NOT NULL", ["gamma-baseline", "beta", "alpha"]),
    ("metrics.`f1 score` > 0.5", ["alpha"]),
    ('metrics."f1 score" > 0.5', ["alpha"]),
    ("metric.acc > 0.92", ["gamma-baseline"]),
    # params: strings
    ("params.lr = '0.1'", ["gamma-baseline", "alpha"]),
    ('params.lr = "0.01"', ["beta"]),
    ("params.lr != '0.1'", ["beta"]),
    ("params.opt LIKE 'ad%'", ["delta", "alpha"]),
    ("params.opt LIKE 'AD%'", []),
    ("params.opt ILIKE 'AD%'", ["delta", "alpha"]),
    ("params.opt NOT LIKE 'ad%'", ["beta"]),
    ("params.opt NOT ILIKE 'AD%'", ["beta"]),
    ("params.note LIKE 'a_b'", ["beta", "alpha"]),
    ("params.note LIKE 'a\\_b'", ["alpha"]),
    ("params.opt IN ('sgd', 'rmsprop')", ["beta"]),
    ("params.opt NOT IN ('sgd')", ["delta", "alpha"]),
    ("params.opt IS NULL", ["gamma-baseline"]),
    ("params.opt IS NOT NULL", ["delta", "beta", "alpha"]),
    # tags
    ("tags.team = 'vision'", ["alpha"]),
    ("tags.team ILIKE 'VISION'", ["beta", "alpha"]),
    ("tags.`a b` = 'x'", ["alpha"]),
    ("tags.team IS NULL", ["gamma-baseline"]),
    ("tags.mlflow.runName = 'beta'", ["beta"]),
    ("tags.`mlflow.runName` LIKE '%baseline'", ["gamma-baseline"]),
    # attributes
    ("attributes.status = 'FINISHED'", ["delta", "alpha"]),
    ("status IN ('FAILED', 'RUNNING')", ["gamma-baseline", "beta"]),
    ("status != 'RUNNING'", ["delta", "beta", "alpha"]),
    ("run_name = 'beta'", ["beta"]),
    ("attributes.run_name LIKE '%baseline'", ["gamma-baseline"]),
    ("run.run_name ILIKE 'ALPHA'", ["alpha"]),
    ("attributes.start_time > 2000", ["delta", "gamma-baseline"]),
    ("created <= 2000", ["beta", "alpha"]),
    ("attributes.end_time >= 3000", ["delta", "beta"]),
    ("end_time IS NULL", ["gamma-baseline"]),
    ("end_time IS NOT NULL", ["delta", "beta", "alpha"]),
    ("user_id = 'alice'", ["gamma-baseline", "alpha"]),
    ("attributes.lifecycle_stage = 'active'", ["delta", "gamma-baseline", "beta", "alpha"]),
    ("attributes.artifact_uri LIKE '%/artifacts'", ["delta", "gamma-baseline", "beta", "alpha"]),
    # datasets
    ("datasets.name = 'train'", ["alpha"]),
    ("datasets.digest IN ('d1', 'd2')", ["beta", "alpha"]),
    ("datasets.context = 'training'", ["alpha"]),
    ("datasets.name IS NULL", ["delta", "gamma-baseline"]),
    # and / or / parentheses (AND binds tighter)
    ("metrics.acc > 0.8 and params.lr = '0.1'", ["gamma-baseline", "alpha"]),
    ("metrics.acc > 0.8 AND params.lr = '0.1' AND tags.team = 'vision'", ["alpha"]),
    ("tags.team = 'nlp' or metrics.acc < 0.8", ["delta", "beta"]),
    ("tags.team = 'nlp' or metrics.acc < 0.8 and params.opt = 'adam'", ["delta"]),
    ("(tags.team = 'nlp' or metrics.acc < 0.8) and params.opt = 'sgd'", ["beta"]),
    (
        "(status = 'FINISHED' or status = 'FAILED') and (user_id = 'bob' or run_name = 'delta')",
        ["delta", "beta"],
    ),
    ("params.x = 'nothing' or params.y = 'nothing'", []),
]


@pytest.mark.parametrize(("filter_string", "expected"), FILTERS)
def test_filters(store, runs, filter_string, expected):
    assert search(store, runs, filter_string) == expected


def test_run_id_filter(store, runs):
    wanted = [runs["alpha"], runs["delta"]]
    assert search(store, runs, f"attributes.run_id IN ('{wanted[0]}', '{wanted[1]}')") == [
        "delta",
        "alpha",
    ]
    assert search(store, runs, f"run_id = '{runs['beta']}'") == ["beta"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.acc"], ["beta", "alpha", "gamma-baseline", "delta"]),
        (["metrics.acc DESC"], ["gamma-baseline", "alpha", "beta", "delta"]),
        # NaN after numbers, missing after NaN, both directions
        (["metrics.loss ASC"], ["alpha", "gamma-baseline", "beta", "delta"]),
        (["metrics.loss DESC"], ["gamma-baseline", "alpha", "beta", "delta"]),
        (["params.lr"], ["beta", "gamma-baseline", "alpha", "delta"]),
        (["params.lr DESC"], ["gamma-baseline", "alpha", "beta", "delta"]),
        (["params.opt", "metrics.acc DESC"], ["alpha", "delta", "beta", "gamma-baseline"]),
        (["tags.team"], ["beta", "delta", "alpha", "gamma-baseline"]),
        (["tags.`a b` DESC"], ["alpha", "delta", "gamma-baseline", "beta"]),
        (["attributes.start_time ASC"], ["alpha", "beta", "gamma-baseline", "delta"]),
        (["created"], ["alpha", "beta", "gamma-baseline", "delta"]),
        (["end_time DESC"], ["delta", "beta", "alpha", "gamma-baseline"]),
        (["run_name"], ["alpha", "beta", "delta", "gamma-baseline"]),
        (["status", "user_id DESC"], ["beta", "delta", "alpha", "gamma-baseline"]),
        (["metrics.missing"], ["delta", "gamma-baseline", "beta", "alpha"]),
    ],
)
def test_order_by(store, runs, order_by, expected):
    assert search(store, runs, order_by=order_by) == expected


def test_order_by_with_filter(store, runs):
    assert search(store, runs, "params.lr = '0.1'", order_by=["metrics.acc"]) == [
        "alpha",
        "gamma-baseline",
    ]


def test_paging(store, runs):
    order = ["metrics.acc DESC"]
    expected = search(store, runs, order_by=order)
    seen, token, pages = [], None, 0
    while True:
        page = store.search_runs(
            [runs.experiment_id], max_results=3, order_by=order, page_token=token
        )
        seen += names(runs, page)
        pages += 1
        token = page.token
        if token is None:
            break
    assert (pages, seen) == (2, expected)
    exact = store.search_runs([runs.experiment_id], max_results=4)
    assert len(exact) == 4 and exact.token is None


def test_view_types(store, runs):
    assert "deleted" not in search(store, runs)
    assert search(store, runs, run_view_type=ViewType.DELETED_ONLY) == ["deleted"]
    assert search(store, runs, "metrics.acc = 0.5", run_view_type=ViewType.ALL) == ["deleted"]
    assert len(search(store, runs, run_view_type="ALL")) == 5
    assert search(store, runs, "lifecycle_stage = 'deleted'", run_view_type=ViewType.ALL) == [
        "deleted"
    ]


def test_experiment_scope(store, runs):
    both = store.search_runs([runs.experiment_id, runs.other_experiment_id], "metrics.acc > 0.92")
    assert names(runs, both) == ["gamma-baseline", "other"]
    assert names(runs, store.search_runs([runs.other_experiment_id])) == ["other"]
    assert names(runs, store.search_runs(runs.other_experiment_id)) == ["other"]
    assert store.search_runs([]) == []
    assert store.search_runs(["424242", "not-an-id"]) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"filter_string": "metric.acc >> 1"}, InvalidFilterError, "position 12"),
        (
            {"filter_string": "metrik.acc > 1"},
            InvalidFilterError,
            "unknown identifier type 'metrik'",
        ),
        ({"filter_string": "params.lr > 1"}, InvalidFilterError, "not supported for params.lr"),
        ({"filter_string": "metrics.acc = 'x'"}, InvalidFilterError, "compared as a number"),
        ({"order_by": ["metrics.acc SIDEWAYS"]}, InvalidFilterError, "ASC, DESC"),
        ({"order_by": ["bogus.x"]}, InvalidFilterError, "unknown identifier type 'bogus'"),
        ({"max_results": 50_001}, InvalidParameterError, "at most 50000"),
        ({"max_results": -1}, InvalidParameterError, "positive integer"),
        ({"page_token": "%%%"}, InvalidParameterError, "Invalid page token"),
        ({"run_view_type": 7}, ValueError, "Unknown view type"),
    ],
)
def test_bad_input(store, runs, kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        store.search_runs([runs.experiment_id], **kwargs)


def test_max_results_limit_accepted(store, runs):
    assert len(store.search_runs([runs.experiment_id], max_results=50_000)) == 4
