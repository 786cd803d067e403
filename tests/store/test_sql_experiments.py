"""SqlStore experiments: create, read, rename, tag, delete/restore, search."""

from __future__ import annotations

import time

import pytest

from flightlog.entities import LifecycleStage, RunStatus, RunTag, ViewType
from flightlog.exceptions import (
    ExperimentAlreadyExistsError,
    ExperimentNotActiveError,
    ExperimentNotFoundError,
    InvalidFilterError,
    InvalidParameterError,
    ResourceAlreadyExistsError,
)


def test_new_store_has_the_default_experiment(store):
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == LifecycleStage.ACTIVE
    assert default.artifact_location == f"{store.default_artifact_root}/0"
    assert store.get_experiment_by_name("Default").experiment_id == "0"


def test_create_and_get(store):
    before = int(time.time() * 1000)
    experiment_id = store.create_experiment("exp", tags=[RunTag("team", "vision")])
    assert isinstance(experiment_id, str) and experiment_id != "0"
    experiment = store.get_experiment(experiment_id)
    assert experiment.experiment_id == experiment_id
    assert experiment.name == "exp"
    assert experiment.tags == {"team": "vision"}
    assert experiment.lifecycle_stage == LifecycleStage.ACTIVE
    assert experiment.artifact_location == f"{store.default_artifact_root}/{experiment_id}"
    assert experiment.creation_time >= before
    assert experiment.last_update_time == experiment.creation_time
    assert store.get_experiment_by_name("exp") == experiment
    assert store.get_experiment(int(experiment_id)) == experiment


def test_explicit_artifact_location(store):
    experiment_id = store.create_experiment("exp", artifact_location="s3://bucket/path")
    assert store.get_experiment(experiment_id).artifact_location == "s3://bucket/path"
    run = store.create_run(experiment_id, "u", 1, [], None)
    assert run.info.artifact_uri == f"s3://bucket/path/{run.info.run_id}/artifacts"


def test_names_are_case_sensitive(store):
    first = store.create_experiment("Exp")
    second = store.create_experiment("exp")
    assert first != second
    assert store.get_experiment_by_name("EXP") is None
    assert store.get_experiment_by_name("exp").experiment_id == second


def test_duplicate_name(store):
    experiment_id = store.create_experiment("exp", tags=[RunTag("a", "1")])
    with pytest.raises(ExperimentAlreadyExistsError, match="'exp' already exists"):
        store.create_experiment("exp", tags=[RunTag("a", "2")])
    assert isinstance(ExperimentAlreadyExistsError("x"), ResourceAlreadyExistsError)
    assert store.get_experiment(experiment_id).tags == {"a": "1"}
    assert len(store.search_experiments(view_type=ViewType.ALL)) == 2


def test_duplicate_of_a_deleted_experiment(store):
    experiment_id = store.create_experiment("exp")
    store.delete_experiment(experiment_id)
    with pytest.raises(ExperimentAlreadyExistsError, match="'exp' already exists in the deleted"):
        store.create_experiment("exp")
    assert store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.DELETED


@pytest.mark.parametrize("name", ["", "   ", None, 5, "x" * 501])
def test_invalid_names(store, name):
    with pytest.raises(InvalidParameterError):
        store.create_experiment(name)
    assert [e.name for e in store.search_experiments(view_type=ViewType.ALL)] == ["Default"]


@pytest.mark.parametrize("experiment_id", ["12345", "abc", "-1", "99999999999", ""])
def test_unknown_experiment(store, experiment_id):
    with pytest.raises(ExperimentNotFoundError) as info:
        store.get_experiment(experiment_id)
    assert repr(experiment_id) in str(info.value)
    for call in (
        lambda: store.delete_experiment(experiment_id),
        lambda: store.restore_experiment(experiment_id),
        lambda: store.rename_experiment(experiment_id, "new"),
        lambda: store.set_experiment_tag(experiment_id, RunTag("k", "v")),
        lambda: store.create_run(experiment_id, "u", 0, [], None),
    ):
        with pytest.raises(ExperimentNotFoundError, match=repr(experiment_id)):
            call()
    assert store.get_experiment_by_name("new") is None


def test_get_by_name_missing(store):
    assert store.get_experiment_by_name("missing") is None


