"""The logging queue in one process: order, backpressure, validation, threads, end_run, sync
writes, transient failures with retries, spool and replay, the journal."""

from __future__ import annotations

import logging
import threading
import time

import pytest

import flightlog
from flightlog import spool
from flightlog.entities import Metric, Param, RunStatus, RunTag
from flightlog.exceptions import InvalidKeyError, InvalidValueError, ParamConflictError


def history(store, run_id: str, key: str) -> list[Metric]:
    return list(store.get_metric_history(run_id, key))


def test_points_arrive_in_order_and_flush_reports_success(store, run_id, make_queue):
    q = make_queue()
    for i in range(3000):
        q.submit_metric(store, run_id, "loss", float(i), 1000, 0)  # same step and time:
    q.submit(store, run_id, params=[Param("lr", "0.1")], tags=[RunTag("t", "x")])
    assert q.flush(timeout=120) is True
    points = history(store, run_id, "loss")
    # ... so only insertion order sorts the history
    assert [m.value for m in points] == [float(i) for i in range(3000)]
    run = store.get_run(run_id)
    assert run.data.params == {"lr": "0.1"} and run.data.tags["t"] == "x"
    stats = q.stats()
    assert stats["written"] == 3002 and stats["queued"] == 0
    assert stats["failed"] == stats["spooled"] == stats["retried"] == 0


def test_a_live_reader_sees_points_without_flush(store, run_id, make_queue):
    # The batching window (well under a second) writes a lone point by itself. How soon is the
    # machine's business (benchmarks measure it); the deadline only catches "never".
    q = make_queue()
    q.submit_metric(store, run_id, "loss", 1.0, 1000, 0)
    deadline = time.monotonic() + 120
    while not history(store, run_id, "loss") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(history(store, run_id, "loss")) == 1


def test_full_queue_blocks_the_caller_warns_once_and_drops_nothing(
    store, run_id, make_queue, caplog
):
    q = make_queue(FLIGHTLOG_QUEUE_SIZE="200")
    with caplog.at_level(logging.WARNING, logger="flightlog"):
        for i in range(20_000):
            q.submit_metric(store, run_id, "loss", float(i), 1000, i)
        assert q.flush(timeout=60)
    assert [m.step for m in history(store, run_id, "loss")] == list(range(20_000))
    full = [r for r in caplog.records if "logging queue is full" in r.getMessage()]
    assert len(full) == 1


def test_validation_errors_raise_in_the_caller():
    with flightlog.start_run():
        with pytest.raises(InvalidKeyError):
            flightlog.log_metric("bad key!", 1.0)
        with pytest.raises(InvalidValueError):
            flightlog.log_metric("loss", "not a number")
        flightlog.log_param("lr", 0.1)
        flightlog.log_param("lr", 0.1)  # the same value again is fine
        with pytest.raises(ParamConflictError) as info:
            flightlog.log_param("lr", 0.2)  # conflicts with the value still queued
        assert "'lr'" in str(info.value) and "'0.1'" in str(info.value)
        assert "'0.2'" in str(info.value)
        run_id = flightlog.active_run().info.run_id
    assert flightlog.get_run(run_id).data.params == {"lr": "0.1"}


def test_param_conflict_with_a_stored_value_raises_in_the_caller(store, run_id, make_queue):
    store.log_batch(run_id, params=[Param("depth", "3")])  # stored by someone else
    q = make_queue()
    q.submit(store, run_id, params=[Param("depth", "3")])
    with pytest.raises(ParamConflictError, match="'depth'.*'3'.*'4'"):
        q.submit(store, run_id, params=[Param("depth", "4")])
    assert q.flush(timeout=120)
    assert store.get_run(run_id).data.params == {"depth": "3"}


def test_write_time_store_errors_are_warned_once_and_counted(store, run_id, make_queue, caplog):
    store.delete_run(run_id)  # the run disappears after the caller checked it
    q = make_queue()
    with caplog.at_level(logging.WARNING, logger="flightlog"):
        for i in range(10):
            q.submit_metric(store, run_id, "loss", float(i), 1000, i)
            q.flush(timeout=30)  # ten separate batches, ten failures
    assert q.stats()["failed"] == 10
    warnings = [r for r in caplog.records if run_id in r.getMessage()]
    assert len(warnings) == 1


def test_threads_logging_into_one_run_lose_nothing_and_keep_their_order():
    n_threads, n_points = 8, 5000
    with flightlog.start_run() as run:
        start = threading.Barrier(n_threads)

        def work(t: int) -> None:
            start.wait()
            for i in range(n_points):
                flightlog.log_metric(f"thread_{t}", float(i), step=0, timestamp=1000)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    client = flightlog.TrackingClient()
    total = 0
    for t in range(n_threads):
        values = [m.value for m in client.get_metric_history(run.info.run_id, f"thread_{t}")]
        assert values == [float(i) for i in range(n_points)]
        total += len(values)
    assert total == n_threads * n_points


def test_end_run_stores_the_data_before_marking_the_run_finished(store):
    run = flightlog.start_run()
    for i in range(5000):
        flightlog.log_metric("loss", float(i), step=i)
    flightlog.end_run()
    # Straight from the store, no flush: everything is there and the run is finished.
    assert len(history(store, run.info.run_id, "loss")) == 5000
    assert store.get_run(run.info.run_id).info.status == RunStatus.FINISHED


