"""How the writer thread batches: when it wakes, how a flush behind a long queue is answered,
and the upkeep it does once it runs out of work."""

from __future__ import annotations

import os
import time

from flightlog import queue
from flightlog.entities import Metric


def history(store, run_id: str, key: str) -> list[Metric]:
    return list(store.get_metric_history(run_id, key))


def _settle(q, store, run_id: str) -> None:
    """Start the writer and let it fall asleep for its batching window, its wake-up used."""
    q.submit_metric(store, run_id, "start", 0.0, 1000, 0)
    assert q.flush(timeout=120)
    q.submit_metric(store, run_id, "start", 1.0, 1000, 1)  # wakes it; it sleeps again
    time.sleep(0.2)


def test_a_flush_behind_more_than_one_cycle_of_points_is_answered_at_once(
    store, run_id, make_queue, monkeypatch
):
    # The flush marker sits behind more items than one writer cycle takes, and what is left
    # after that cycle does not wake the writer: it must not wait for the window.
    monkeypatch.setattr(queue, "_WAKE_BATCH", 10**9)  # only the window or a flush wakes it
    q = make_queue(FLIGHTLOG_BATCH_WINDOW="3600")
    _settle(q, store, run_id)
    n = queue._DRAIN_LIMIT + 1000
    for i in range(n):
        q.submit_metric(store, run_id, "loss", float(i), 1000, i)
    assert q.flush(timeout=120) is True
    assert [m.step for m in history(store, run_id, "loss")] == list(range(n))


def test_points_in_batches_wake_the_writer_as_single_points_do(store, run_id, make_queue):
    # log_metrics queues one item per step; the writer counts its points and the item itself,
    # so 10 keys a step make a wake-up batch after ceil((_WAKE_BATCH - 1) / 11) steps (the -1:
    # the settle point still queued). When the writer wakes it takes at least that many steps
    # (more if the caller got further meanwhile, which depends on the machine: not asserted).
    wake_steps = -(-(queue._WAKE_BATCH - 1) // 11)
    q = make_queue(FLIGHTLOG_BATCH_WINDOW="3600")
    _settle(q, store, run_id)
    for step in range(600):
        q.submit(store, run_id, metrics=[Metric(f"m{k}", 1.0, 1000, step) for k in range(10)])
    deadline = time.monotonic() + 120  # generous: a busy machine, never a rate
    while len(history(store, run_id, "m9")) < wake_steps and time.monotonic() < deadline:
        time.sleep(0.02)
    written = len(history(store, run_id, "m0"))
    assert wake_steps <= written <= 600  # written without a flush or the window
    assert len(history(store, run_id, "m9")) >= wake_steps


def test_the_writer_checkpoints_the_database_once_it_runs_out_of_work(
    store, run_id, make_queue, db_path
):
    # Commits go to SQLite's write-ahead log; copying them into the database file is left to
    # the writer's idle time (20,000 points are far below the automatic checkpoint's bound).
    q = make_queue()
    before = os.path.getsize(db_path)
    for i in range(20_000):
        q.submit_metric(store, run_id, "loss", float(i), 1000, i)
    assert q.flush(timeout=120)
    deadline = time.monotonic() + 120
    while os.path.getsize(db_path) < before + 1_000_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert os.path.getsize(db_path) >= before + 1_000_000
    assert len(history(store, run_id, "loss")) == 20_000
