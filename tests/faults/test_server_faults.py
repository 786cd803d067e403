"""Faults on the server side, seen from the client: the server's own disk full (issue 12 item
2), any 5xx answer (retried, then spooled; a 4xx stays a refusal)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fault_helpers import env_for, fill, finish, points, read_json_line, run_status, start, tell

from flightlog.entities import Metric, RunTag
from flightlog.exceptions import InvalidParameterError, StoreUnavailableError
from flightlog.rest_client import RestClient
from flightlog.server.process import ServerProcess
from flightlog.store.rest import RestStore

N = 30_000

SCRIPT = """
import json, os, sys, time
import flightlog

n = int(os.environ["N"])
with flightlog.start_run() as run:
    print(json.dumps({"run": run.info.run_id}), flush=True)
    for i in range(n):
        flightlog.log_metric("loss", float(i), step=i)
    stored = flightlog.flush(timeout=120)
    print(json.dumps({"full": stored, "stats": flightlog.queue_stats()}), flush=True)
    sys.stdin.readline()  # the test frees the server's disk
    t0 = time.monotonic()
    stored = False
    while not stored and time.monotonic() - t0 < 240:
        stored = flightlog.flush(timeout=5)
    print(json.dumps({"recovered": stored, "stats": flightlog.queue_stats()}), flush=True)
"""


def test_the_servers_disk_full_loses_nothing_and_stores_each_point_once(
    tmp_path, small_disk, spool_dir
):
    disk = small_disk("serverdisk", 96 * 1024)
    db = disk / "flightlog.db"
    server = ServerProcess.flightlog(tmp_path / "server", backend_store_uri=f"sqlite:///{db}")
    with server:  # started, and stopped at the end
        filler = fill(disk, leave=1 << 20)
        env = env_for(
            server.url,
            spool_dir,
            N=str(N),
            FLIGHTLOG_HTTP_REQUEST_MAX_RETRIES="2",
            FLIGHTLOG_HTTP_REQUEST_BACKOFF_FACTOR="0.1",
        )
        proc = start(SCRIPT, env, tmp_path)
        run_id = read_json_line(proc, "run")["run"]
        full = read_json_line(proc, "full", timeout=300)
        assert full["full"] is False, full  # not all stored: flush says so
        assert full["stats"]["failed"] == 0 and full["stats"]["lost"] == 0, full
        filler.unlink()
        tell(proc, "freed")
        recovered = read_json_line(proc, "recovered", timeout=400)
        code, _, err, _ = finish(proc, timeout=120)
        assert recovered["recovered"] is True, (recovered, err[-3000:])
        assert recovered["stats"]["failed"] == 0, recovered
        assert code == 0, err[-3000:]
        assert points(db, run_id, "loss") == list(range(N))
        assert run_status(db, run_id) == "FINISHED"


class _Answer(BaseHTTPRequestHandler):
    status = 500
    body = b'{"error_code": "INTERNAL_ERROR", "message": "database or disk is full"}'
    seen = 0

    def do_POST(self):  # noqa: N802 - http.server's name
        type(self).seen += 1
        if self.command == "POST":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST  # noqa: N815 - RestStore reads the run back after an ambiguous answer

    def log_message(self, *args):
        pass


@pytest.fixture
def answering_server():
    """A real HTTP server on 127.0.0.1 that answers every POST with the class's status/body."""
    servers = []

    def make(status: int, body: bytes):
        handler = type("Handler", (_Answer,), {"status": status, "body": body, "seen": 0})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        return RestStore(url, client=RestClient(url, max_retries=2, backoff_factor=0.01)), handler

    yield make
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 507])
def test_a_5xx_with_error_json_is_retried_and_then_unavailable(answering_server, status):
    body = json.dumps({"error_code": "INTERNAL_ERROR", "message": "disk is full"}).encode()
    store, handler = answering_server(status, body)
    with pytest.raises(StoreUnavailableError):
        store.log_batch("0" * 32, [Metric("m", 1.0, 1, 0)])
    assert handler.seen >= 2  # tried again (or read back), not taken as a final answer


def test_a_4xx_stays_a_refusal(answering_server):
    body = json.dumps({"error_code": "INVALID_PARAMETER_VALUE", "message": "bad key"}).encode()
    store, handler = answering_server(400, body)
    with pytest.raises(InvalidParameterError, match="bad key"):
        store.log_batch("0" * 32, [Metric("m", 1.0, 1, 0)])
    assert handler.seen == 1


def test_the_batch_id_header_is_checked_and_honoured_by_the_server(tmp_path):
    import requests

    with ServerProcess.flightlog(tmp_path / "server") as server:
        store = RestStore(server.url)
        run_id = store.create_run("0", "tester", 0, [], None).info.run_id
        url = server.url + "/api/2.0/mlflow/runs/log-batch"
        body = {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 1}]}
        bad = requests.post(url, json=body, headers={"X-Flightlog-Batch-Id": "x" * 65}, timeout=30)
        assert bad.status_code == 400, bad.text
        assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        body["tags"] = [{"key": "phase", "value": "a"}]
        for _ in range(2):
            ok = requests.post(url, json=body, headers={"X-Flightlog-Batch-Id": "b-1"}, timeout=30)
            assert ok.status_code == 200, ok.text
        store.log_batch(run_id, tags=[RunTag("phase", "b")], batch_id="b-2")
        again = requests.post(url, json=body, headers={"X-Flightlog-Batch-Id": "b-1"}, timeout=30)
        assert again.status_code == 200
        assert store.get_run(run_id).data.tags["phase"] == "b"  # the re-sent batch was skipped
        assert [m.step for m in store.get_metric_history(run_id, "m")] == [1]
