"""Lightning on two CPU processes (gloo): one run per job, resumed from a checkpoint too.

Lightning's `fsdp` strategy refuses the CPU accelerator, so it is not exercised here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.distributed.conftest import HERE, JOB_TIMEOUT_S, all_runs, job_env, requires_gloo, steps

pytestmark = [requires_gloo, pytest.mark.slow]
JOB = str(HERE / "lightning_job.py")


def fit(tracking_uri: str, out, **settings: str) -> None:
    env = job_env(tracking_uri, out, **settings)
    result = subprocess.run(
        [sys.executable, JOB], env=env, capture_output=True, text=True, timeout=JOB_TIMEOUT_S
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]


def seen_by_ranks(out) -> dict[int, set[str | None]]:
    seen: dict[int, set[str | None]] = {}
    for path in out.glob("lrank*.json"):
        record = json.loads(path.read_text())
        seen.setdefault(record["rank"], set()).add(record["active_run_id"])
    return seen


def only_run():
    runs = all_runs()
    assert len(runs) == 1, [(r.info.run_id, r.data.tags.get("mlflow.autologging")) for r in runs]
    return runs[0]


@pytest.mark.parametrize("mode", ["autolog", "logger"])
def test_ddp_three_epochs_is_one_run(isolated_tracking, tmp_path, mode):
    fit(isolated_tracking, tmp_path, STRATEGY="ddp", MODE=mode, EPOCHS="3")
    run = only_run()
    assert run.info.status == "FINISHED"
    for key in ("train_loss", "val_loss", "lr-SGD"):
        assert [s for s, _ in steps(run.info.run_id, key)] == [0, 1, 2], key
    assert run.data.params["hidden"] == "8" and run.data.params["max_epochs"] == "3"
    # Every rank's active run is the job's run, and rank 1's own log_metric is in it.
    assert seen_by_ranks(tmp_path) == {0: {run.info.run_id}, 1: {run.info.run_id}}
    assert steps(run.info.run_id, "rank_seen") == [(0, 1.0)]
    assert not any(k.startswith("rank1/") for k in run.data.metrics)


def test_ddp_spawn_with_per_rank_series(isolated_tracking, tmp_path):
    fit(isolated_tracking, tmp_path, STRATEGY="ddp_spawn", PER_RANK="1", EPOCHS="3")
    run = only_run()
    assert seen_by_ranks(tmp_path) == {0: {run.info.run_id}, 1: {run.info.run_id}}
    for key in ("val_loss", "rank0/val_loss", "rank1/val_loss", "rank1/train_loss"):
        assert [s for s, _ in steps(run.info.run_id, key)] == [0, 1, 2], key
    assert steps(run.info.run_id, "rank_seen") == [(0, 1.0)]


def test_resume_from_checkpoint_continues_the_run(isolated_tracking, tmp_path):
    ckpt = tmp_path / "ckpt"
    fit(isolated_tracking, tmp_path, STRATEGY="ddp", EPOCHS="2", CKPT_DIR=str(ckpt))
    first = only_run()
    assert [s for s, _ in steps(first.info.run_id, "val_loss")] == [0, 1]
    fit(
        isolated_tracking,
        tmp_path,
        STRATEGY="ddp",
        EPOCHS="4",
        CKPT_DIR=str(ckpt),
        RESUME=str(ckpt / "last.ckpt"),
    )
    run = only_run()  # no second run
    assert run.info.run_id == first.info.run_id
    assert run.info.status == "FINISHED"
    assert [s for s, _ in steps(run.info.run_id, "val_loss")] == [0, 1, 2, 3]
    assert [s for s, _ in steps(run.info.run_id, "train_loss")] == [0, 1, 2, 3]
    # Params come from the first fit; the resumed one does not fight over max_epochs.
    assert run.data.params["max_epochs"] == "2"
