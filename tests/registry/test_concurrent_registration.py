"""Two processes registering versions of one model at the same moment get 1..40, no gaps, no
duplicates (SQLite, PostgreSQL and MySQL through the `store_target` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import flightlog.sklearn

VERSIONS_PER_PROCESS = 20

_CHILD = textwrap.dedent(
    """
    import os, sys, time
    import flightlog
    ready, go, model_dir = sys.argv[1:4]
    open(ready, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            sys.exit("never told to start")
        time.sleep(0.005)
    versions = [flightlog.register_model(model_dir, "race").version for _ in range({n})]
    print(" ".join(versions))
    """
).format(n=VERSIONS_PER_PROCESS)


def test_two_processes_register_at_once(store_target, tmp_path, model):
    model_dir = tmp_path / "model"
    flightlog.sklearn.save_model(model, str(model_dir))
    env = dict(os.environ, FLIGHTLOG_TRACKING_URI=store_target.uri)
    store_target.open().close()  # create/migrate the schema before the race starts
    go = tmp_path / "go"
    children = []
    for i in range(2):
        ready = tmp_path / f"ready-{i}"
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(ready), str(go), str(model_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        children.append((proc, ready))
    try:
        deadline = time.monotonic() + 60
        while not all(ready.exists() for _, ready in children):
            assert time.monotonic() < deadline, "children did not start"
            assert all(p.poll() is None for p, _ in children), children[0][0].communicate()
            time.sleep(0.01)
        go.touch()
        outputs = [proc.communicate(timeout=120) for proc, _ in children]
    finally:
        for proc, _ in children:
            if proc.poll() is None:
                proc.kill()
    for (proc, _), (_out, err) in zip(children, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]

    per_process = [[int(v) for v in out.split()] for out, _ in outputs]
    assert all(len(got) == VERSIONS_PER_PROCESS for got in per_process)
    assert all(got == sorted(got) for got in per_process)  # each process sees its own increase
    everything = sorted(per_process[0] + per_process[1])
    assert everything == list(range(1, 2 * VERSIONS_PER_PROCESS + 1))

    store = store_target.open()
    try:
        stored = [int(v.version) for v in store.search_model_versions("name = 'race'")]
    finally:
        store.close()
    assert sorted(stored) == everything