def test_synchronous_calls_write_through(store, monkeypatch):
    with flightlog.start_run() as run:
        flightlog.log_metric("a", 1.0, synchronous=True)
        assert len(history(store, run.info.run_id, "a")) == 1
        monkeypatch.setenv("FLIGHTLOG_ASYNC_LOGGING", "false")
        client = flightlog.TrackingClient()
        client.log_metric(run.info.run_id, "b", 2.0)
        client.log_param(run.info.run_id, "p", "x")
        assert len(history(store, run.info.run_id, "b")) == 1
        assert store.get_run(run.info.run_id).data.params == {"p": "x"}
        with pytest.raises(ParamConflictError):
            client.log_param(run.info.run_id, "p", "y")


def test_remote_stores_chunk_batches_within_their_limits(store, run_id, make_queue, monkeypatch):
    calls: list[tuple[int, int, int]] = []
    original = type(store).log_batch

    def counting(self, rid, metrics=(), params=(), tags=()):
        calls.append((len(metrics), len(params), len(tags)))
        return original(self, rid, metrics, params, tags)

    monkeypatch.setattr(store, "max_metrics_per_batch", 1000, raising=False)
    monkeypatch.setattr(store, "max_params_per_batch", 100, raising=False)
    monkeypatch.setattr(store, "max_tags_per_batch", 100, raising=False)
    monkeypatch.setattr(type(store), "log_batch", counting)
    q = make_queue()
    q.submit(
        store,
        run_id,
        metrics=[Metric("m", float(i), 1000, i) for i in range(2500)],
        params=[Param(f"p{i}", "v") for i in range(250)],
        tags=[RunTag(f"t{i}", "v") for i in range(150)],
    )
    assert q.flush(timeout=120)
    assert all(m <= 1000 and p <= 100 and t <= 100 for m, p, t in calls)
    assert sum(c[0] for c in calls) == 2500 and sum(c[1] for c in calls) == 250
    assert len(history(store, run_id, "m")) == 2500


def test_a_locked_database_is_retried_and_everything_arrives(
    short_busy_timeout, store, run_id, db_lock, make_queue
):
    q = make_queue(FLIGHTLOG_RETRY_TIMEOUT="10")
    db_lock.acquire()
    db_lock.release_after(1.0)
    for i in range(1000):
        q.submit_metric(store, run_id, "loss", float(i), 1000, i)
    assert q.flush(timeout=120) is True
    assert [m.step for m in history(store, run_id, "loss")] == list(range(1000))
    stats = q.stats()
    assert stats["retried"] >= 1 and stats["written"] == 1000 and stats["spooled"] == 0


# journal "1": the path of remote stores (journal, then the sender thread sends and spools).
@pytest.mark.parametrize("journal", ["0", "1"])
def test_a_long_outage_spools_and_replays_in_order_while_the_process_lives(
    short_busy_timeout, store, run_id, db_lock, make_queue, spool_dir, journal
):
    q = make_queue(FLIGHTLOG_RETRY_TIMEOUT="0.2", FLIGHTLOG_JOURNAL=journal)
    db_lock.acquire()
    for i in range(500):
        q.submit_metric(store, run_id, "loss", float(i), 1000, i)
    assert q.flush(timeout=30) is False  # through the queue, but into the spool
    for i in range(500, 800):
        q.submit_metric(store, run_id, "loss", float(i), 1000, i)
    q.flush(timeout=30)
    assert list(spool_dir.glob("*/spool-*.jsonl"))
    assert q.stats()["spooled"] == 800
    db_lock.release()
    deadline = time.monotonic() + 120  # generous: a busy machine
    while not q.flush(timeout=30):  # False while anything waits in the spool
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert q.stats()["replayed"] == 800
    assert [m.step for m in history(store, run_id, "loss")] == list(range(800))
    assert not list(spool_dir.glob("*/spool-*.jsonl"))  # replayed files are removed


@pytest.mark.parametrize("journal", ["0", "1"])
def test_end_run_during_an_outage_waits_behind_the_spooled_data(
    short_busy_timeout, store, run_id, db_lock, make_queue, journal
):
    q = make_queue(FLIGHTLOG_RETRY_TIMEOUT="0.2", FLIGHTLOG_JOURNAL=journal)
    db_lock.acquire()
    for i in range(100):
        q.submit_metric(store, run_id, "loss", float(i), 1000, i)
    q.flush(timeout=30)
    q.end_run(store, run_id, RunStatus.FINISHED, 12345)  # deferred, not an error
    assert store.get_run(run_id).info.status == RunStatus.RUNNING
    db_lock.release()
    deadline = time.monotonic() + 120  # generous: a busy machine
    while store.get_run(run_id).info.status == RunStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run = store.get_run(run_id)
    assert run.info.status == RunStatus.FINISHED and run.info.end_time == 12345
    assert len(history(store, run_id, "loss")) == 100


def test_the_journal_is_emptied_once_batches_are_acknowledged(store, run_id, make_queue, spool_dir):
    q = make_queue(FLIGHTLOG_JOURNAL="1")
    for i in range(100):
        q.submit_metric(store, run_id, "loss", float(i), 1000, i)
    assert q.flush(timeout=120)
    (journal,) = spool_dir.glob("*/journal.jsonl")
    assert journal.stat().st_size == 0
    assert spool.folder_records(journal.parent) == []
    assert len(history(store, run_id, "loss")) == 100
