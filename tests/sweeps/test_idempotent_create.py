"""runs/create is idempotent by a client-chosen run id (the Idempotency-Key header over REST):
a retried request whose answer was lost makes one run; N creators of one sweep make one parent."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import uuid

import pytest

import flightlog
from flightlog.entities import RunTag
from flightlog.exceptions import InvalidParameterError
from flightlog.server.process import ServerProcess
from flightlog.store.rest import RestStore


class AnswerDroppingProxy:
    """Loopback TCP proxy: forwards each HTTP request to the server, and for the first `drops`
    requests whose request line contains `match` reads the server's answer and hangs up
    instead of relaying it (the server committed; the client never hears)."""

    def __init__(self, port: int, match: bytes, drops: int = 1) -> None:
        self.port, self.match, self.drops = port, match, drops
        self.seen: list[bytes] = []
        self.dropped = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _message(sock: socket.socket, buf: bytes) -> tuple[bytes | None, bytes]:
        while b"\r\n\r\n" not in buf:
            data = sock.recv(65536)
            if not data:
                return None, b""
            buf += data
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            data = sock.recv(65536)
            if not data:
                return None, b""
            rest += data
        return head + b"\r\n\r\n" + rest[:length], rest[length:]

    def _serve(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.port))
        a, b = b"", b""
        try:
            while True:
                request, a = self._message(conn, a)
                if request is None:
                    return
                upstream.sendall(request)
                answer, b = self._message(upstream, b)
                if answer is None:
                    return
                line = request.split(b"\r\n", 1)[0]
                self.seen.append(line)
                if self.match in line and self.dropped < self.drops:
                    self.dropped += 1
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                conn.sendall(answer)
        except OSError:
            return
        finally:
            conn.close()
            upstream.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = ServerProcess.flightlog(tmp_path_factory.mktemp("idempotent-server"))
    proc.start(timeout=120)
    try:
        yield proc
    finally:
        proc.stop()


def _runs(url: str, experiment_id: str) -> list:
    return list(flightlog.TrackingClient(url).search_runs([experiment_id]))


def test_a_lost_runs_create_answer_retried_makes_one_run(server):
    exp = flightlog.TrackingClient(server.url).create_experiment(f"lost-{uuid.uuid4().hex[:6]}")
    proxy = AnswerDroppingProxy(server.port, b"/runs/create")
    try:
        store = RestStore(proxy.url)
        run = store.create_run(exp, "me", 1, [RunTag("k", "v")], "once")
    finally:
        proxy.close()
    creates = [line for line in proxy.seen if b"/runs/create" in line]
    assert proxy.dropped == 1 and len(creates) == 2  # the first answer was lost, then a retry
    runs = _runs(server.url, exp)
    assert [r.info.run_id for r in runs] == [run.info.run_id]
    assert runs[0].data.tags["k"] == "v"


def test_without_the_key_the_same_loss_makes_two_runs(server):
    """The proxy really drops answers: a client that retries without a key duplicates."""
    import requests

    exp = flightlog.TrackingClient(server.url).create_experiment(f"nokey-{uuid.uuid4().hex[:6]}")
    proxy = AnswerDroppingProxy(server.port, b"/runs/create")
    try:
        url = f"{proxy.url}/api/2.0/mlflow/runs/create"
        with pytest.raises(requests.ConnectionError):
            requests.post(url, json={"experiment_id": exp}, timeout=60)
        requests.post(url, json={"experiment_id": exp}, timeout=60).raise_for_status()
    finally:
        proxy.close()
    assert len(_runs(server.url, exp)) == 2


def test_any_idempotency_key_names_one_run_and_a_foreign_experiment_is_refused(server):
    import requests

    client = flightlog.TrackingClient(server.url)
    exp = client.create_experiment(f"keys-{uuid.uuid4().hex[:6]}")
    other = client.create_experiment(f"keys-other-{uuid.uuid4().hex[:6]}")
    url = f"{server.url}/api/2.0/mlflow/runs/create"
    headers = {"Idempotency-Key": "job-42/attempt"}
    first = requests.post(url, json={"experiment_id": exp}, headers=headers, timeout=60)
    again = requests.post(url, json={"experiment_id": exp}, headers=headers, timeout=60)
    assert first.status_code == again.status_code == 200
    assert first.json()["run"]["info"]["run_id"] == again.json()["run"]["info"]["run_id"]
    wrong = requests.post(url, json={"experiment_id": other}, headers=headers, timeout=60)
    assert wrong.status_code == 400
    assert wrong.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "exists already" in wrong.json()["message"]
    assert len(_runs(server.url, exp)) == 1 and _runs(server.url, other) == []


def test_create_run_with_a_run_id_is_idempotent_under_a_race(store_target):
    """Eight stores (own connections) create the same run id at once: one run, one answer."""
    stores = [store_target.open() for _ in range(8)]
    run_id = uuid.uuid4().hex
    barrier = threading.Barrier(len(stores))
    results, errors = [], []

    def create(store) -> None:
        try:
            barrier.wait(timeout=60)
            results.append(store.create_run("0", "u", 1, [RunTag("who", "x")], None, run_id=run_id))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert {r.info.run_id for r in results} == {run_id}
        assert len(stores[0].search_runs(["0"], "", 1, 100, None, None)) == 1
        with pytest.raises(InvalidParameterError, match="32 lowercase hex"):
            stores[0].create_run("0", "u", 1, [], None, run_id="not-an-id")
    finally:
        for store in stores:
            store.close()


SWEEP_SCRIPT = """
import sys, flightlog
with flightlog.sweep("race") as parent:
    for i in range(5):
        with parent.trial(params={"proc": sys.argv[1], "i": i}) as trial:
            trial.set_value(float(i))
print(parent.info.run_id)
"""


def test_processes_opening_one_sweep_at_once_get_one_parent(store_target):
    env = dict(os.environ, FLIGHTLOG_TRACKING_URI=store_target.uri)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEP_SCRIPT, str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    ids = set()
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        ids.add(out.strip().splitlines()[-1])
    assert len(ids) == 1
    client = flightlog.TrackingClient(store_target.uri)
    runs = list(client.search_runs(["0"], max_results=1000))
    parents = [r for r in runs if "flightlog.sweep.key" in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == ids.copy().pop()]
    assert len(parents) == 1 and len(children) == 15 and len(runs) == 16
    parent = client.get_run(parents[0].info.run_id)
    assert parent.data.tags["flightlog.sweep.n_complete"] == "15"
    assert parent.info.status == "FINISHED"
