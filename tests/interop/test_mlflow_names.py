"""MLflow names that real scripts use and that once crashed under `import flightlog as mlflow`
(issue 13 items 4 and 5): `ActiveRun._info` and `python -m flightlog server`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import flightlog


def test_active_run_private_info_is_the_run_info(tmp_path):
    flightlog.set_tracking_uri(str(tmp_path / "runs"))
    try:
        with flightlog.start_run() as run:
            # MLflow's sklearn pipeline example reads run._info.run_id
            assert run._info is run.info
            assert run._info.run_id == flightlog.active_run().info.run_id
        assert flightlog.get_run(run._info.run_id).info.status == "FINISHED"
    finally:
        flightlog.set_tracking_uri(None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_dash_m_flightlog_server_serves(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("FLIGHTLOG_TRACKING_URI",)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flightlog",
            "server",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--no-access-log",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120  # generous: CI shares two cores
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search?max_results=5",
                    timeout=5,
                ) as reply:
                    body = json.loads(reply.read())
                break
            except OSError:
                time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        assert body is not None, "the server never answered"
        assert [e["name"] for e in body["experiments"]] == ["Default"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_python_dash_m_flightlog_without_command_prints_help():
    result = subprocess.run(
        [sys.executable, "-m", "flightlog"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "server" in result.stdout
