"""Several server workers over one PostgreSQL store: concurrent clients, nothing lost or doubled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from flightlog.server.process import ServerProcess
from flightlog.store.rest import RestStore

WORKER = str(Path(__file__).with_name("log_worker.py"))


@pytest.mark.slow
@pytest.mark.postgresql
def test_workers_share_a_postgresql_store(tmp_path, postgres_uri):
    server = ServerProcess.flightlog(
        tmp_path / "server", backend_store_uri=postgres_uri, extra_args=["--workers", "3"]
    ).start(timeout=60)
    try:
        # Racing creations of one name: exactly one wins, the rest get MLflow's error, no 500.
        url = f"{server.url}/api/2.0/mlflow/experiments/create"
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(lambda _: requests.post(url, json={"name": "race"}, timeout=30), range(8))
            )
        assert sorted(a.status_code for a in answers) == [200] + [400] * 7
        assert {a.json().get("error_code") for a in answers[1:] if a.status_code == 400} <= {
            "RESOURCE_ALREADY_EXISTS"
        }
        exp_id = RestStore(server.url).get_experiment_by_name("race").experiment_id

        env = dict(os.environ, FLIGHTLOG_SPOOL_DIR=str(tmp_path / "spool"))
        env.pop("FLIGHTLOG_TRACKING_URI", None)
        clients = [
            subprocess.Popen(
                [sys.executable, WORKER, server.url, exp_id, f"c{i}", "20000"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for i in range(4)
        ]
        run_ids = []
        for proc in clients:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err[-3000:]
            lines = [json.loads(line) for line in out.splitlines()]
            assert lines[-1]["flushed"] and lines[-1]["stats"]["failed"] == 0, lines[-1]
            run_ids.append(lines[0]["run_id"])
        store = RestStore(server.url)
        for run_id in run_ids:
            steps = [m.step for m in store.get_metric_history(run_id, "loss")]
            assert steps == list(range(20000))
        found = store.search_runs([exp_id], max_results=100)
        assert sorted(r.info.run_id for r in found) == sorted(run_ids)
    finally:
        server.stop()
