"""The model registry in the SQL store, on SQLite, PostgreSQL and MySQL (the `store` fixture)."""

from __future__ import annotations

import time

import pytest

from flightlog.entities import LoggedModelStatus, RunTag
from flightlog.exceptions import (
    ExperimentNotFoundError,
    InvalidFilterError,
    InvalidParameterError,
    LoggedModelNotFoundError,
    ModelVersionNotFoundError,
    RegisteredModelAlreadyExistsError,
    RegisteredModelNotFoundError,
    ResourceNotFoundError,
)


def _run(store) -> str:
    return store.create_run("0", "ann", int(time.time() * 1000), [], "r").info.run_id


def test_registered_model_lifecycle(store):
    created = store.create_registered_model("churn", [RunTag("team", "ml")], "first")
    assert (created.name, created.description, created.tags) == ("churn", "first", {"team": "ml"})
    assert created.creation_timestamp and created.latest_versions == []
    with pytest.raises(RegisteredModelAlreadyExistsError, match="churn"):
        store.create_registered_model("churn")
    for bad in ("", "a/b", "a@b"):
        with pytest.raises(InvalidParameterError):
            store.create_registered_model(bad)

    store.create_model_version("churn", "file:///m1", tags=[RunTag("k", "v")])
    store.set_registered_model_alias("churn", "champion", 1)
    assert store.update_registered_model("churn", "second").description == "second"
    store.set_registered_model_tag("churn", RunTag("team", "data"))
    store.set_registered_model_tag("churn", RunTag("tier", "1"))
    store.delete_registered_model_tag("churn", "tier")

    renamed = store.rename_registered_model("churn", "attrition")
    assert renamed.tags == {"team": "data"} and renamed.aliases == {"champion": "1"}
    moved = store.get_model_version("attrition", 1)
    assert moved.tags == {"k": "v"} and moved.aliases == ["champion"]
    with pytest.raises(RegisteredModelNotFoundError):
        store.get_registered_model("churn")

    store.create_registered_model("other")
    with pytest.raises(RegisteredModelAlreadyExistsError):
        store.rename_registered_model("attrition", "other")
    store.delete_registered_model("attrition")
    with pytest.raises(RegisteredModelNotFoundError):
        store.get_model_version("attrition", 1)
    # A deleted name is free again, and its versions start over at 1.
    store.create_registered_model("attrition")
    assert store.create_model_version("attrition", "file:///new").version == "1"


def test_versions_are_never_reused_and_stages_move(store):
    store.create_registered_model("m")
    run_id = _run(store)
    v1 = store.create_model_version("m", f"runs:/{run_id}/model", run_id=run_id, description="d1")
    assert (v1.version, v1.run_id, v1.status, v1.current_stage) == ("1", run_id, "READY", "None")
    assert store.get_model_version_download_uri("m", 1).endswith(f"{run_id}/artifacts/model")
    v2 = store.create_model_version("m", "file:///two")
    assert v2.version == "2"
    store.delete_model_version("m", 2)
    with pytest.raises(ModelVersionNotFoundError, match="2"):
        store.get_model_version("m", 2)
    assert store.create_model_version("m", "file:///three").version == "3"

    assert store.update_model_version("m", "1", "better").description == "better"
    store.transition_model_version_stage("m", 1, "production")
    store.transition_model_version_stage("m", 3, "Production", archive_existing_versions=True)
    assert store.get_model_version("m", 1).current_stage == "Archived"
    latest = {mv.current_stage: mv.version for mv in store.get_latest_versions("m")}
    assert latest == {"Production": "3", "Archived": "1"}
    assert [mv.version for mv in store.get_latest_versions("m", ["Production"])] == ["3"]
    assert [mv.version for mv in store.get_registered_model("m").latest_versions] == ["1", "3"]
    with pytest.raises(InvalidParameterError, match="stage"):
        store.transition_model_version_stage("m", 1, "Prod")
    with pytest.raises(InvalidParameterError, match="positive integer"):
        store.get_model_version("m", "one")
    with pytest.raises(RegisteredModelNotFoundError):
        store.create_model_version("nope", "file:///x")


