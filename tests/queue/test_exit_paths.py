"""Real processes ending in every way: normal exit, uncaught exception, Ctrl-C, SIGTERM (with
and without a user handler), SIGKILL during an outage, and an outage that outlasts the process.
Each time the data logged must end up in the store and the run must not stay RUNNING."""

from __future__ import annotations

import signal
import time

from queue_helpers import read_until, run_cli, script_env, start_script

from flightlog import spool
from flightlog.entities import RunStatus

LOG_POINTS = """
import flightlog
run = flightlog.start_run()
print("run", run.info.run_id, flush=True)
for i in range({n}):
    flightlog.log_metric("loss", i * 0.5, step=i)
print("logged", {n}, flush=True)
"""


# Generous: on a busy 2-core machine a child's start-up and exit can take tens of seconds. A
# hang still fails (the timeout), and the tests that bound a duration compare it with the
# setting under test (a 2 s deadline against a 120 s busy timeout), never with machine speed.
PROCESS_TIMEOUT = 300


def _finish(proc, timeout: float = PROCESS_TIMEOUT) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _run_id(out: str) -> str:
    return next(line.split()[1] for line in out.splitlines() if line.startswith("run "))


def _check_run(store, run_id: str, n: int, status: str) -> None:
    points = list(store.get_metric_history(run_id, "loss"))
    assert [m.step for m in points] == list(range(n))
    assert store.get_run(run_id).info.status == status


def test_normal_exit_without_end_run_stores_everything_and_finishes(
    isolated_tracking, spool_dir, tmp_path, store
):
    proc = start_script(
        LOG_POINTS.format(n=50_000), script_env(isolated_tracking, spool_dir), tmp_path
    )
    code, out, err = _finish(proc)
    assert code == 0, err
    _check_run(store, _run_id(out), 50_000, RunStatus.FINISHED)


def test_sigterm_stores_what_was_logged_and_marks_the_run_killed(
    isolated_tracking, spool_dir, tmp_path, store
):
    code = LOG_POINTS.format(n=20_000) + "import time\ntime.sleep(60)\n"
    proc = start_script(code, script_env(isolated_tracking, spool_dir), tmp_path)
    run_id = read_until(proc, "run ").split()[1]
    read_until(proc, "logged")
    proc.send_signal(signal.SIGTERM)
    returncode, _, err = _finish(proc)
    assert returncode == -signal.SIGTERM, err  # died of SIGTERM, like the default handler
    _check_run(store, run_id, 20_000, RunStatus.KILLED)


def test_sigterm_chains_a_handler_the_user_installed_first(
    isolated_tracking, spool_dir, tmp_path, store
):
    code = """
import signal, sys, time
def handler(signum, frame):
    print("user handler", flush=True)
    sys.exit(3)  # the usual graceful shutdown: unwinds through the `with` block below
signal.signal(signal.SIGTERM, handler)
import flightlog
with flightlog.start_run() as run:
    print("run", run.info.run_id, flush=True)
    for i in range(5000):
        flightlog.log_metric("loss", i * 0.5, step=i)
    print("logged", 5000, flush=True)
    time.sleep(60)
"""
    proc = start_script(code, script_env(isolated_tracking, spool_dir), tmp_path)
    run_id = read_until(proc, "run ").split()[1]
    read_until(proc, "logged")
    proc.send_signal(signal.SIGTERM)
    returncode, out, err = _finish(proc)
    assert returncode == 3 and "user handler" in out, err
    _check_run(store, run_id, 5000, RunStatus.KILLED)


def test_an_uncaught_exception_stores_everything_and_fails_the_run(
    isolated_tracking, spool_dir, tmp_path, store
):
    code = (
        "import sys\n"
        "def hook(t, v, tb):\n"
        "    print('user hook saw', t.__name__, flush=True)\n"
        "sys.excepthook = hook\n"
        + LOG_POINTS.format(n=10_000)
        + "raise RuntimeError('training diverged')\n"
    )
    proc = start_script(code, script_env(isolated_tracking, spool_dir), tmp_path)
    returncode, out, err = _finish(proc)
    assert returncode == 1
    assert "user hook saw RuntimeError" in out  # the hook installed before us still runs
    _check_run(store, _run_id(out), 10_000, RunStatus.FAILED)


def test_ctrl_c_stores_everything_and_kills_the_run(isolated_tracking, spool_dir, tmp_path, store):
    code = LOG_POINTS.format(n=10_000) + "import time\ntime.sleep(60)\n"
    proc = start_script(code, script_env(isolated_tracking, spool_dir), tmp_path)
    run_id = read_until(proc, "run ").split()[1]
    read_until(proc, "logged")
    proc.send_signal(signal.SIGINT)
    returncode, _, err = _finish(proc)
    assert returncode != 0 and "KeyboardInterrupt" in err
    _check_run(store, run_id, 10_000, RunStatus.KILLED)


OUTAGE_SCRIPT = """
import sys, time
from flightlog.store import sql
sql.SQLITE_BUSY_TIMEOUT_S = {busy}
import flightlog
run = flightlog.start_run()
print("run", run.info.run_id, flush=True)
sys.stdin.readline()  # the test locks the database now
for i in range({n}):
    flightlog.log_metric("loss", i * 0.5, step=i)
flightlog.log_param("lr", "0.01")
flightlog.flush(timeout=1.0)
print("logged", {n}, flush=True)
"""


