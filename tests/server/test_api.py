"""The REST API's paths, methods, JSON shapes and error format, against a real server."""

from __future__ import annotations

import math
import time

from server_helpers import error_of

API = "/api/2.0/mlflow"


def _new_experiment(api, name: str) -> str:
    response = api("POST", f"{API}/experiments/create", {"name": name})
    assert response.status_code == 200, response.text
    return response.json()["experiment_id"]


def _new_run(api, experiment_id: str, **extra) -> dict:
    body = {"experiment_id": experiment_id, "start_time": 1_000, "user_id": "ann", **extra}
    response = api("POST", f"{API}/runs/create", body)
    assert response.status_code == 200, response.text
    return response.json()["run"]


def test_health_version_and_openapi(server, api):
    assert api("GET", "/health").text == "OK"
    from flightlog import __version__

    assert api("GET", "/version").text == __version__
    schema = api("GET", "/openapi.json").json()
    assert f"{API}/runs/log-batch" in schema["paths"]
    assert "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}" in schema["paths"]


def test_experiment_lifecycle(api):
    exp_id = _new_experiment(api, "exp-life")
    got = api("GET", f"{API}/experiments/get", {"experiment_id": exp_id}).json()["experiment"]
    assert got["name"] == "exp-life"
    assert got["artifact_location"] == f"mlflow-artifacts:/{exp_id}"
    assert got["lifecycle_stage"] == "active"
    assert isinstance(got["creation_time"], int)

    by_name = api("GET", f"{API}/experiments/get-by-name", {"experiment_name": "exp-life"})
    assert by_name.json()["experiment"]["experiment_id"] == exp_id

    api(
        "POST",
        f"{API}/experiments/set-experiment-tag",
        {"experiment_id": exp_id, "key": "k", "value": "v"},
    )
    api("POST", f"{API}/experiments/update", {"experiment_id": exp_id, "new_name": "exp-renamed"})
    got = api("GET", f"{API}/experiments/get", {"experiment_id": exp_id}).json()["experiment"]
    assert got["name"] == "exp-renamed"
    assert got["tags"] == [{"key": "k", "value": "v"}]

    assert api("POST", f"{API}/experiments/delete", {"experiment_id": exp_id}).json() == {}
    search = api("POST", f"{API}/experiments/search", {"filter": "name = 'exp-renamed'"}).json()
    assert search.get("experiments", []) == []
    search = api(
        "POST",
        f"{API}/experiments/search",
        {"filter": "name = 'exp-renamed'", "view_type": "DELETED_ONLY"},
    ).json()
    assert [e["experiment_id"] for e in search["experiments"]] == [exp_id]
    api("POST", f"{API}/experiments/restore", {"experiment_id": exp_id})
    search = api("GET", f"{API}/experiments/search", {"filter": "name = 'exp-renamed'"}).json()
    assert [e["experiment_id"] for e in search["experiments"]] == [exp_id]


def test_experiment_search_pages(api):
    for i in range(5):
        _new_experiment(api, f"paged-{i}")
    seen, token = [], None
    while True:
        body = {"filter": "name LIKE 'paged-%'", "max_results": 2, "order_by": ["name ASC"]}
        if token:
            body["page_token"] = token
        page = api("POST", f"{API}/experiments/search", body).json()
        seen += [e["name"] for e in page["experiments"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == [f"paged-{i}" for i in range(5)]


def test_run_lifecycle_and_logging(api):
    exp_id = _new_experiment(api, "runs-life")
    run = _new_run(api, exp_id, run_name="r1", tags=[{"key": "t0", "value": "x"}])
    info = run["info"]
    run_id = info["run_id"]
    assert info["run_uuid"] == run_id
    assert info["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    assert info["status"] == "RUNNING" and info["user_id"] == "ann" and info["start_time"] == 1000
    assert {"key": "mlflow.runName", "value": "r1"} in run["data"]["tags"]

    ok = [
        api(
            "POST",
            f"{API}/runs/log-metric",
            {"run_id": run_id, "key": "m", "value": 0.5, "timestamp": 7, "step": 1},
        ),
        # int64 fields as strings and non-finite doubles as strings: proto3 JSON as MLflow writes it
        api(
            "POST",
            f"{API}/runs/log-metric",
            {"run_uuid": run_id, "key": "m", "value": "NaN", "timestamp": "8", "step": "2"},
        ),
        api("POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"}),
        api("POST", f"{API}/runs/set-tag", {"run_id": run_id, "key": "t", "value": "v"}),
        api(
            "POST",
            f"{API}/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": "b", "value": "-Infinity", "timestamp": 9, "step": 0}],
                "params": [{"key": "q", "value": "2"}],
                "tags": [{"key": "t2", "value": "w"}],
            },
        ),
    ]
    assert [r.status_code for r in ok] == [200] * 5
    assert all(r.json() == {} for r in ok)

    got = api("GET", f"{API}/runs/get", {"run_id": run_id}).json()["run"]
    metrics = {m["key"]: m for m in got["data"]["metrics"]}
    assert metrics["m"] == {"key": "m", "value": "NaN", "timestamp": 8, "step": 2}
    # +/-inf come back as +/-float max, as MLflow's SQL store hands them back.
    assert metrics["b"]["value"] == -1.7976931348623157e308
    assert {p["key"]: p["value"] for p in got["data"]["params"]} == {"p": "1", "q": "2"}
    tags = {t["key"]: t["value"] for t in got["data"]["tags"]}
    assert tags["t"] == "v" and tags["t2"] == "w" and tags["t0"] == "x"

    assert api("POST", f"{API}/runs/delete-tag", {"run_id": run_id, "key": "t"}).status_code == 200
    updated = api(
        "POST", f"{API}/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": 99}
    )
    assert updated.json()["run_info"]["status"] == "FINISHED"
    assert updated.json()["run_info"]["end_time"] == 99
    # A rename alone keeps the status and end time.
    renamed = api("POST", f"{API}/runs/update", {"run_id": run_id, "run_name": "r2"}).json()
    assert renamed["run_info"]["run_name"] == "r2"
    assert renamed["run_info"]["status"] == "FINISHED" and renamed["run_info"]["end_time"] == 99

    history = api("GET", f"{API}/metrics/get-history", {"run_id": run_id, "metric_key": "m"}).json()
    assert [(p["step"], p["value"]) for p in history["metrics"]] == [(1, 0.5), (2, "NaN")]

    api("POST", f"{API}/runs/delete", {"run_id": run_id})
    found = api("POST", f"{API}/runs/search", {"experiment_ids": [exp_id]}).json()
    assert found.get("runs", []) == []
    api("POST", f"{API}/runs/restore", {"run_id": run_id})
    found = api("POST", f"{API}/runs/search", {"experiment_ids": [exp_id]}).json()
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]


