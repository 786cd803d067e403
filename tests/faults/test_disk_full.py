"""A full disk under the embedded SQLite store (issue 12 item 1): nothing is dropped as
refused, flush() says the data is not stored yet, and everything arrives once space is freed.

The disk is a real tmpfs of a few MiB, nearly filled by a filler file; the logging happens in a
child process (its own queue and exit path), which frees the space itself when told the
store is full, then waits for the data to arrive."""

from __future__ import annotations

from fault_helpers import env_for, fill, finish, points, read_json_line, run_status, start

N = 100_000

SCRIPT = """
import json, os, sys, time
import flightlog

n, filler = int(os.environ["N"]), os.environ["FILLER"]
with flightlog.start_run() as run:
    print(json.dumps({"run": run.info.run_id}), flush=True)
    for i in range(n):
        flightlog.log_metric("loss", float(i), step=i)
    stored = flightlog.flush(timeout=60)
    print(json.dumps({"full": stored, "stats": flightlog.queue_stats()}), flush=True)
    os.remove(filler)  # space comes back
    t0 = time.monotonic()
    stored = False
    while not stored and time.monotonic() - t0 < 180:
        stored = flightlog.flush(timeout=5)
    print(json.dumps({"recovered": stored, "stats": flightlog.queue_stats(),
                      "seconds": time.monotonic() - t0}), flush=True)
"""


def _run(tmp_path, disk, spool):
    db = disk / "flightlog.db"
    # The schema first, then fill the disk: about 1 MiB stays free, 100k points need more
    # (about 10 MiB, and the WAL grows beside the database until it is checkpointed).
    from flightlog.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{db}", str(tmp_path / "artifacts"))
    store.get_experiment("0")
    store.close()
    filler = fill(disk, leave=1 << 20)
    env = env_for(f"sqlite:///{db}", spool, N=str(N), FILLER=str(filler))
    proc = start(SCRIPT, env, tmp_path)
    run_id = read_json_line(proc, "run")["run"]
    full = read_json_line(proc, "full", timeout=240)
    recovered = read_json_line(proc, "recovered", timeout=400)
    code, _, err, _ = finish(proc, timeout=120)
    return db, run_id, full, recovered, code, err


def test_a_full_disk_under_sqlite_spools_then_stores_every_point_once(
    tmp_path, small_disk, spool_dir
):
    disk = small_disk("disk", 96 * 1024)
    db, run_id, full, recovered, code, err = _run(tmp_path, disk, spool_dir)
    # While the disk was full: not stored, so flush() said False; nothing counted as refused.
    assert full["full"] is False, full
    assert full["stats"]["failed"] == 0 and full["stats"]["lost"] == 0, full
    assert full["stats"]["spooled"] > 0, full
    assert "database or disk is full" in err
    # Space back: the spool was replayed into the database, each point once.
    assert recovered["recovered"] is True, (recovered, err[-3000:])
    assert recovered["stats"]["failed"] == 0 and recovered["stats"]["lost"] == 0, recovered
    assert code == 0, err[-3000:]
    assert points(db, run_id, "loss") == list(range(N))
    assert run_status(db, run_id) == "FINISHED"
    assert not list(spool_dir.glob("*/spool-*")), "the spool should be empty and removed"


def test_a_full_disk_under_both_the_store_and_the_spool_holds_the_data_in_memory(
    tmp_path, small_disk
):
    disk = small_disk("disk", 96 * 1024)
    spool = disk / "spool"  # the same full disk: the spool cannot take the batches either
    db, run_id, full, recovered, code, err = _run(tmp_path, disk, spool)
    assert full["full"] is False, full
    stats = full["stats"]
    assert stats["failed"] == 0 and stats["lost"] == 0, full
    assert stats["held"] > 0, full  # in memory, said so
    assert "cannot store the batches of run" in err and "queue_stats()['held']" in err
    assert recovered["recovered"] is True, (recovered, err[-3000:])
    assert recovered["stats"]["held"] == 0 and recovered["stats"]["lost"] == 0, recovered
    assert code == 0, err[-3000:]
    assert points(db, run_id, "loss") == list(range(N))
    assert run_status(db, run_id) == "FINISHED"