def test_rename(store):
    experiment_id = store.create_experiment("old")
    created = store.get_experiment(experiment_id)
    time.sleep(0.002)
    store.rename_experiment(experiment_id, "new")
    renamed = store.get_experiment(experiment_id)
    assert renamed.name == "new"
    assert renamed.last_update_time > created.last_update_time
    assert store.get_experiment_by_name("old") is None
    store.rename_experiment(experiment_id, "new")  # same name: nothing to do


def test_rename_to_a_taken_name(store):
    first = store.create_experiment("first")
    store.create_experiment("second")
    with pytest.raises(ExperimentAlreadyExistsError, match="'second' already exists"):
        store.rename_experiment(first, "second")
    assert store.get_experiment(first).name == "first"


def test_rename_deleted_experiment(store):
    experiment_id = store.create_experiment("old")
    store.delete_experiment(experiment_id)
    with pytest.raises(ExperimentNotActiveError, match=f"'{experiment_id}'.*deleted"):
        store.rename_experiment(experiment_id, "new")
    assert store.get_experiment(experiment_id).name == "old"


def test_set_experiment_tag(store):
    experiment_id = store.create_experiment("exp", tags=[RunTag("a", "1")])
    store.set_experiment_tag(experiment_id, RunTag("b", "2"))
    store.set_experiment_tag(experiment_id, RunTag("a", "changed"))
    assert store.get_experiment(experiment_id).tags == {"a": "changed", "b": "2"}


def test_set_tag_on_deleted_experiment(store):
    experiment_id = store.create_experiment("exp", tags=[RunTag("a", "1")])
    store.delete_experiment(experiment_id)
    with pytest.raises(ExperimentNotActiveError, match=repr(experiment_id)):
        store.set_experiment_tag(experiment_id, RunTag("a", "2"))
    assert store.get_experiment(experiment_id).tags == {"a": "1"}


def test_delete_and_restore_experiment_with_its_runs(store):
    experiment_id = store.create_experiment("exp")
    kept = store.create_run(experiment_id, "u", 1, [], "kept").info.run_id
    deleted_before = store.create_run(experiment_id, "u", 2, [], "gone").info.run_id
    store.delete_run(deleted_before)
    time.sleep(0.002)
    store.delete_experiment(experiment_id)

    experiment = store.get_experiment(experiment_id)
    assert experiment.lifecycle_stage == LifecycleStage.DELETED
    assert store.get_run(kept).info.lifecycle_stage == LifecycleStage.DELETED
    assert store.search_experiments() == [store.get_experiment("0")]
    assert [e.experiment_id for e in store.search_experiments(view_type=ViewType.DELETED_ONLY)] == [
        experiment_id
    ]
    with pytest.raises(ExperimentNotActiveError, match=f"'{experiment_id}'.*deleted"):
        store.create_run(experiment_id, "u", 3, [], None)
    assert len(store.search_runs([experiment_id], run_view_type=ViewType.ALL)) == 2

    store.delete_experiment(experiment_id)  # again: a no-op
    store.restore_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_run(kept).info.lifecycle_stage == LifecycleStage.ACTIVE
    # deleted on its own before the experiment was: stays deleted
    assert store.get_run(deleted_before).info.lifecycle_stage == LifecycleStage.DELETED
    store.restore_experiment(experiment_id)  # again: a no-op


def _names(experiments):
    return [e.name for e in experiments]


@pytest.fixture
def experiments(store):
    """Four experiments created in order a, b, C, d (creation times strictly increasing)."""
    ids = {}
    store.get_experiment("0")  # open the store (creating Default) before the clock moves on
    time.sleep(0.003)
    for name, tags in (
        ("a-vision", {"team": "vision", "prio": "1"}),
        ("b-nlp", {"team": "nlp"}),
        ("C-vision", {"team": "Vision"}),
        ("d-misc", {}),
    ):
        ids[name] = store.create_experiment(name, tags=[RunTag(k, v) for k, v in tags.items()])
        time.sleep(0.003)
    return ids