def test_search_runs_filter_order_and_pages(api):
    exp_id = _new_experiment(api, "search-runs")
    ids = []
    for i in range(5):
        run_id = _new_run(api, exp_id)["info"]["run_id"]
        ids.append(run_id)
        api(
            "POST",
            f"{API}/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": "acc", "value": i / 10, "timestamp": 1, "step": 0}],
                "params": [{"key": "i", "value": str(i)}],
            },
        )
    body = {
        "experiment_ids": [exp_id],
        "filter": "metrics.acc >= 0.2",
        "order_by": ["metrics.acc DESC"],
        "max_results": 2,
    }
    first = api("POST", f"{API}/runs/search", body).json()
    assert [r["info"]["run_id"] for r in first["runs"]] == [ids[4], ids[3]]
    second = api(
        "POST", f"{API}/runs/search", {**body, "page_token": first["next_page_token"]}
    ).json()
    assert [r["info"]["run_id"] for r in second["runs"]] == [ids[2]]
    assert "next_page_token" not in second


def test_metric_history_pages(api):
    run_id = _new_run(api, _new_experiment(api, "history-pages"))["info"]["run_id"]
    points = [
        {"key": "loss", "value": 1 / (s + 1), "timestamp": 100 + s, "step": s} for s in range(25)
    ]
    api("POST", f"{API}/runs/log-batch", {"run_id": run_id, "metrics": points})
    steps, token, pages = [], None, 0
    while True:
        params = {"run_id": run_id, "metric_key": "loss", "max_results": 10}
        if token:
            params["page_token"] = token
        page = api("GET", f"{API}/metrics/get-history", params).json()
        pages += 1
        steps += [p["step"] for p in page["metrics"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert steps == list(range(25)) and pages == 3


def test_get_variants_also_accept_post(api):
    exp_id = _new_experiment(api, "post-variants")
    run_id = _new_run(api, exp_id)["info"]["run_id"]
    assert (
        api("POST", f"{API}/runs/get", {"run_id": run_id}).json()["run"]["info"]["run_id"] == run_id
    )
    assert api("POST", f"{API}/experiments/get", {"experiment_id": exp_id}).status_code == 200
    assert (
        api(
            "POST", f"{API}/experiments/get-by-name", {"experiment_name": "post-variants"}
        ).status_code
        == 200
    )


def test_not_found_and_conflicts_use_mlflow_error_codes(api):
    assert error_of(api("GET", f"{API}/runs/get", {"run_id": "0" * 32})) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert error_of(api("GET", f"{API}/experiments/get", {"experiment_id": "987654"})) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert error_of(api("GET", f"{API}/experiments/get-by-name", {"experiment_name": "nope"})) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _new_experiment(api, "dup")
    assert error_of(api("POST", f"{API}/experiments/create", {"name": "dup"})) == (
        400,
        "RESOURCE_ALREADY_EXISTS",
    )

    run_id = _new_run(api, _new_experiment(api, "conflict"))["info"]["run_id"]
    api("POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})
    changed = api(
        "POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.2"}
    )
    assert error_of(changed) == (400, "INVALID_PARAMETER_VALUE")
    same = api("POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})
    assert same.status_code == 200
    assert error_of(api("GET", "/api/2.0/mlflow/no-such-endpoint")) == (404, "ENDPOINT_NOT_FOUND")


def test_bad_json_and_wrong_types_are_400(api, server):
    import requests

    url = f"{server.url}{API}/runs/log-batch"
    bad_json = requests.post(
        url, data=b"{not json", headers={"Content-Type": "application/json"}, timeout=60
    )
    assert error_of(bad_json) == (400, "INVALID_PARAMETER_VALUE")
    not_object = requests.post(
        url, data=b"[1, 2]", headers={"Content-Type": "application/json"}, timeout=60
    )
    assert error_of(not_object) == (400, "INVALID_PARAMETER_VALUE")
    run_id = _new_run(api, _new_experiment(api, "types"))["info"]["run_id"]
    cases = [
        (
            f"{API}/runs/log-batch",
            {"run_id": run_id, "metrics": [{"key": "m", "value": "high", "timestamp": 1}]},
        ),
        (
            f"{API}/runs/log-batch",
            {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 1.5}]},
        ),
        (
            f"{API}/runs/log-batch",
            {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 2**70}]},
        ),
        (f"{API}/runs/log-batch", {"run_id": run_id, "params": "lr=1"}),
        (f"{API}/runs/log-batch", {"run_id": 5}),
        (f"{API}/runs/log-parameter", {"run_id": run_id, "key": "p", "value": 3}),
        (f"{API}/runs/log-metric", {"run_id": run_id, "key": "../x", "value": 1, "timestamp": 1}),
        (f"{API}/runs/set-tag", {"run_id": run_id, "key": "k", "value": "a\x00b"}),
        (f"{API}/runs/create", {"experiment_id": {"id": 1}}),
        (f"{API}/runs/update", {"run_id": run_id, "status": "SLEEPING"}),
        (f"{API}/experiments/create", {"name": ""}),
        (f"{API}/experiments/create", {}),
        (f"{API}/runs/search", {"experiment_ids": ["0"], "filter": "metrics.acc >>> 1"}),
        (f"{API}/runs/search", {"experiment_ids": ["0"], "max_results": 10**9}),
        (f"{API}/experiments/search", {"page_token": "garbage"}),
    ]
    for endpoint, body in cases:
        status, code = error_of(api("POST", endpoint, body))
        assert (status, code) == (400, "INVALID_PARAMETER_VALUE"), (endpoint, body)
    missing = api("POST", f"{API}/experiments/create", {}).json()["message"]
    assert "Missing value for required parameter 'name'" in missing


