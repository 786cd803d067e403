"""Token authentication, request size limits and artifact path traversal, on real servers."""

from __future__ import annotations

import base64
import http.client
import os

import pytest
import requests
from server_helpers import error_of

from flightlog.server.process import ServerProcess

TOKEN = "s3cret-token"
API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A server with a token and small body limits (10 KiB JSON, 64 KiB artifacts)."""
    proc = ServerProcess.flightlog(
        tmp_path_factory.mktemp("guarded"),
        extra_args=[
            "--auth-token",
            TOKEN,
            "--max-json-body-mb",
            str(10 / 1024),
            "--max-artifact-body-mb",
            str(64 / 1024),
        ],
    )
    proc.start(timeout=120)
    yield proc
    proc.stop()


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_requests_need_the_token(guarded):
    url = f"{guarded.url}{API}/experiments/search"
    for headers in ({}, _auth("wrong"), {"Authorization": TOKEN}, {"Authorization": "Bearer"}):
        response = requests.post(url, json={}, headers=headers, timeout=60)
        assert error_of(response) == (401, "UNAUTHENTICATED"), headers
    assert requests.post(url, json={}, headers=_auth(), timeout=60).status_code == 200
    basic = base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    response = requests.post(url, json={}, headers={"Authorization": f"Basic {basic}"}, timeout=60)
    assert response.status_code == 200
    # The health check stays open for probes; everything else, docs included, is closed.
    assert requests.get(f"{guarded.url}/health", timeout=60).text == "OK"
    assert requests.get(f"{guarded.url}/openapi.json", timeout=60).status_code == 401


def test_unauthenticated_upload_writes_nothing(guarded):
    response = requests.put(f"{guarded.url}{ARTIFACTS}/0/x/sneaky.txt", data=b"x", timeout=60)
    assert error_of(response) == (401, "UNAUTHENTICATED")
    assert not (guarded.log_path.parent / "artifacts" / "0" / "x" / "sneaky.txt").exists()


def test_rest_store_sends_the_token_from_the_environment(guarded, monkeypatch):
    from flightlog.exceptions import UnauthenticatedError
    from flightlog.store.rest import RestStore

    store = RestStore(guarded.url)
    monkeypatch.delenv("FLIGHTLOG_TRACKING_TOKEN", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    with pytest.raises(UnauthenticatedError):
        store.get_experiment("0")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)  # MLflow's variable works as a fallback
    assert store.get_experiment("0").name == "Default"
    monkeypatch.setenv("FLIGHTLOG_TRACKING_TOKEN", "wrong")  # ours wins over MLflow's
    with pytest.raises(UnauthenticatedError):
        store.get_experiment("0")
    monkeypatch.setenv("FLIGHTLOG_TRACKING_TOKEN", TOKEN)
    assert store.search_experiments()[0].experiment_id == "0"
    store.close()


def test_json_body_limit(guarded):
    url = f"{guarded.url}{API}/experiments/create"
    big = {"name": "x" * 20_000}
    response = requests.post(url, json=big, headers=_auth(), timeout=60)
    assert error_of(response) == (413, "BAD_REQUEST")

    def chunks():  # no Content-Length: the limit must hold while streaming
        yield b'{"name": "'
        for _ in range(20):
            yield b"y" * 1024
        yield b'"}'

    response = requests.post(
        url, data=chunks(), headers={**_auth(), "Content-Type": "application/json"}, timeout=60
    )
    assert error_of(response) == (413, "BAD_REQUEST")
    ok = requests.post(url, json={"name": "small"}, headers=_auth(), timeout=60)
    assert ok.status_code == 200


def test_artifact_body_limit_leaves_no_file(guarded):
    root = guarded.log_path.parent / "artifacts"
    url = f"{guarded.url}{ARTIFACTS}/0/run/artifacts/big.bin"
    response = requests.put(url, data=os.urandom(100 * 1024), headers=_auth(), timeout=60)
    assert error_of(response) == (413, "BAD_REQUEST")

    def chunks():
        for _ in range(100):
            yield b"z" * 1024

    response = requests.put(url, data=chunks(), headers=_auth(), timeout=60)
    assert error_of(response) == (413, "BAD_REQUEST")
    leftovers = [p for p in root.rglob("*") if p.is_file()]
    assert leftovers == []
    small = requests.put(url, data=b"ok" * 1000, headers=_auth(), timeout=60)
    assert small.status_code == 200
    assert (root / "0" / "run" / "artifacts" / "big.bin").read_bytes() == b"ok" * 1000


def _raw(server: ServerProcess, method: str, target: str, body: bytes | None = None):
    """Send the request target byte for byte (HTTP libraries would normalize '..' away)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Length": str(len(body or b""))}
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


ESCAPES = [
    "../../escaped.txt",
    "0/../../escaped.txt",
    "%2e%2e/%2e%2e/escaped.txt",
    "%2E%2E%2F%2E%2E%2Fescaped.txt",
    "%252e%252e/%252e%252e/escaped.txt",
    "..%5c..%5cescaped.txt",
    "..\\..\\escaped.txt",
    "/etc/escaped.txt",
    "%2fetc%2fescaped.txt",
    "C:/escaped.txt",
    "ok/%00/escaped.txt",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_artifact_paths_that_escape_are_refused(guarded, path):
    import json

    status, body = _raw(guarded, "PUT", f"{ARTIFACTS}/{path}", b"owned")
    assert status == 400, (path, body)
    assert json.loads(body)["error_code"] == "INVALID_PARAMETER_VALUE"
    status, body = _raw(guarded, "GET", f"{ARTIFACTS}/{path}")
    assert status == 400, (path, body)
    status, body = _raw(guarded, "GET", f"{ARTIFACTS}?path={path.replace('/', '%2F')}")
    assert status == 400, (path, body)
    status, body = _raw(guarded, "DELETE", f"{ARTIFACTS}/{path}")
    assert status == 400, (path, body)
    workdir = guarded.log_path.parent
    assert not list(workdir.parent.rglob("escaped.txt"))


def test_download_cannot_read_the_database(guarded):
    # The SQLite file sits beside the artifact folder: one '..' away.
    status, _ = _raw(guarded, "GET", f"{ARTIFACTS}/../flightlog.db")
    assert status == 400