def test_search_experiments_default_order(store, experiments):
    # newest first; Default (created with the store) last
    assert _names(store.search_experiments()) == [
        "d-misc",
        "C-vision",
        "b-nlp",
        "a-vision",
        "Default",
    ]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'b-nlp'", ["b-nlp"]),
        ("attributes.name != 'b-nlp'", ["Default", "C-vision", "a-vision", "d-misc"]),
        ("name LIKE '%vision'", ["C-vision", "a-vision"]),
        ("name LIKE 'c%'", []),
        ("name ILIKE 'c%'", ["C-vision"]),
        ("name IN ('d-misc', 'b-nlp')", ["b-nlp", "d-misc"]),
        ("tags.team = 'vision'", ["a-vision"]),
        ("tags.team ILIKE 'vision'", ["C-vision", "a-vision"]),
        ("tags.team != 'nlp'", ["C-vision", "a-vision"]),
        ("tags.team IS NULL", ["Default", "d-misc"]),
        ("tags.prio IS NOT NULL", ["a-vision"]),
        ("tags.team = 'nlp' or tags.prio = '1'", ["a-vision", "b-nlp"]),
        ("(name LIKE 'a%' or name LIKE 'b%') and tags.team = 'nlp'", ["b-nlp"]),
        ("name = 'a_vision'", []),
        ("name LIKE 'a_vision'", ["a-vision"]),
    ],
)
def test_search_experiments_filters(store, experiments, filter_string, expected):
    found = store.search_experiments(filter_string=filter_string, order_by=["name"])
    assert _names(found) == sorted(expected)


def test_search_experiments_by_time(store, experiments):
    b = store.get_experiment(experiments["b-nlp"])
    found = store.search_experiments(
        filter_string=f"creation_time > {b.creation_time}", order_by=["creation_time"]
    )
    assert _names(found) == ["C-vision", "d-misc"]
    found = store.search_experiments(
        filter_string=f"attributes.last_update_time <= {b.last_update_time}",
        order_by=["attributes.last_update_time DESC"],
    )
    assert _names(found)[:2] == ["b-nlp", "a-vision"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["name"], ["C-vision", "Default", "a-vision", "b-nlp", "d-misc"]),
        (["name DESC"], ["d-misc", "b-nlp", "a-vision", "Default", "C-vision"]),
        (["experiment_id"], ["Default", "a-vision", "b-nlp", "C-vision", "d-misc"]),
        (["experiment_id DESC"], ["d-misc", "C-vision", "b-nlp", "a-vision", "Default"]),
        (["creation_time"], ["Default", "a-vision", "b-nlp", "C-vision", "d-misc"]),
        # "Vision" < "nlp" < "vision"; experiments without the tag last
        (["tags.team", "name"], ["C-vision", "b-nlp", "a-vision", "Default", "d-misc"]),
        (["tags.team DESC", "name"], ["a-vision", "b-nlp", "C-vision", "Default", "d-misc"]),
    ],
)
def test_search_experiments_order(store, experiments, order_by, expected):
    # binary string order (uppercase first) on every backend
    assert _names(store.search_experiments(order_by=order_by)) == expected


def test_search_experiments_paging(store, experiments):
    seen = []
    token = None
    pages = 0
    while True:
        page = store.search_experiments(max_results=2, order_by=["name"], page_token=token)
        seen += _names(page)
        pages += 1
        token = page.token
        if token is None:
            break
    assert pages == 3
    assert seen == ["C-vision", "Default", "a-vision", "b-nlp", "d-misc"]
    exact = store.search_experiments(max_results=5)
    assert len(exact) == 5 and exact.token is None


def test_search_experiments_view_types(store, experiments):
    store.delete_experiment(experiments["b-nlp"])
    assert "b-nlp" not in _names(store.search_experiments())
    assert _names(store.search_experiments(view_type=ViewType.DELETED_ONLY)) == ["b-nlp"]
    assert len(store.search_experiments(view_type=ViewType.ALL)) == 5
    assert len(store.search_experiments(view_type="ALL")) == 5


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"filter_string": "metrics.a > 1"}, InvalidFilterError, "unknown identifier type"),
        ({"filter_string": "name > 'a'"}, InvalidFilterError, "operator '>' is not supported"),
        ({"order_by": ["status"]}, InvalidFilterError, "unknown experiment attribute"),
        ({"max_results": 0}, InvalidParameterError, "positive integer"),
        ({"max_results": 50_001}, InvalidParameterError, "at most 50000"),
        ({"page_token": "garbage!"}, InvalidParameterError, "Invalid page token"),
    ],
)
def test_search_experiments_bad_input(store, kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        store.search_experiments(**kwargs)


def test_run_status_constants_are_strings():
    # the store writes these straight into runs.status
    assert RunStatus.RUNNING == "RUNNING"
