"""Many clients at once, and a server killed mid-run: every point is stored exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flightlog.server.process import ServerProcess
from flightlog.store.rest import RestStore

WORKER = str(Path(__file__).with_name("log_worker.py"))


def _spawn(url: str, experiment_id: str, name: str, points: int, *pace: str, spool: Path, **env):
    child_env = dict(os.environ)
    for var in ("FLIGHTLOG_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        child_env.pop(var, None)
    child_env.update(FLIGHTLOG_SPOOL_DIR=str(spool), **env)
    return subprocess.Popen(
        [sys.executable, WORKER, url, experiment_id, name, str(points), *pace],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env,
    )


def _steps(store: RestStore, run_id: str) -> list[int]:
    return [m.step for m in store.get_metric_history(run_id, "loss")]


@pytest.mark.slow
def test_eight_clients_store_exactly_400000_points(server, tmp_path):
    store = RestStore(server.url)
    exp_id = store.create_experiment("load")
    workers = [
        _spawn(server.url, exp_id, f"w{i}", 50_000, spool=tmp_path / "spool") for i in range(8)
    ]
    results = []
    for proc in workers:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        lines = [json.loads(line) for line in out.splitlines()]
        assert lines[-1]["done"] and lines[-1]["flushed"], lines[-1]
        results.append(lines)

    total = 0
    for lines in results:
        steps = _steps(store, lines[0]["run_id"])
        assert steps == list(range(50_000))  # each point once, in order
        total += len(steps)
    assert total == 400_000
    assert all(lines[-1]["stats"]["failed"] == 0 for lines in results)


@pytest.mark.slow
@pytest.mark.parametrize("client_retries", ["default", "short"])
def test_server_killed_and_restarted_loses_and_repeats_nothing(tmp_path, client_retries):
    """SIGKILL the server while a client logs; restart it 5 s later on the same port. The
    client's loop never raises, and every point it logged is stored exactly once. With default
    retries the REST store waits the outage out; with short ones the queue spools and replays."""
    workdir = tmp_path / "server"
    server = ServerProcess.flightlog(workdir).start(timeout=120)
    env = {}
    if client_retries == "short":
        env = {
            "FLIGHTLOG_HTTP_REQUEST_MAX_RETRIES": "1",
            "FLIGHTLOG_HTTP_REQUEST_BACKOFF_FACTOR": "0.1",
        }
    points = 12_000
    try:
        exp_id = RestStore(server.url).create_experiment("fault")
        # ~4000 points/s for ~3 s: the kill lands mid-run, with batches in flight.
        client = _spawn(
            server.url, exp_id, "victim", points, "400", "0.1", spool=tmp_path / "spool", **env
        )
        first = json.loads(client.stdout.readline())
        assert "run_id" in first
        for _ in range(5):  # let it log ~2000 points
            json.loads(client.stdout.readline())
        server.kill()
        killed_at = time.monotonic()
        time.sleep(5)
        server.start(timeout=120)
        outage = time.monotonic() - killed_at
        out, err = client.communicate(timeout=180)
        assert client.returncode == 0, err[-3000:]
        last = json.loads(out.splitlines()[-1])
        assert last["done"] and last["flushed"], last
        assert last["stats"]["failed"] == 0, last["stats"]
        steps = _steps(RestStore(server.url), first["run_id"])
        assert len(steps) == points, (len(steps), len(set(steps)), last["stats"])
        assert steps == list(range(points))
        assert outage >= 5
        if client_retries == "short":
            assert last["stats"]["spooled"] > 0, last["stats"]  # the spool path was taken
    finally:
        server.stop()
