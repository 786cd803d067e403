"""Plain torch.distributed under torchrun: one job, one run, every rank in it."""

from __future__ import annotations

import pytest

from tests.distributed.conftest import (
    HERE,
    all_runs,
    finish,
    free_port,
    job_env,
    records,
    requires_gloo,
    steps,
    torchrun,
)

pytestmark = [requires_gloo, pytest.mark.slow]
JOB = str(HERE / "torch_job.py")


def test_two_processes_make_one_run_and_rank_one_logs_into_it(isolated_tracking, tmp_path):
    env = job_env(isolated_tracking, tmp_path)
    finish(torchrun(["--nproc-per-node", "2", JOB], env))
    runs = all_runs()
    assert len(runs) == 1
    run = runs[0]
    seen = records(tmp_path)
    assert sorted(r["rank"] for r in seen) == [0, 1]
    # flightlog.active_run() is the job's run on every rank.
    assert {r["active_run_id"] for r in seen} == {run.info.run_id}
    # Epoch metrics once (rank 0's), three epochs; rank 1's own log_metric is in the run.
    assert [s for s, _ in steps(run.info.run_id, "train_loss")] == [0, 1, 2]
    assert [s for s, _ in steps(run.info.run_id, "val_loss")] == [0, 1, 2]
    assert steps(run.info.run_id, "rank_seen") == [(0, 0.0), (1, 1.0)]
    assert run.data.params["optimizer_name"] == "SGD"
    assert not any(k.startswith("rank") and "/" in k for k in run.data.metrics)
    assert run.info.status == "FINISHED"


def test_elastic_restart_continues_the_same_run_with_per_rank_series(isolated_tracking, tmp_path):
    # Rank 1 dies hard after two epochs of the first attempt; torchrun restarts both ranks,
    # which train their three epochs again.
    env = job_env(isolated_tracking, tmp_path, PER_RANK="1", CRASH_RANK="1", CRASH_AFTER_EPOCHS="2")
    finish(torchrun(["--nproc-per-node", "2", "--max-restarts", "1", JOB], env))
    runs = all_runs()
    assert len(runs) == 1, [r.data.tags for r in runs]
    run = runs[0]
    assert {r["attempt"] for r in records(tmp_path)} == {1}
    assert {r["active_run_id"] for r in records(tmp_path)} == {run.info.run_id}
    # Steps go on after the restart instead of starting over: 2 epochs, then 3 more.
    for key in ("train_loss", "rank0/train_loss", "rank1/train_loss"):
        assert [s for s, _ in steps(run.info.run_id, key)] == [0, 1, 2, 3, 4], key
    # Per-rank series are each rank's own values (the ranks train on different shards).
    assert steps(run.info.run_id, "rank0/train_loss") == steps(run.info.run_id, "train_loss")
    assert steps(run.info.run_id, "rank1/train_loss") != steps(run.info.run_id, "train_loss")
    assert run.info.status == "FINISHED"
    assert run.data.tags["flightlog.job_id"].endswith(":0")


def test_two_nodes_on_localhost_make_one_run_with_per_node_system_metrics(
    isolated_tracking, tmp_path
):
    env = job_env(isolated_tracking, tmp_path, SYSTEM_METRICS="1")
    port = str(free_port())
    common = ["--nnodes", "2", "--nproc-per-node", "2", "--master-addr", "127.0.0.1"]
    nodes = [
        torchrun([*common, "--node-rank", str(n), "--master-port", port, JOB], env) for n in (0, 1)
    ]
    for proc in nodes:
        finish(proc)
    runs = all_runs()
    assert len(runs) == 1
    run = runs[0]
    seen = records(tmp_path)
    assert sorted(r["rank"] for r in seen) == [0, 1, 2, 3]
    assert {r["active_run_id"] for r in seen} == {run.info.run_id}
    assert [s for s, _ in steps(run.info.run_id, "rank_seen")] == [0, 1, 2, 3]
    assert [s for s, _ in steps(run.info.run_id, "train_loss")] == [0, 1, 2]
    # One sampler per node (its local rank 0), each under system/<node>/.
    for node in ("node0", "node1"):
        points = steps(run.info.run_id, f"system/{node}/process_memory_rss_megabytes")
        assert len(points) >= 2 and all(v > 0 for _, v in points), node
    assert not any(k.startswith("system/cpu") for k in run.data.metrics)