def test_an_outage_longer_than_the_process_spools_and_sync_replays_it_once(
    isolated_tracking, spool_dir, tmp_path, store, db_lock
):
    n = 3000
    env = script_env(
        isolated_tracking,
        spool_dir,
        FLIGHTLOG_FLUSH_TIMEOUT="2",
        FLIGHTLOG_RETRY_TIMEOUT="0.2",
    )
    proc = start_script(OUTAGE_SCRIPT.format(n=n, busy=0.05), env, tmp_path)
    run_id = read_until(proc, "run ").split()[1]
    db_lock.acquire()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    started = time.monotonic()
    returncode, _, err = _finish(proc)
    assert returncode == 0, err
    # shutdown never hangs on a dead backend: bounded by the 2 s flush deadline, far below the
    # busy timeouts and retries it would otherwise sit through (generous for a busy machine)
    assert time.monotonic() - started < 100
    # One message saying how much is left and where.
    (folder,) = spool.owner_folders(spool_dir)
    assert err.count("flightlog sync") == 1 and str(folder) in err
    assert f"{n + 2} " in err  # the points, the param and the run's final status
    assert list(store.get_metric_history(run_id, "loss")) == []
    assert store.get_run(run_id).info.status == RunStatus.RUNNING

    db_lock.release()
    dry = run_cli("sync", "--dry-run", env=env, cwd=tmp_path)
    assert dry.returncode == 0 and "would send" in dry.stdout and str(n + 2) in dry.stdout
    assert list(store.get_metric_history(run_id, "loss")) == []
    result = run_cli("sync", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    _check_run(store, run_id, n, RunStatus.FINISHED)
    assert store.get_run(run_id).data.params == {"lr": "0.01"}
    assert not spool.owner_folders(spool_dir)
    again = run_cli("sync", env=env, cwd=tmp_path)
    assert again.returncode == 0 and "Nothing to sync" in again.stdout
    assert len(list(store.get_metric_history(run_id, "loss"))) == n  # exactly once


def test_sigkill_during_an_outage_loses_nothing_that_left_memory(
    isolated_tracking, spool_dir, tmp_path, store, db_lock
):
    n = 4000
    env = script_env(isolated_tracking, spool_dir, FLIGHTLOG_JOURNAL="1")
    # A long busy timeout: the first batch hangs in flight (journaled, unacknowledged) while
    # the second is logged; one batching window later the journal holds that one too.
    code = f"""
import sys, time
from flightlog.store import sql
sql.SQLITE_BUSY_TIMEOUT_S = 120
import flightlog
run = flightlog.start_run()
print("run", run.info.run_id, flush=True)
sys.stdin.readline()  # the test locks the database now
for i in range({n // 2}):
    flightlog.log_metric("loss", i * 0.5, step=i)
assert flightlog.flush(timeout=1.0) is False  # in flight, waiting on the lock
for i in range({n // 2}, {n}):
    flightlog.log_metric("loss", i * 0.5, step=i)
flightlog.log_param("lr", "0.01")
time.sleep(1.0)
print("logged", {n}, flush=True)
time.sleep(120)
"""
    proc = start_script(code, env, tmp_path)
    run_id = read_until(proc, "run ").split()[1]
    db_lock.acquire()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    read_until(proc, "logged")
    (folder,) = spool.owner_folders(spool_dir)
    assert sum(r.size for r in spool.folder_records(folder)) == n + 1  # the journal has it all
    running = run_cli("sync", env=env, cwd=tmp_path)  # never takes a live process's folder
    assert "still running" in running.stdout
    proc.kill()
    proc.communicate(timeout=PROCESS_TIMEOUT)
    db_lock.release()

    result = run_cli("sync", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    points = list(store.get_metric_history(run_id, "loss"))
    assert [m.step for m in points] == list(range(n))
    assert store.get_run(run_id).data.params == {"lr": "0.01"}
    assert not spool.owner_folders(spool_dir)


def test_exit_with_a_store_call_hanging_ends_by_the_deadline_and_spools_the_rest(
    isolated_tracking, spool_dir, tmp_path, store, db_lock
):
    n = 2000
    env = script_env(isolated_tracking, spool_dir, FLIGHTLOG_FLUSH_TIMEOUT="2")
    # SQLite waits 120 s for the lock: the writer is stuck inside log_batch when the script ends.
    proc = start_script(OUTAGE_SCRIPT.format(n=n, busy=120), env, tmp_path)
    run_id = read_until(proc, "run ").split()[1]
    db_lock.acquire()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    started = time.monotonic()
    returncode, _, err = _finish(proc)
    assert returncode == 0, err
    # the deadline (2 s), not the 120 s busy timeout: anything under 100 s tells them apart
    assert time.monotonic() - started < 100
    (folder,) = spool.owner_folders(spool_dir)
    assert err.count("flightlog sync") == 1 and str(folder) in err
    assert f"{n + 2} " in err  # points and param from the stuck batch, plus the run's status

    db_lock.release()
    result = run_cli("sync", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    _check_run(store, run_id, n, RunStatus.FINISHED)
