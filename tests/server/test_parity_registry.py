"""Registry behaviour that MLflow's clients and its own server tests depend on, checked with the
official mlflow client against a real `flightlog server` child process (see conftest.server).

- the 3.x client adds ``tags.`mlflow.prompt.is_prompt` != 'true'`` to every model search: models
  without the tag must match, prompts must not (MLflow's store: the prompt tag is special);
- any other `!=` on a tag needs the tag to exist (MLflow's rule, for runs too);
- model-version search, with no order_by, lists the most recently updated first;
- not-found errors carry MLflow's wording.
"""

from __future__ import annotations

import time

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

PROMPT_TAG = "mlflow.prompt.is_prompt"


@pytest.fixture(scope="module")
def client(server):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        yield MlflowClient(tracking_uri=server.url, registry_uri=server.url)


@pytest.fixture(scope="module")
def models(client, server):
    """m-a (x=a), m-b (x=b), m-none (no tag), and a prompt p-1 (created over REST: the client
    refuses to register prompts as models)."""
    import requests

    client.create_registered_model("m-a", tags={"x": "a"})
    client.create_registered_model("m-b", tags={"x": "b"})
    client.create_registered_model("m-none")
    response = requests.post(
        f"{server.url}/api/2.0/mlflow/registered-models/create",
        json={"name": "p-1", "tags": [{"key": PROMPT_TAG, "value": "true"}]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return ["m-a", "m-b", "m-none"]


def test_the_official_client_finds_models_without_the_prompt_tag(client, models):
    # the client sends ``tags.`mlflow.prompt.is_prompt` != 'true'`` with each of these
    assert sorted(m.name for m in client.search_registered_models()) == models
    assert [m.name for m in client.search_registered_models("name = 'm-none'")] == ["m-none"]
    assert [m.name for m in client.search_registered_models("name LIKE 'm-%'")] == models


def test_not_equal_on_another_tag_needs_the_tag(client, models):
    # MLflow's SQL store joins the tag table: m-none (no tag x) does not match `!=`
    assert [m.name for m in client.search_registered_models("tags.x != 'a'")] == ["m-b"]


def test_prompts_are_searched_only_when_asked_for(server, models):
    import requests

    def names(filter_string):
        response = requests.get(
            f"{server.url}/api/2.0/mlflow/registered-models/search",
            params={"filter": filter_string},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return sorted(m["name"] for m in response.json().get("registered_models", []))

    assert names(f"tags.`{PROMPT_TAG}` = 'true'") == ["p-1"]
    assert names(f"tags.`{PROMPT_TAG}` != 'false'") == ["p-1"]
    assert names(f"tags.`{PROMPT_TAG}` != 'true'") == models
    assert (
        names(f"tags.`{PROMPT_TAG}` = 'false'") == models
    )  # MLflow ignores it: not a prompt query
    assert names("") == models


def test_model_versions_with_the_prompt_filter_and_tags(client, models):
    client.create_model_version("m-a", "s3://bucket/a1")
    version = client.create_model_version("m-b", "s3://bucket/b1")
    client.set_model_version_tag("m-b", version.version, "stage", "prod")
    found = client.search_model_versions(f"tags.`{PROMPT_TAG}` != 'true'")
    assert {(v.name, v.version) for v in found} >= {("m-a", "1"), ("m-b", "1")}
    assert [(v.name, v.version) for v in client.search_model_versions("tags.stage != 'dev'")] == [
        ("m-b", "1")
    ]


def test_model_version_search_lists_the_most_recently_updated_first(client):
    client.create_registered_model("order-1")
    client.create_registered_model("order-2")
    created = []
    for name in ("order-1", "order-2", "order-1", "order-2"):
        created.append((name, client.create_model_version(name, "s3://bucket/x").version))
        time.sleep(0.01)  # distinct millisecond timestamps, whatever the machine's speed
    found = client.search_model_versions("name LIKE 'order-%'")
    assert [(v.name, v.version) for v in found] == list(reversed(created))
    # updating the oldest one moves it to the front
    client.update_model_version("order-1", "1", description="touched")
    found = client.search_model_versions("name LIKE 'order-%'")
    assert [(v.name, v.version) for v in found][0] == ("order-1", "1")
    # an explicit order still wins
    found = client.search_model_versions("name = 'order-1'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2"]


def test_runs_not_equal_needs_the_tag_as_in_mlflow(client):
    experiment_id = client.create_experiment("neq-runs")
    with_a = client.create_run(experiment_id, tags={"x": "a"}).info.run_id
    with_b = client.create_run(experiment_id, tags={"x": "b"}).info.run_id
    client.create_run(experiment_id)  # no tag x
    found = client.search_runs([experiment_id], "tags.x != 'a'")
    assert [r.info.run_id for r in found] == [with_b]
    assert with_a not in {r.info.run_id for r in found}


def test_not_found_errors_use_mlflows_wording(client):
    with pytest.raises(MlflowException, match="Registered Model with name=NoSuchModel not found"):
        client.get_registered_model("NoSuchModel")
    client.create_registered_model("has-no-version-7")
    with pytest.raises(
        MlflowException, match=r"Model Version \(name=has-no-version-7, version=7\) not found"
    ):
        client.get_model_version("has-no-version-7", "7")
    with pytest.raises(MlflowException, match=r"Registered Model \(name=m-a\) already exists"):
        client.create_registered_model("m-a")
    with pytest.raises(MlflowException, match="Run with id=0123456789abcdef0123456789abcdef not"):
        client.get_run("0123456789abcdef0123456789abcdef")


def test_embedded_store_has_the_same_rules(tmp_path):
    """flightlog's own client on a SQLite file: the same registry search semantics."""
    import flightlog
    from flightlog.entities import RunTag

    client = flightlog.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'embedded.db'}")
    client.create_registered_model("m-a", tags={"x": "a"})
    client.create_registered_model("m-none")
    client._store.create_registered_model("p-1", [RunTag(PROMPT_TAG, "true")])
    names = [m.name for m in client.search_registered_models(f"tags.`{PROMPT_TAG}` != 'true'")]
    assert names == ["m-a", "m-none"]
    assert [m.name for m in client.search_registered_models()] == ["m-a", "m-none"]
    assert [m.name for m in client.search_registered_models("tags.x != 'b'")] == ["m-a"]
