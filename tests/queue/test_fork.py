"""fork(): a child gets its own queue and writer, and the parent's pending data is written once
(by the parent). Covers a bare os.fork and a multiprocessing child, which leaves through
os._exit and so skips atexit."""

from __future__ import annotations

import multiprocessing
import os

import flightlog
from flightlog.entities import RunStatus


def _steps(store, run_id: str, key: str) -> list[int]:
    return [m.step for m in store.get_metric_history(run_id, key)]


def test_forked_child_and_parent_each_write_their_own_data_once(store):
    parent_n, child_n = 20_000, 5_000
    client = flightlog.TrackingClient()
    child_run = client.create_run("0").info.run_id
    with flightlog.start_run() as parent_run:
        for i in range(parent_n):
            flightlog.log_metric("parent", float(i), step=i)  # much of it still queued at fork
        pid = os.fork()
        if pid == 0:  # the child: log into its own run, then leave without atexit
            code = 1
            try:
                child = flightlog.TrackingClient()
                for i in range(child_n):
                    child.log_metric(child_run, "child", float(i), step=i)
                child.set_terminated(child_run)
                code = 0
            finally:
                os._exit(code)
        for i in range(parent_n, 2 * parent_n):
            flightlog.log_metric("parent", float(i), step=i)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    assert _steps(store, parent_run.info.run_id, "parent") == list(range(2 * parent_n))
    assert _steps(store, child_run, "child") == list(range(child_n))
    assert store.get_run(child_run).info.status == RunStatus.FINISHED
    # The child did not end the run it inherited; the parent did, once.
    assert store.get_run(parent_run.info.run_id).info.status == RunStatus.FINISHED
    assert _steps(store, child_run, "parent") == []


def _child_logs_without_flushing(run_id: str, n: int) -> None:
    client = flightlog.TrackingClient()
    for i in range(n):
        client.log_metric(run_id, "worker", float(i), step=i)
    # Returning leaves through os._exit: only multiprocessing's finalizers run.


def test_multiprocessing_child_data_is_flushed_when_it_exits(store):
    run_id = flightlog.TrackingClient().create_run("0").info.run_id
    flightlog.log_metric("parent", 1.0)  # the parent has a live writer when it forks
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_child_logs_without_flushing, args=(run_id, 3000))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0
    assert _steps(store, run_id, "worker") == list(range(3000))
