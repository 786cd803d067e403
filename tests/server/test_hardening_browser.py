"""DNS rebinding and cross-origin simple requests, from a real second origin in real Chromium.

Chromium runs with `--host-resolver-rules` mapping `evil.test` to 127.0.0.1, so a page on
`http://evil.test:<port>` is a different origin that reaches this machine's servers: what an
attacker's page gets once its DNS name is re-pointed at the victim's loopback.

Before issue 12 (items 6 and 7) both attacks worked against `flightlog server`. Run against the
code of commit 6aa4cac (the last before the fix), these same scripts gave: the rebound page's
read of a run holding `db_password` answered 200 with the value, and the cross-origin `no-cors`
`text/plain` POST to runs/log-batch stored the metric (runs/log-batch parsed its body whatever
its Content-Type). The control test below shows the rebinding read still succeeds when the Host
check is switched off (`--allowed-hosts '*'`), so the setup itself carries the attack.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from flightlog.server.process import ServerProcess

CHROMIUM = os.environ.get("FLIGHTLOG_TEST_CHROMIUM", "/usr/bin/chromium")
API = "/api/2.0/mlflow"
WAIT_MS = 20_000


def _unavailable(message: str):
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def evil_browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                # The attacker's name resolves to this machine, as after a DNS rebinding.
                "--host-resolver-rules=MAP evil.test 127.0.0.1",
                # Loopback is the "private network"; let the page try (the server must refuse).
                "--disable-features=PrivateNetworkAccessRespectPreflightResults,"
                "BlockInsecurePrivateNetworkRequests,LocalNetworkAccessChecks",
            ],
        )
    except Exception as exc:  # noqa: BLE001 - any launch failure means "no browser here"
        manager.stop()
        _unavailable(f"Chromium at {CHROMIUM} did not start: {exc}".splitlines()[0])
    try:
        yield browser
    finally:
        browser.close()
        manager.stop()


class _AttackerSite:
    """A real second web server (its own port) serving the attacker's empty page."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's spelling
                body = b"<!doctype html><title>attacker</title><p>hello"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def attacker_site() -> Iterator[_AttackerSite]:
    site = _AttackerSite()
    yield site
    site.close()


def _start(tmp_path_factory, name: str, extra_args=()) -> ServerProcess:
    proc = ServerProcess.flightlog(tmp_path_factory.mktemp(name), extra_args=list(extra_args))
    proc.start(timeout=60)
    return proc


@pytest.fixture(scope="module")
def victim(tmp_path_factory) -> Iterator[ServerProcess]:
    proc = _start(tmp_path_factory, "victim")
    yield proc
    proc.stop()


def _secret_run(server: ServerProcess) -> str:
    """A run holding a param the attacker wants, in a fresh experiment."""
    exp = requests.post(
        f"{server.url}{API}/experiments/create", json={"name": os.urandom(6).hex()}, timeout=30
    ).json()["experiment_id"]
    run_id = requests.post(
        f"{server.url}{API}/runs/create",
        json={"experiment_id": exp, "run_name": "mine"},
        timeout=30,
    ).json()["run"]["info"]["run_id"]
    requests.post(
        f"{server.url}{API}/runs/log-parameter",
        json={"run_id": run_id, "key": "db_password", "value": "hunter2"},
        timeout=30,
    ).raise_for_status()
    return run_id


REBOUND_SCRIPT = """async ([runId]) => {
  const out = {};
  const read = await fetch(`/api/2.0/mlflow/runs/get?run_id=${runId}`);
  out.readStatus = read.status;
  out.readBody = await read.text();
  const created = await fetch("/api/2.0/mlflow/experiments/create", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({name: "rebound-" + runId}),
  });
  out.createStatus = created.status;
  return out;
}"""


def _rebound_page(browser, server: ServerProcess):
    """A page whose origin is http://evil.test:<server port>: its own requests go, by the
    rebound name, to the server. The page itself is the attacker's (served from memory)."""
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    entry = f"http://evil.test:{server.port}/attack.html"
    page.route(
        entry,
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><p>attacker"
        ),
    )
    page.goto(entry)
    return context, page


def _experiment_names(server: ServerProcess) -> list[str]:
    body = requests.post(f"{server.url}{API}/experiments/search", json={}, timeout=30).json()
    return [e["name"] for e in body["experiments"]]


def test_rebound_page_can_neither_read_nor_write(evil_browser, victim):
    run_id = _secret_run(victim)
    context, page = _rebound_page(evil_browser, victim)
    try:
        result = page.evaluate(REBOUND_SCRIPT, [run_id])
    finally:
        context.close()
    assert result["readStatus"] == 403, result
    assert "hunter2" not in result["readBody"]
    assert "Invalid Host header" in result["readBody"]
    assert result["createStatus"] == 403, result
    assert f"rebound-{run_id}" not in _experiment_names(victim)


def test_control_rebinding_works_when_the_host_check_is_off(evil_browser, tmp_path_factory):
    """The same page against a server told to accept any Host: the attack goes through, so the
    test above fails for the right reason (this is how every server behaved before the fix)."""
    open_server = _start(tmp_path_factory, "open", ["--allowed-hosts", "*"])
    try:
        run_id = _secret_run(open_server)
        context, page = _rebound_page(evil_browser, open_server)
        try:
            result = page.evaluate(REBOUND_SCRIPT, [run_id])
        finally:
            context.close()
        assert result["readStatus"] == 200, result
        assert "hunter2" in result["readBody"]
        assert result["createStatus"] == 200
        assert f"rebound-{run_id}" in _experiment_names(open_server)
    finally:
        open_server.stop()


CROSS_ORIGIN_SCRIPT = """async ([base, runId]) => {
  const results = [];
  const bodies = [
    ["runs/log-batch", {run_id: runId, metrics: [{key: "stolen", value: 1, timestamp: 1, step: 0}]}],
    ["runs/update", {run_id: runId, run_name: "pwned"}],
    ["runs/set-tag", {run_id: runId, key: "pwned", value: "1"}],
  ];
  for (const [endpoint, body] of bodies) {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
      try {
        const r = await fetch(`${base}/api/2.0/mlflow/${endpoint}`, {
          method: "POST", mode: "no-cors", headers: {"Content-Type": type},
          body: JSON.stringify(body),
        });
        results.push([endpoint, type, r.type]);
      } catch (e) {
        results.push([endpoint, type, String(e)]);
      }
    }
  }
  return results;
}"""


def test_cross_origin_no_cors_posts_change_nothing(evil_browser, victim, attacker_site):
    run_id = _secret_run(victim)
    context = evil_browser.new_context()
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    seen: list[int] = []
    page.on(
        "response",
        lambda response: seen.append(response.status) if API in response.url else None,
    )
    try:
        page.goto(f"http://evil.test:{attacker_site.port}/")
        results = page.evaluate(CROSS_ORIGIN_SCRIPT, [victim.url, run_id])
    finally:
        context.close()
    assert len(results) == 9
    # The requests did reach the server (opaque answers), and it refused every one.
    assert all(r[2] == "opaque" for r in results), results
    run = requests.get(f"{victim.url}{API}/runs/get", params={"run_id": run_id}, timeout=30)
    data = run.json()["run"]
    assert data["data"]["metrics"] == []
    assert data["info"]["run_name"] == "mine"
    assert "pwned" not in {t["key"] for t in data["data"]["tags"]}
