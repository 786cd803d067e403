"""Helpers for the distributed tests: real jobs (torchrun, Lightning's launchers) on CPU with
gloo, each rank a real process logging into the test's SQLite store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
JOB_TIMEOUT_S = 540  # whole-job deadline; a job takes seconds when the machine is quiet


def gloo_available() -> bool:
    try:
        import torch.distributed as dist
    except ImportError:
        return False
    return dist.is_available() and dist.is_gloo_available()


requires_gloo = pytest.mark.skipif(not gloo_available(), reason="torch.distributed gloo missing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def job_env(tracking_uri: str, out: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FLIGHTLOG_TRACKING_URI": tracking_uri,
            "JOB_OUT": str(out),
            "FLIGHTLOG_AUTOLOG_TESTING": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([str(HERE.parent.parent), env.get("PYTHONPATH", "")]),
        }
    )
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "NODE_RANK"):
        env.pop(name, None)
    env.update(extra)
    return env


def torchrun(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen) -> str:
    try:
        out, _ = proc.communicate(timeout=JOB_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(
            f"the job did not finish in {JOB_TIMEOUT_S} s:\n{out[-4000:]}"
        ) from None
    assert proc.returncode == 0, out[-6000:]
    return out


def records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("rank*.json"))]


def all_runs():
    import flightlog

    client = flightlog.MlflowClient()
    experiments = [e.experiment_id for e in client.search_experiments(view_type=3)]
    return list(client.search_runs(experiments, run_view_type=3))


def steps(run_id: str, key: str) -> list[tuple[int, float]]:
    import flightlog

    return [(m.step, m.value) for m in flightlog.MlflowClient().get_metric_history(run_id, key)]
