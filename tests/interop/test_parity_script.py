"""The parity script's mechanics (mlflow_parity.py + the mlflow_parity_swap plugin) on a small
MLflow-style test tree written here: its fixture starts `python -m mlflow server` as MLflow's
own fixtures do; the script runs it as it is and swapped, and reports both. (Running MLflow's
real test files needs an MLflow checkout: see docs/server.md.)"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mlflow")

HERE = Path(__file__).parent

FAKE_TESTS = textwrap.dedent(
    """
    import os, socket, subprocess, sys, time

    import mlflow
    import pytest
    import requests
    from mlflow import MlflowClient


    def _free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


    @pytest.fixture(scope="module")
    def url(tmp_path_factory):
        root = tmp_path_factory.mktemp("server")
        port = _free_port()
        store = f"sqlite:///{root / 'mlflow.db'}"
        env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
        env["_MLFLOW_SERVER_FILE_STORE"] = store
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
             str(port), "--workers", "1", "--backend-store-uri", store,
             "--default-artifact-root", (root / "artifacts").as_uri()],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        with open(os.environ["PARITY_WHO"], "a") as f:
            f.write(requests.get(base + "/version", timeout=10).text + "\\n")
        yield base
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)


    def test_experiment_and_metrics(url):
        client = MlflowClient(url)
        experiment_id = client.create_experiment("parity")
        run = client.create_run(experiment_id)
        for step in range(5):
            client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
        history = client.get_metric_history(run.info.run_id, "loss")
        assert [m.step for m in history] == list(range(5))


    def test_artifacts_round_trip(url, tmp_path):
        client = MlflowClient(url)
        run = client.create_run(client.create_experiment("parity-artifacts"))
        client.log_text(run.info.run_id, "hello", "a/b.txt")
        assert [f.path for f in client.list_artifacts(run.info.run_id, "a")] == ["a/b.txt"]


    def test_trace_only_mlflow_serves(url):
        # out of scope by name; passes only where the server is MLflow itself
        assert requests.get(url + "/version", timeout=10).text == mlflow.__version__
    """
)


def test_parity_script_swaps_the_server_and_reports(tmp_path):
    checkout = tmp_path / "mlflow-checkout"
    (checkout / "tests" / "tracking").mkdir(parents=True)
    (checkout / "tests" / "__init__.py").write_text("")
    (checkout / "tests" / "tracking" / "__init__.py").write_text("")
    (checkout / "tests" / "tracking" / "test_rest_tracking.py").write_text(FAKE_TESTS)
    who = tmp_path / "who.txt"
    result = subprocess.run(
        [sys.executable, str(HERE / "mlflow_parity.py"), str(checkout), "--verbose"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**__import__("os").environ, "PARITY_WHO": str(who)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    row = next(
        line for line in result.stdout.splitlines() if line.startswith("tests/tracking/test_rest")
    )
    # tests, mlflow passes, flightlog passes, in scope (mlflow), both, out of scope, swaps
    assert row.split()[1:] == ["3", "3", "2", "2", "2", "1", "1"], result.stdout
    import mlflow

    import flightlog

    # the first run met MLflow's server, the second a flightlog server
    assert who.read_text().splitlines() == [mlflow.__version__, flightlog.__version__]
