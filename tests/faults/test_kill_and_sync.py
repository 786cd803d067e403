"""A client SIGKILLed mid-run, then `flightlog sync` (issue 12 item 4): every journaled batch
is stored exactly once. A batch the server committed but whose answer the client never wrote
down is sent again by sync; its batch id makes that harmless."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from fault_helpers import env_for, points, read_json_line, start, sync

from flightlog.server.process import ServerProcess

LOGGER = """
import json, os, time
import flightlog

with flightlog.start_run() as run:
    print(json.dumps({"run": run.info.run_id}), flush=True)
    i = 0
    while i < 20_000:
        flightlog.log_metric("loss", float(i), step=i)
        i += 1
    assert flightlog.flush(timeout=120)
    print(json.dumps({"durable": i}), flush=True)
    while True:  # until SIGKILL
        flightlog.log_metric("loss", float(i), step=i)
        i += 1
        if i % 500 == 0:
            time.sleep(0.002)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("killserver")
    with ServerProcess.flightlog(workdir) as proc:
        yield proc


def _db_of(server) -> str:
    return str(server.cwd) + "/flightlog.db"


@pytest.mark.parametrize("target", ["server", "sqlite"])
def test_sigkill_mid_run_then_sync_stores_every_journaled_point_once(
    target, server, tmp_path, spool_dir
):
    if target == "server":
        uri, db, extra = server.url, _db_of(server), {}
    else:
        db = str(tmp_path / "embedded.db")
        uri, extra = f"sqlite:///{db}", {"FLIGHTLOG_JOURNAL": "1"}
    env = env_for(uri, spool_dir, **extra)
    rng = random.Random(12)
    for _round in range(3):
        proc = start(LOGGER, env, tmp_path)
        run_id = read_json_line(proc, "run")["run"]
        durable = read_json_line(proc, "durable", timeout=240)["durable"]
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        done = sync(env, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        steps = points(db, run_id, "loss")
        # No duplicates, no gaps (batches are sent in order), nothing flushed is missing; only
        # what was still in memory at the kill (under one batching window) may be absent.
        assert steps == list(range(len(steps))), (len(steps), len(set(steps)))
        assert len(steps) >= durable
        again = sync(env, tmp_path)
        assert "Nothing to sync" in again.stdout, again.stdout
        assert points(db, run_id, "loss") == steps


COMMITTED_NOT_ACKED = """
import json, os, time
from flightlog.entities import Metric, RunTag
from flightlog.spool import Owner, Record, send
from flightlog.store import get_store

uri, run_id, with_id = os.environ["URI"], os.environ["RUN"], os.environ["WITH_ID"] == "1"
store = get_store(uri)
first = Record(1, uri, run_id, [Metric("m", 1.0, 1, 1)], [], [RunTag("phase", "a")],
               batch_id="t-1" if with_id else None)
owner = Owner()
owner.journal_append([first])  # journaled ...
send(store, first)             # ... stored by the server, but the ack never written
store.log_batch(run_id, [Metric("m", 2.0, 2, 2)], [], [RunTag("phase", "b")])  # a later batch
print(json.dumps({"ready": str(owner.dir)}), flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("target", ["server", "sqlite"])
def test_a_batch_sync_sends_again_is_not_applied_twice(target, server, tmp_path, spool_dir):
    """The tag of the re-sent batch would overwrite a later one without its batch id; with it,
    the store skips the batch (the control run shows the damage a blind re-send does)."""
    from flightlog.store import get_store

    uri = server.url if target == "server" else f"sqlite:///{tmp_path / 'embedded.db'}"
    store = get_store(uri)
    outcome = {}
    for with_id in (True, False):
        run_id = store.create_run("0", "tester", 0, [], None).info.run_id
        env = env_for(uri, spool_dir, URI=uri, RUN=run_id, WITH_ID="1" if with_id else "0")
        proc = start(COMMITTED_NOT_ACKED, env, tmp_path)
        read_json_line(proc, "ready")
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        done = sync(env, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        run = store.get_run(run_id)
        outcome[with_id] = run.data.tags["phase"]
        history = store.get_metric_history(run_id, "m")
        assert [m.step for m in history] == [1, 2]
    assert outcome == {True: "b", False: "a"}
