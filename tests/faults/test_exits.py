"""Exits under faults (issue 12 items 3 and 5): the server down and the spool's disk full.
Every exit path keeps its deadline, nothing is counted twice, and what could be stored nowhere
is said loudly (stderr and queue_stats()), naming the run left RUNNING."""

from __future__ import annotations

import time

from fault_helpers import env_for, fill, finish, points, read_json_line, run_status, start, sync

from flightlog.server.process import ServerProcess

LOGGER = """
import json, os, sys, time
import flightlog

seconds, n = float(os.environ.get("SECONDS_", "0")), int(os.environ.get("N", "0"))
with flightlog.start_run() as run:
    print(json.dumps({"run": run.info.run_id}), flush=True)
    sys.stdin.readline()  # the test stops the server
    t0 = time.monotonic()
    i = 0
    while (time.monotonic() - t0 < seconds) if seconds else (i < n):
        flightlog.log_metric("loss", float(i), step=i)
        i += 1
    print(json.dumps({"logged": i}), flush=True)
    t_end = time.monotonic()
print(json.dumps({"end_run_s": time.monotonic() - t_end, "stats": flightlog.queue_stats()}),
      flush=True)
"""


def _start_logging(tmp_path, spool, server, **extra):
    env = env_for(server.url, spool, **extra)
    proc = start(LOGGER, env, tmp_path)
    run_id = read_json_line(proc, "run")["run"]
    server.kill()  # down for good: connections are refused from now on
    proc.stdin.write("go\n")
    proc.stdin.flush()
    return proc, run_id, env


def test_server_down_and_spool_unwritable_every_exit_keeps_its_deadline(tmp_path, small_disk):
    spool = small_disk("spooldisk", 256)
    fill(spool, leave=0)  # not a byte for the journal or the spool
    server = ServerProcess.flightlog(tmp_path / "server")
    with server:
        # Default HTTP retries (6 attempts, ~11 s of backoff per request): before the fix each
        # small batch paid all of it and end_run ran for minutes.
        proc, run_id, _ = _start_logging(tmp_path, spool, server, SECONDS_="5")
        logged = read_json_line(proc, "logged", timeout=120)["logged"]
        ended = read_json_line(proc, "end_run_s", timeout=180)
        t0 = time.monotonic()
        code, _, err, _ = finish(proc, timeout=180)
        exit_s = time.monotonic() - t0
    assert ended["end_run_s"] < 60, ended  # FLIGHTLOG_FLUSH_TIMEOUT (30 s) + slack
    assert exit_s < 90, exit_s  # the atexit path: its own 30 s deadline + slack
    assert code == 0, err[-3000:]
    stats = ended["stats"]
    assert stats["failed"] == 0, stats  # nothing was refused by the store
    assert stats["held"] + stats["lost"] > 0, stats  # said in queue_stats()
    assert stats["held"] + stats["lost"] <= logged + 1, (stats, logged)
    # ... and said on stderr, with the run left RUNNING named.
    assert "could NOT be stored anywhere and are LOST" in err, err[-3000:]
    assert run_id in err and "stay RUNNING" in err, err[-3000:]


def test_spool_disk_full_while_server_down_accounts_for_every_point(tmp_path, small_disk):
    """Part fits in the spool, part is held in memory, the rest is lost: after `flightlog
    sync`, stored + reported lost == logged, exactly, with no duplicates."""
    n = 300_000
    spool = small_disk("spooldisk", 512)
    workdir = tmp_path / "server"
    server = ServerProcess.flightlog(workdir)
    with server:
        port = server.port
        proc, run_id, env = _start_logging(
            tmp_path,
            spool,
            server,
            N=str(n),
            FLIGHTLOG_HTTP_REQUEST_MAX_RETRIES="2",
            FLIGHTLOG_HTTP_REQUEST_BACKOFF_FACTOR="0.2",
        )
        assert read_json_line(proc, "logged", timeout=120)["logged"] == n
        ended = read_json_line(proc, "end_run_s", timeout=180)
        code, _, err, _ = finish(proc, timeout=180)
    assert ended["end_run_s"] < 60, ended
    assert code == 0, err[-3000:]
    lost_line = [line for line in err.splitlines() if "are LOST" in line]
    lost = int(lost_line[-1].split("flightlog: ")[1].split()[0]) if lost_line else 0
    assert lost > 0, err[-3000:]  # this much does not fit in 512 KiB + the in-memory bound
    restarted = ServerProcess.flightlog(workdir, port=port)
    with restarted:
        done = sync(env, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        steps = points(workdir / "flightlog.db", run_id, "loss")
        status = run_status(workdir / "flightlog.db", run_id)
    assert len(steps) == len(set(steps)), "duplicates"
    status_lost = 1 if status == "RUNNING" else 0
    assert status_lost == (1 if "stay RUNNING" in err else 0), (status, err[-2000:])
    assert len(steps) + lost == n + status_lost, (len(steps), lost, n, status)