def test_log_batch_limits_match_mlflow(api):
    run_id = _new_run(api, _new_experiment(api, "limits"))["info"]["run_id"]
    now = int(time.time() * 1000)
    too_many = [{"key": "m", "value": 1.0, "timestamp": now, "step": i} for i in range(1001)]
    status, code = error_of(
        api("POST", f"{API}/runs/log-batch", {"run_id": run_id, "metrics": too_many})
    )
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert (
        api(
            "POST", f"{API}/runs/log-batch", {"run_id": run_id, "metrics": too_many[:1000]}
        ).status_code
        == 200
    )
    history = api("GET", f"{API}/metrics/get-history", {"run_id": run_id, "metric_key": "m"}).json()
    assert len(history["metrics"]) == 1000
    assert not any(math.isnan(p["value"]) for p in history["metrics"])


def test_artifact_proxy_round_trip_and_run_listing(api, server):
    import requests

    run = _new_run(api, _new_experiment(api, "proxy"))
    root = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{root}"
    assert (
        requests.put(f"{base}/plots/page.html", data=b"<script>x</script>", timeout=60).json() == {}
    )
    assert requests.put(f"{base}/model.bin", data=b"\x00\x01", timeout=60).status_code == 200

    got = requests.get(f"{base}/plots/page.html", timeout=60)
    assert got.content == b"<script>x</script>"
    assert got.headers["content-type"].startswith("text/plain")  # never run as a page
    assert got.headers["x-content-type-options"] == "nosniff"
    listing = requests.get(
        f"{server.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": root}, timeout=60
    ).json()
    assert listing["files"] == [
        {"path": "model.bin", "is_dir": False, "file_size": 2},
        {"path": "plots", "is_dir": True},
    ]
    by_run = api("GET", f"{API}/artifacts/list", {"run_id": run["info"]["run_id"], "path": "plots"})
    assert by_run.json() == {
        "root_uri": run["info"]["artifact_uri"],
        "files": [{"path": "plots/page.html", "is_dir": False, "file_size": 18}],
    }
    # A folder cannot be downloaded or overwritten as a file; a missing file is a 404.
    assert error_of(requests.get(f"{base}/plots", timeout=60)) == (400, "INVALID_PARAMETER_VALUE")
    assert error_of(requests.put(f"{base}/plots", data=b"x", timeout=60))[0] == 400
    assert error_of(requests.get(f"{base}/nope.txt", timeout=60)) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert requests.delete(f"{base}/plots", timeout=60).status_code == 200
    assert error_of(requests.get(f"{base}/plots/page.html", timeout=60))[0] == 404
