"""The server's doors (issue 12 items 6, 7, 8, 11) on real `flightlog server` processes.

Host allow-list (DNS rebinding), cross-origin writes, CORS only when configured, the JSON content
type, sessions revoked at sign-out, the token kept out of the process list, and errors that
answer 400 with a clear message while keeping the connection alive. The browser's side of the
same doors is in test_hardening_browser.py.
"""

from __future__ import annotations

import base64
import http.client
import json
import os

import pytest
import requests
from server_helpers import error_of

from flightlog.server.process import ServerProcess

API = "/api/2.0/mlflow"
TOKEN = "hardening-token-123"


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory):
    proc = ServerProcess.flightlog(
        tmp_path_factory.mktemp("cors"),
        extra_args=[
            "--allowed-hosts",
            "tracking.example.com,*.corp.example",
            "--cors-allowed-origins",
            "https://dash.example.com",
        ],
    )
    proc.start(timeout=60)
    yield proc
    proc.stop()


def _experiment_names(server) -> list[str]:
    body = requests.post(f"{server.url}{API}/experiments/search", json={}, timeout=30).json()
    return sorted(e["name"] for e in body["experiments"])


# --- item 6: Host allow-list -----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["evil.test", "evil.test:{port}", "localhost.evil.test:{port}", "127.0.0.1.nip.io:{port}"],
)
def test_foreign_host_names_are_refused(server, host):
    url = f"{server.url}{API}/experiments/search"
    response = requests.post(
        url, json={}, headers={"Host": host.format(port=server.port)}, timeout=30
    )
    assert error_of(response) == (403, "PERMISSION_DENIED")
    assert "Invalid Host header" in response.json()["message"]
    assert "--allowed-hosts" in response.json()["message"]
    # Writes are refused before anything is stored.
    created = requests.post(
        f"{server.url}{API}/experiments/create",
        json={"name": "rebound"},
        headers={"Host": host.format(port=server.port)},
        timeout=30,
    )
    assert created.status_code == 403
    assert "rebound" not in _experiment_names(server)


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}", "app.localhost"]
)
def test_own_names_are_answered(server, host):
    response = requests.get(
        f"{server.url}{API}/experiments/get",
        params={"experiment_id": "0"},
        headers={"Host": host.format(port=server.port)},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_health_answers_whatever_the_host(server):
    response = requests.get(f"{server.url}/health", headers={"Host": "lb.internal"}, timeout=30)
    assert response.status_code == 200


def test_allowed_hosts_widen_the_list(cors_server):
    for host in ("tracking.example.com", "tracking.example.com:443", "ci.corp.example"):
        response = requests.get(
            f"{cors_server.url}{API}/experiments/get",
            params={"experiment_id": "0"},
            headers={"Host": host},
            timeout=30,
        )
        assert response.status_code == 200, (host, response.text)
    response = requests.get(
        f"{cors_server.url}{API}/experiments/get",
        params={"experiment_id": "0"},
        headers={"Host": "corp.example.evil.test"},
        timeout=30,
    )
    assert response.status_code == 403


# --- item 6: cross-origin writes and CORS -----------------------------------------------------


def test_cross_origin_writes_are_refused_and_nothing_is_stored(server):
    for origin in ("http://evil.test:8000", "null", f"http://localhost:{server.port + 1}"):
        response = requests.post(
            f"{server.url}{API}/experiments/create",
            json={"name": f"from {origin}"},
            headers={"Origin": origin},
            timeout=30,
        )
        assert error_of(response) == (403, "PERMISSION_DENIED"), origin
        assert "Cross-origin request blocked" in response.json()["message"]
    assert not [n for n in _experiment_names(server) if n.startswith("from ")]
    # The server's own origin (its UI) may write.
    same = requests.post(
        f"{server.url}{API}/experiments/create",
        json={"name": "same-origin"},
        headers={"Origin": server.url},
        timeout=30,
    )
    assert same.status_code == 200, same.text


def test_cors_is_off_unless_configured(server):
    preflight = requests.options(
        f"{server.url}{API}/experiments/create",
        headers={"Origin": "https://dash.example.com", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    read = requests.get(
        f"{server.url}{API}/experiments/get",
        params={"experiment_id": "0"},
        headers={"Origin": "https://dash.example.com"},
        timeout=30,
    )
    assert "access-control-allow-origin" not in read.headers


def test_configured_origin_gets_cors(cors_server):
    origin = "https://dash.example.com"
    preflight = requests.options(
        f"{cors_server.url}{API}/experiments/create",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    created = requests.post(
        f"{cors_server.url}{API}/experiments/create",
        json={"name": "from-dash"},
        headers={"Origin": origin},
        timeout=30,
    )
    assert created.status_code == 200
    assert created.headers["access-control-allow-origin"] == origin
    other = requests.post(
        f"{cors_server.url}{API}/experiments/create",
        json={"name": "from-other"},
        headers={"Origin": "https://other.example.com"},
        timeout=30,
    )
    assert other.status_code == 403
    assert "from-dash" in _experiment_names(cors_server)
    assert "from-other" not in _experiment_names(cors_server)


# --- item 7: JSON content type ----------------------------------------------------------------


def _new_run(server) -> str:
    exp = requests.post(
        f"{server.url}{API}/experiments/create", json={"name": os.urandom(6).hex()}, timeout=30
    ).json()["experiment_id"]
    return requests.post(
        f"{server.url}{API}/runs/create", json={"experiment_id": exp}, timeout=30
    ).json()["run"]["info"]["run_id"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None],
)
def test_json_endpoints_refuse_other_content_types(server, content_type):
    """What a cross-origin `no-cors` fetch or a form can send without a preflight."""
    run_id = _new_run(server)
    batch = json.dumps(
        {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 0}]}
    ).encode()
    rename = json.dumps({"run_id": run_id, "run_name": "pwned"}).encode()
    session = requests.Session()
    for endpoint, body in (("runs/log-batch", batch), ("runs/update", rename)):
        request = requests.Request("POST", f"{server.url}{API}/{endpoint}", data=body)
        prepared = session.prepare_request(request)
        if content_type is None:
            prepared.headers.pop("Content-Type", None)
        else:
            prepared.headers["Content-Type"] = content_type
        response = session.send(prepared, timeout=30)
        assert error_of(response) == (415, "BAD_REQUEST"), (endpoint, content_type)
        assert "application/json" in response.json()["message"]
    run = requests.get(f"{server.url}{API}/runs/get", params={"run_id": run_id}, timeout=30)
    data = run.json()["run"]
    assert data["data"]["metrics"] == []
    assert data["info"]["run_name"] != "pwned"


def test_json_content_type_variants_are_accepted(server):
    run_id = _new_run(server)
    for i, content_type in enumerate(("application/json", "application/json; charset=utf-8")):
        body = json.dumps(
            {"run_id": run_id, "metrics": [{"key": "m", "value": i, "timestamp": 1, "step": i}]}
        )
        response = requests.post(
            f"{server.url}{API}/runs/log-batch",
            data=body,
            headers={"Content-Type": content_type},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    history = requests.get(
        f"{server.url}{API}/metrics/get-history",
        params={"run_id": run_id, "metric_key": "m"},
        timeout=30,
    ).json()["metrics"]
    assert sorted(p["step"] for p in history) == [0, 1]


def test_artifact_uploads_take_any_content_type(server):
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/0/ct/artifacts/a.txt"
    response = requests.put(url, data=b"hello", headers={"Content-Type": "text/plain"}, timeout=30)
    assert response.status_code == 200
    assert requests.get(url, timeout=30).content == b"hello"


# --- item 8: token from a file or the environment; sessions revoked at sign-out -----------------


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode()


def test_token_from_a_file_stays_out_of_the_process_list(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    proc = ServerProcess.flightlog(
        tmp_path / "srv", extra_args=["--auth-token-file", str(token_file)]
    )
    proc.start(timeout=60)
    try:
        assert TOKEN not in _cmdline(proc.pid)
        url = f"{proc.url}{API}/experiments/search"
        assert requests.post(url, json={}, timeout=30).status_code == 401
        ok = requests.post(url, json={}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert ok.status_code == 200
    finally:
        proc.stop()


def test_token_from_the_environment(tmp_path):
    env = dict(os.environ, FLIGHTLOG_SERVER_TOKEN=TOKEN)
    proc = ServerProcess.flightlog(tmp_path / "srv", env=env)
    proc.start(timeout=60)
    try:
        assert TOKEN not in _cmdline(proc.pid)
        url = f"{proc.url}{API}/experiments/search"
        assert requests.post(url, json={}, timeout=30).status_code == 401
        basic = base64.b64encode(f"me:{TOKEN}".encode()).decode()
        ok = requests.post(url, json={}, headers={"Authorization": f"Basic {basic}"}, timeout=30)
        assert ok.status_code == 200
    finally:
        proc.stop()


def test_help_says_where_the_token_can_come_from():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "flightlog.server", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    flat = " ".join(out.split())
    assert "--auth-token-file" in flat
    assert "FLIGHTLOG_SERVER_TOKEN" in flat
    assert "process list" in flat
    assert "--allowed-hosts" in flat and "--cors-allowed-origins" in flat


def test_a_missing_token_file_is_a_clear_error(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "flightlog.server", "--auth-token-file", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "auth token file" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_session_cookie_is_revoked_at_logout(tmp_path, workers):
    proc = ServerProcess.flightlog(
        tmp_path / "srv", extra_args=["--auth-token", TOKEN, "--workers", str(workers)]
    )
    proc.start(timeout=90)
    try:
        signin = requests.post(
            f"{proc.url}/login",
            data={"token": TOKEN, "next": "/"},
            allow_redirects=False,
            timeout=30,
        )
        assert signin.status_code == 303
        cookie = signin.cookies["flightlog_session"]
        jar = {"flightlog_session": cookie}
        exp_url = f"{proc.url}{API}/experiments/get"
        # Several requests: with two workers they land on both.
        for _ in range(6):
            ok = requests.get(exp_url, params={"experiment_id": "0"}, cookies=jar, timeout=30)
            assert ok.status_code == 200
        out = requests.get(f"{proc.url}/logout", cookies=jar, allow_redirects=False, timeout=30)
        assert out.status_code == 303
        for _ in range(6):
            after = requests.get(exp_url, params={"experiment_id": "0"}, cookies=jar, timeout=30)
            assert error_of(after) == (401, "UNAUTHENTICATED")
    finally:
        proc.stop()


def test_cookie_writes_need_the_ui_header_and_the_same_origin(tmp_path):
    proc = ServerProcess.flightlog(tmp_path / "srv", extra_args=["--auth-token", TOKEN])
    proc.start(timeout=60)
    try:
        signin = requests.post(
            f"{proc.url}/login", data={"token": TOKEN}, allow_redirects=False, timeout=30
        )
        jar = {"flightlog_session": signin.cookies["flightlog_session"]}
        url = f"{proc.url}{API}/experiments/create"
        refused = [
            {},  # no UI header: what a form post could send
            {"X-Flightlog-UI": "1", "Sec-Fetch-Site": "cross-site"},
            {"X-Flightlog-UI": "1", "Sec-Fetch-Site": "same-site"},
        ]
        for i, headers in enumerate(refused):
            response = requests.post(
                url, json={"name": f"csrf-{i}"}, headers=headers, cookies=jar, timeout=30
            )
            assert error_of(response) == (401, "UNAUTHENTICATED"), headers
        allowed = requests.post(
            url,
            json={"name": "ui-write"},
            headers={"X-Flightlog-UI": "1", "Sec-Fetch-Site": "same-origin", "Origin": proc.url},
            cookies=jar,
            timeout=30,
        )
        assert allowed.status_code == 200, allowed.text
        names = requests.post(
            f"{proc.url}{API}/experiments/search",
            json={},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        ).json()["experiments"]
        assert sorted(e["name"] for e in names if e["name"] != "Default") == ["ui-write"]
    finally:
        proc.stop()


# --- item 11: clear 400s, and the connection survives them ------------------------------------


def _raw_post(conn: http.client.HTTPConnection, path: str, body: str | bytes):
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def test_deep_nesting_is_a_400_and_keeps_the_connection(server):
    run_id = _new_run(server)
    deep_batch = f'{{"run_id": "{run_id}", "metrics": ' + "[" * 10_000 + "]" * 10_000 + "}"
    deep_filter = json.dumps(
        {"experiment_ids": ["0"], "filter": "(" * 500 + "params.a = '1'" + ")" * 500}
    )
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.connect()
        local = conn.sock.getsockname()
        for path, body in (
            (f"{API}/runs/log-batch", deep_batch),
            (f"{API}/runs/search", deep_filter),
        ):
            status, payload = _raw_post(conn, path, body)
            assert status == 400, payload
            assert payload["error_code"] == "INVALID_PARAMETER_VALUE"
            assert "nested" in payload["message"]
        # The same connection (same local port) answers the next request.
        status, payload = _raw_post(conn, f"{API}/experiments/search", "{}")
        assert status == 200 and payload["experiments"]
        assert conn.sock.getsockname() == local
    finally:
        conn.close()


def _token(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize("offset", [2**63, 2**64, -1, -(2**63) - 1])
def test_out_of_range_page_tokens_are_400(server, offset):
    run_id = _new_run(server)
    token = _token({"offset": offset})
    history_token = _token({"step": offset, "timestamp": offset, "id": offset})
    calls = [
        ("POST", f"{API}/runs/search", {"experiment_ids": ["0"], "page_token": token}),
        ("POST", f"{API}/experiments/search", {"page_token": token}),
        ("GET", f"{API}/registered-models/search", {"page_token": token}),
        ("GET", f"{API}/model-versions/search", {"page_token": token}),
    ]
    if not -(2**63) <= offset < 2**63:  # steps and timestamps may be negative, not past int64
        calls.append(
            (
                "GET",
                f"{API}/metrics/get-history",
                {
                    "run_id": run_id,
                    "metric_key": "m",
                    "page_token": history_token,
                    "max_results": 5,
                },
            )
        )
    session = requests.Session()
    for method, path, body in calls:
        if method == "GET":
            response = session.get(f"{server.url}{path}", params=body, timeout=30)
        else:
            response = session.post(f"{server.url}{path}", json=body, timeout=30)
        assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), (path, response.text)
        assert "page token" in response.json()["message"].lower()


def test_huge_model_version_is_400(server):
    response = requests.get(
        f"{server.url}{API}/model-versions/get",
        params={"name": "m", "version": "99999999999999999999"},
        timeout=30,
    )
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize(
    "what",
    ["or-5000", "and-2000", "order-by-200", "parens-400"],
)
def test_oversized_searches_are_400(server, what):
    body: dict = {"experiment_ids": ["0"]}
    if what == "or-5000":
        body["filter"] = " OR ".join(f"params.p{i} = 'a'" for i in range(5000))
    elif what == "and-2000":
        body["filter"] = " AND ".join(f"params.p{i} = 'a'" for i in range(2000))
    elif what == "order-by-200":
        body["order_by"] = [f"params.p{i}" for i in range(200)]
    else:
        body["filter"] = "(" * 400 + "params.a = '1'" + ")" * 400
    response = requests.post(f"{server.url}{API}/runs/search", json=body, timeout=120)
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), response.text[:300]
    message = response.json()["message"]
    assert "at most" in message or "nested" in message


def test_long_artifact_names_on_ui_routes_are_not_500(server):
    run_id = _new_run(server)
    run = requests.get(f"{server.url}{API}/runs/get", params={"run_id": run_id}, timeout=30)
    root = run.json()["run"]["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    put = requests.put(
        f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{root}/dir/x.txt", data=b"x", timeout=30
    )
    assert put.status_code == 200
    long = "a" * 300  # longer than a file name may be (255 bytes)
    for route in ("list", "file", "download", "model"):
        for path in (long, f"dir/{long}", f"{long}/x.txt"):
            response = requests.get(
                f"{server.url}/ui-api/artifacts/{route}",
                params={"run_id": run_id, "path": path},
                timeout=30,
            )
            assert response.status_code < 500, (route, path, response.text[:200])
            if response.status_code >= 400:
                assert error_of(response)[1] in (
                    "INVALID_PARAMETER_VALUE",
                    "RESOURCE_DOES_NOT_EXIST",
                )


def test_error_messages_redact_uri_passwords(server):
    secret = "PASSWORD-not-for-logs"
    response = requests.get(
        f"{server.url}{API}/experiments/get-by-name",
        params={"experiment_name": f"postgresql://admin:{secret}@db.internal:5432/prod"},
        timeout=30,
    )
    assert error_of(response) == (404, "RESOURCE_DOES_NOT_EXIST")
    message = response.json()["message"]
    assert secret not in message
    assert "postgresql://admin:***@db.internal:5432/prod" in message


def test_redaction_rules():
    from flightlog.server.errors import redact_uri_passwords as redact

    assert redact("see http://u:p@h/x and s3://b/k@v") == "see http://u:***@h/x and s3://b/k@v"
    assert redact("mysql+pymysql://root:@127.0.0.1/db") == "mysql+pymysql://root:***@127.0.0.1/db"
    assert redact("no uri here, a@b") == "no uri here, a@b"
