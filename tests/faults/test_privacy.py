"""Spool and journal files are private, and no password from the tracking URI reaches them or
the client's messages (issue 12 item 8, client half)."""

from __future__ import annotations

import os
import stat

from fault_helpers import env_for, finish, points, read_json_line, start, sync

from flightlog.server.process import ServerProcess
from flightlog.spool import Owner, Record

SECRET = "s3cr3t-pw"

LOGGER = """
import json, sys
import flightlog

with flightlog.start_run() as run:
    flightlog.log_param("lr", "0.1")
    print(json.dumps({"run": run.info.run_id}), flush=True)
    sys.stdin.readline()  # the test stops the server
    for i in range(2000):
        flightlog.log_metric("loss", float(i), step=i)
"""


def test_spool_files_are_0600_in_a_0700_folder(spool_dir):
    owner = Owner(spool_dir)
    owner.journal_append([Record(1, "http://u@h", "r1")])
    owner.spool_append([Record(2, "http://u@h", "r1")])
    owner.mark_replayed(2)
    folder = owner.dir
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    files = [p for p in folder.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"journal.jsonl", "owner.json", "lock", "replayed"}
    assert any(p.name.startswith("spool-") for p in files)
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    owner.remove()


def test_no_uri_password_in_spool_journal_or_messages_and_sync_still_delivers(tmp_path, spool_dir):
    workdir = tmp_path / "server"
    server = ServerProcess.flightlog(workdir)
    with server:
        port = server.port
        uri = f"http://alice:{SECRET}@127.0.0.1:{port}"
        env = env_for(
            uri,
            spool_dir,
            FLIGHTLOG_HTTP_REQUEST_MAX_RETRIES="1",
            FLIGHTLOG_HTTP_REQUEST_BACKOFF_FACTOR="0.05",
        )
        proc = start(LOGGER, env, tmp_path)
        run_id = read_json_line(proc, "run")["run"]
        server.kill()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        code, out, err, _ = finish(proc, timeout=180)
    assert code == 0, err[-3000:]
    assert "spool" in err and "flightlog sync" in err, err[-3000:]  # it did spool
    assert SECRET not in err and SECRET not in out
    files = [p for p in spool_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    for folder in (p for p in spool_dir.rglob("*") if p.is_dir()):
        if folder != spool_dir:
            assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    # `flightlog sync` with the same tracking URI (password included) delivers everything.
    with ServerProcess.flightlog(workdir, port=port):
        done = sync(env, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert SECRET not in done.stdout + done.stderr
        assert points(workdir / "flightlog.db", run_id, "loss") == list(range(2000))
