"""The spool/journal files: what a folder still holds, in which order, exactly once."""

from __future__ import annotations

import json
import math

from flightlog import spool
from flightlog.entities import Metric, Param, RunStatus


def _record(seq: int, run: str = "r1", n: int = 2, uri: str = "sqlite:////x.db") -> spool.Record:
    metrics = [Metric("loss", float(seq * 10 + i), 1000, seq * 10 + i) for i in range(n)]
    return spool.Record(seq, uri, run, metrics)


def test_records_round_trip_with_non_finite_values():
    record = spool.Record(
        7,
        "http://h:1",
        "run",
        [Metric("a", math.nan, 1, 2), Metric("b", math.inf, 3, 4)],
        [Param("p", "v")],
        end=(RunStatus.KILLED, 99),
    )
    back = spool.Record.decode(json.loads(record.encode()))
    assert math.isnan(back.metrics[0].value) and back.metrics[1].value == math.inf
    assert back.params == [Param("p", "v")] and back.end == (RunStatus.KILLED, 99)
    assert back.size == 4


def test_folder_merges_journal_and_spool_in_order_each_batch_once(spool_dir):
    owner = spool.Owner(spool_dir)
    owner.journal_append([_record(1), _record(2), _record(3), _record(5)])
    owner.journal_ack([1])  # sent
    owner.spool_append([_record(2), _record(4)])  # 2 moved from the journal to the spool
    owner.mark_replayed(4)  # already replayed from the spool
    other = _record(6, run="r2")
    owner.spool_append([other])
    records = spool.folder_records(owner.dir)
    by_run = {run: [r.seq for r in records if r.run_id == run] for run in ("r1", "r2")}
    assert by_run == {"r1": [2, 3, 5], "r2": [6]}
    assert spool.count_folder(owner.dir) == (8, 2)


def test_a_torn_last_line_is_ignored_and_out_of_order_files_are_sorted(spool_dir):
    owner = spool.Owner(spool_dir)
    owner.spool_append([_record(3), _record(1), _record(2)])
    path = next(owner.dir.glob("spool-*.jsonl"))
    with open(path, "ab") as f:
        f.write(_record(9).encode()[:-20])  # a crash in the middle of an append
    assert [r.seq for r in spool.folder_records(owner.dir)] == [1, 2, 3]


def test_a_live_owner_is_never_claimed_and_a_dead_empty_one_is_swept(spool_dir):
    live = spool.Owner(spool_dir)
    live.journal_append([_record(1)])
    with spool.claim(live.dir) as ours:
        assert ours is False  # this process holds its lock
    live.journal_ack([1])
    live.abandon_after_fork()  # close its files as a dead process would have
    assert len(spool.owner_folders(spool_dir)) == 1
    new_folder = spool.Owner(spool_dir).dir  # creating a folder sweeps those holding nothing
    assert spool.owner_folders(spool_dir) == [new_folder]


def test_replay_resumes_after_a_partial_run_and_removes_the_folder(spool_dir, store, run_id):
    owner = spool.Owner(spool_dir)
    uri = store.db_uri
    owner.spool_append([_record(s, run=run_id, uri=uri) for s in (1, 2, 3)])
    owner.mark_replayed(1)  # sent before the previous replay was interrupted
    owner.abandon_after_fork()
    folder = spool.owner_folders(spool_dir)[0]
    with spool.claim(folder) as ours:
        assert ours
        report = spool.replay_folder(folder, lambda u: store if u == uri else None)
    assert report.complete and report.sent == 2 and report.entities == 4
    steps = [m.step for m in store.get_metric_history(run_id, "loss")]
    assert steps == [20, 21, 30, 31]
    assert not spool.owner_folders(spool_dir)