def test_aliases(store):
    store.create_registered_model("m")
    for i in range(3):
        store.create_model_version("m", f"file:///v{i}")
    store.set_registered_model_alias("m", "champion", 1)
    store.set_registered_model_alias("m", "champion", "2")  # moves
    store.set_registered_model_alias("m", "challenger", 3)
    assert store.get_model_version_by_alias("m", "champion").version == "2"
    assert store.get_registered_model("m").aliases == {"challenger": "3", "champion": "2"}
    assert store.get_model_version("m", 2).aliases == ["champion"]
    store.delete_model_version("m", 3)  # takes its alias with it
    with pytest.raises(ResourceNotFoundError, match="challenger"):
        store.get_model_version_by_alias("m", "challenger")
    store.delete_registered_model_alias("m", "champion")
    assert store.get_registered_model("m").aliases == {}
    for bad in ("latest", "v3", "has space", ""):
        with pytest.raises(InvalidParameterError):
            store.set_registered_model_alias("m", bad, 1)
    with pytest.raises(ModelVersionNotFoundError):
        store.set_registered_model_alias("m", "ghost", 9)


def test_search_models_and_versions(store):
    run_a, run_b = _run(store), _run(store)
    for name in ("alpha", "beta", "Alphabet"):
        store.create_registered_model(name, [RunTag("team", "vision" if "lpha" in name else "nlp")])
    store.create_model_version("alpha", "file:///a1", run_id=run_a, tags=[RunTag("ok", "yes")])
    store.create_model_version("alpha", "file:///a2", run_id=run_b)
    store.create_model_version("beta", "file:///b1", run_id=run_a)

    def names(filter_string=None, **kw):
        return [m.name for m in store.search_registered_models(filter_string, **kw)]

    assert names() == ["Alphabet", "alpha", "beta"]
    assert names("name LIKE 'alpha%'") == ["alpha"]  # LIKE is case-sensitive
    assert names("name ILIKE 'alpha%'") == ["Alphabet", "alpha"]
    assert names("tags.team = 'nlp'") == ["beta"]
    assert names(order_by=["name DESC"]) == ["beta", "alpha", "Alphabet"]
    first = store.search_registered_models(max_results=2)
    rest = store.search_registered_models(max_results=2, page_token=first.token)
    assert [m.name for m in first] + [m.name for m in rest] == ["Alphabet", "alpha", "beta"]
    assert rest.token is None

    def versions(filter_string, **kw):
        return [(v.name, v.version) for v in store.search_model_versions(filter_string, **kw)]

    assert versions("name = 'alpha'") == [("alpha", "2"), ("alpha", "1")]
    # the default order is the most recently updated first (MLflow's), so name the order here
    assert versions(f"run_id = '{run_a}'", order_by=["name ASC"]) == [("alpha", "1"), ("beta", "1")]
    assert versions(f"run_id IN ('{run_b}')") == [("alpha", "2")]
    assert versions("tags.ok = 'yes'") == [("alpha", "1")]
    assert versions("name = 'alpha' AND version_number > 1") == [("alpha", "2")]
    assert versions("name = 'alpha'", order_by=["version_number ASC"]) == [
        ("alpha", "1"),
        ("alpha", "2"),
    ]
    with pytest.raises(InvalidFilterError, match="unknown model version attribute"):
        store.search_model_versions("flavor = 'x'")


def test_logged_models(store):
    run_id = _run(store)
    model = store.create_logged_model(
        "0", "model", run_id, tags=[RunTag("t", "1")], params=[RunTag("alpha", "0.5")]
    )
    assert model.model_id.startswith("m-") and model.status == LoggedModelStatus.PENDING
    assert model.artifact_location.endswith(f"/0/models/{model.model_id}/artifacts")
    assert store.finalize_logged_model(model.model_id, "LOGGED_MODEL_READY").status == "READY"
    store.set_logged_model_tags(model.model_id, [RunTag("t", "2"), RunTag("u", "x")])
    store.delete_logged_model_tag(model.model_id, "u")
    store.log_logged_model_params(model.model_id, [RunTag("beta", "1")])
    store.log_outputs(run_id, [(model.model_id, 0)])
    got = store.get_logged_model(model.model_id)
    assert got.tags == {"t": "2"} and got.params == {"alpha": "0.5", "beta": "1"}
    other = store.create_logged_model("0", "other", run_id)
    found = store.search_logged_models(["0"], "name = 'model'")
    assert [m.model_id for m in found] == [model.model_id]
    assert {
        m.model_id for m in store.search_logged_models(["0"], f"source_run_id = '{run_id}'")
    } == {
        model.model_id,
        other.model_id,
    }
    # Registered from a logged model: the download URI is the logged model's location.
    store.create_registered_model("lm")
    store.create_model_version("lm", f"models:/{model.model_id}", model_id=model.model_id)
    assert store.get_model_version_download_uri("lm", 1) == model.artifact_location
    store.delete_logged_model(other.model_id)
    with pytest.raises(LoggedModelNotFoundError):
        store.get_logged_model(other.model_id)
    with pytest.raises(ExperimentNotFoundError):
        store.create_logged_model("424242", "x")
