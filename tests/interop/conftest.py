"""Peers for the interop tests: a real `mlflow server` and a `flightlog server`, one of each per
module, started as subprocesses on free 127.0.0.1 ports (bounded waits) and stopped by PID."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flightlog.server.process import ServerProcess

HERE = Path(__file__).parent

pytest.importorskip("mlflow")


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.interop)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    # mlflow server takes 10-20 s to start: once per module, with a bounded wait.
    proc = ServerProcess.mlflow(tmp_path_factory.mktemp("mlflow-server"))
    proc.start(timeout=120)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def flightlog_server(tmp_path_factory):
    proc = ServerProcess.flightlog(tmp_path_factory.mktemp("flightlog-server"))
    proc.start(timeout=120)
    yield proc
    proc.stop()


def run_mlflow_peer(*args: str, tmp_path: Path) -> dict:
    """Run mlflow_peer.py with the official client; its last stdout line is JSON."""
    env = dict(os.environ)
    for var in ("FLIGHTLOG_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        env.pop(var, None)
    env["PYTHONPATH"] = str(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "2"  # fail fast instead of minutes of backoff
    result = subprocess.run(
        [sys.executable, str(HERE / "mlflow_peer.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
