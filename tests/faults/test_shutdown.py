"""Clean exits leave a complete .db file (issue 12 item 13); a server that hangs cannot hang
flush(), end_run, atexit or SIGTERM (item 5); `flightlog sync` says how many damaged journal
and spool lines it skipped (item 12)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time

from fault_helpers import (
    HangingProxy,
    env_for,
    finish,
    points,
    read_json_line,
    run_status,
    start,
    sync,
)

from flightlog.server.process import ServerProcess

SMALL_RUN = """
import json
import flightlog

with flightlog.start_run() as run:
    print(json.dumps({"run": run.info.run_id}), flush=True)
    for i in range(2000):
        flightlog.log_metric("loss", float(i), step=i)
"""


def test_after_a_clean_exit_the_db_file_alone_holds_everything(tmp_path, spool_dir):
    db = tmp_path / "store" / "flightlog.db"
    proc = start(SMALL_RUN, env_for(f"sqlite:///{db}", spool_dir), tmp_path)
    run_id = read_json_line(proc, "run")["run"]
    code, _, err, _ = finish(proc, timeout=120)
    assert code == 0, err
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy" / "flightlog.db"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)  # the .db alone, as a backup script would copy it
    conn = sqlite3.connect(copy)
    try:
        count = conn.execute("SELECT COUNT(*) FROM metrics WHERE run_uuid = ?", (run_id,))
        assert count.fetchone()[0] == 2000
    finally:
        conn.close()
    assert run_status(copy, run_id) == "FINISHED"


HUNG = """
import json, os, sys, time
import flightlog

with flightlog.start_run() as run:
    print(json.dumps({"run": run.info.run_id}), flush=True)
    sys.stdin.readline()  # the test makes the server hang
    for i in range(3000):
        flightlog.log_metric("loss", float(i), step=i)
    t0 = time.monotonic()
    ok = flightlog.flush()  # no timeout given: bounded by FLIGHTLOG_FLUSH_TIMEOUT all the same
    print(json.dumps({"flushed": ok, "flush_s": time.monotonic() - t0}), flush=True)
    if os.environ.get("WAIT_FOR_SIGTERM"):
        print(json.dumps({"waiting": True}), flush=True)
        while True:
            flightlog.log_metric("loss2", 1.0)
            time.sleep(0.001)
    t_end = time.monotonic()
print(json.dumps({"end_run_s": time.monotonic() - t_end}), flush=True)
"""


def _hung_run(tmp_path, spool_dir, server, proxy, **extra):
    env = env_for(proxy.url, spool_dir, FLIGHTLOG_FLUSH_TIMEOUT="5", **extra)
    proc = start(HUNG, env, tmp_path)
    run_id = read_json_line(proc, "run")["run"]
    proxy.set_hang(True)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    flushed = read_json_line(proc, "flushed", timeout=120)
    assert flushed["flushed"] is False
    assert flushed["flush_s"] < 30, flushed  # 5 s asked, generous slack
    return proc, run_id, env


def test_a_hung_server_cannot_hang_flush_end_run_or_exit(tmp_path, spool_dir):
    workdir = tmp_path / "server"
    with ServerProcess.flightlog(workdir) as server:
        proxy = HangingProxy(server.port)
        try:
            proc, run_id, env = _hung_run(tmp_path, spool_dir, server, proxy)
            ended = read_json_line(proc, "end_run_s", timeout=120)
            t0 = time.monotonic()
            code, _, err, _ = finish(proc, timeout=120)
            exit_s = time.monotonic() - t0
            assert ended["end_run_s"] < 30, ended
            assert exit_s < 60, exit_s
            assert code == 0, err[-3000:]
            assert "flightlog sync" in err  # what is left is in the journal, and said so
            proxy.set_hang(False)
            done = sync(env, tmp_path)
            assert done.returncode == 0, done.stdout + done.stderr
            assert points(workdir / "flightlog.db", run_id, "loss") == list(range(3000))
            assert run_status(workdir / "flightlog.db", run_id) == "FINISHED"
        finally:
            proxy.close()


def test_sigterm_with_a_hung_server_exits_within_the_deadline(tmp_path, spool_dir):
    workdir = tmp_path / "server"
    with ServerProcess.flightlog(workdir) as server:
        proxy = HangingProxy(server.port)
        try:
            proc, run_id, env = _hung_run(tmp_path, spool_dir, server, proxy, WAIT_FOR_SIGTERM="1")
            read_json_line(proc, "waiting")
            t0 = time.monotonic()
            os.kill(proc.pid, signal.SIGTERM)
            code, _, err, _ = finish(proc, timeout=120)
            assert time.monotonic() - t0 < 60
            assert code == -signal.SIGTERM, err[-3000:]
            proxy.set_hang(False)
            done = sync(env, tmp_path)
            assert done.returncode == 0, done.stdout + done.stderr
            assert points(workdir / "flightlog.db", run_id, "loss") == list(range(3000))
            assert run_status(workdir / "flightlog.db", run_id) == "KILLED"
        finally:
            proxy.close()


KILLED_WITH_JOURNAL = """
import json, time
from flightlog.entities import Metric
from flightlog.spool import Owner, Record

owner = Owner()
owner.journal_append([Record(i, None, "r1", [Metric("m", 1.0, 1, i)]) for i in (1, 2, 3)])
owner.spool_append([Record(i, None, "r1", [Metric("m", 1.0, 1, i)]) for i in (4, 5)])
print(json.dumps({"dir": str(owner.dir)}), flush=True)
time.sleep(600)
"""


def test_sync_reports_how_many_damaged_lines_it_skipped(tmp_path, spool_dir, isolated_tracking):
    from pathlib import Path

    from flightlog.store import get_store

    store = get_store(isolated_tracking)
    run_id = store.create_run("0", "tester", 0, [], None).info.run_id
    env = env_for(isolated_tracking, spool_dir)
    proc = start(KILLED_WITH_JOURNAL.replace('"r1"', repr(run_id)), env, tmp_path)
    folder = Path(read_json_line(proc, "dir")["dir"])
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    with open(folder / "journal.jsonl", "ab") as f:
        f.write(b'{"seq": 9, "garbage\n\x00\x00\x00\n')  # two damaged lines
    spool_file = next(folder.glob("spool-*.jsonl"))
    with open(spool_file, "ab") as f:
        f.write(b"not json at all\n")  # and one in the spool
    done = sync(env, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 damaged line(s) skipped" in done.stdout, done.stdout
    assert "damaged: 3 unreadable line(s)" in done.stderr, done.stderr
    history = store.get_metric_history(run_id, "m")
    assert sorted(m.step for m in history) == [1, 2, 3, 4, 5]  # the readable ones, once each
