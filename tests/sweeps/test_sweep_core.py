"""flightlog.sweep(): the parent found or created by key, trials and their states, the summary,
context-local runs on worker threads, the environment hand-off to other processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter

import pytest
from sweep_helpers import sweep_runs  # noqa: E402

import flightlog
from flightlog import fluent
from flightlog.exceptions import InvalidParameterError, RunNotActiveError
from flightlog.sweeps import names, sweep_run_id


def _client():
    return flightlog.TrackingClient()


def test_trials_end_in_their_states_and_the_parent_summarises_them():
    with flightlog.sweep("states", objective="loss", direction="minimize") as parent:
        assert flightlog.active_run().info.run_id == parent.info.run_id
        for i, (x, outcome) in enumerate(
            [(3.0, "ok"), (1.0, "ok"), (0.5, "prune"), (2.0, "fail"), (-1.5, "ok")]
        ):
            try:
                with parent.trial(number=i, params={"x": x}) as trial:
                    assert flightlog.active_run().info.run_id == trial.info.run_id
                    flightlog.log_metric("loss", x * x)  # fluent calls land in the trial
                    if outcome == "prune":
                        trial.prune()
                    if outcome == "fail":
                        raise ZeroDivisionError("diverged")
            except ZeroDivisionError:
                pass
    client = _client()
    run = client.get_run(parent.info.run_id)
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags[names.SWEEP_KEY_TAG] == "states"
    assert tags[names.OBJECTIVE_TAG] == "loss" and tags[names.DIRECTION_TAG] == "minimize"
    assert (tags["flightlog.sweep.n_complete"], tags["flightlog.sweep.n_pruned"]) == ("3", "1")
    assert (tags["flightlog.sweep.n_failed"], tags["flightlog.sweep.n_trials"]) == ("1", "5")
    parents, children, _ = sweep_runs(client)
    assert [p.info.run_id for p in parents] == [parent.info.run_id]
    by_x = {c.data.params["x"]: c for c in children}
    assert tags[names.BEST_RUN_TAG] == by_x["1.0"].info.run_id  # loss 1.0 is the best COMPLETE
    assert run.data.params["best_x"] == "1.0"
    assert by_x["0.5"].info.status == "KILLED"
    assert by_x["0.5"].data.tags[names.TRIAL_STATE_TAG] == "PRUNED"
    assert by_x["2.0"].info.status == "FAILED"
    assert by_x["2.0"].data.tags[names.TRIAL_ERROR_TYPE_TAG] == "ZeroDivisionError"
    assert "diverged" in by_x["2.0"].data.tags[names.TRIAL_ERROR_TAG]
    assert by_x["3.0"].info.status == "FINISHED"
    history = client.get_metric_history(parent.info.run_id, "best_value")
    # one point per trial after the first COMPLETE one, step = trial number, never worse
    steps = sorted({m.step for m in history})
    assert steps == [0, 1, 2, 3, 4]
    assert run.data.metrics["best_value"] == 1.0


def test_report_is_history_and_the_last_report_is_the_value():
    with flightlog.sweep("reports", objective="val", direction="maximize") as parent:
        with parent.trial(params={"lr": 0.1}) as trial:
            for step, v in enumerate([0.2, 0.5, 0.7]):
                trial.report(v, step)
        with parent.trial(params={"lr": 0.2}) as trial2:
            trial2.set_value(0.6)
    client = _client()
    history = client.get_metric_history(trial.info.run_id, "val")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
        (0, 0.2),
        (1, 0.5),
        (2, 0.7),
    ]
    tags = client.get_run(parent.info.run_id).data.tags
    assert tags[names.BEST_RUN_TAG] == trial.info.run_id  # 0.7 beats 0.6 when maximizing
    assert client.get_run(trial2.info.run_id).data.metrics["val"] == 0.6


def test_the_same_key_is_the_same_parent_and_a_finished_sweep_is_rejoined():
    first = flightlog.sweep("again")
    first_id = first.info.run_id
    with first.trial(params={"a": 1}) as t:
        t.set_value(1.0)
    flightlog.end_run()  # the plain-call form ends like any active run
    client = _client()
    assert client.get_run(first_id).info.status == "FINISHED"
    assert flightlog.active_run() is None
    with flightlog.sweep("again") as second:
        assert second.info.run_id == first_id == sweep_run_id("0", "again")
        assert client.get_run(first_id).info.status == "RUNNING"
        with second.trial(params={"a": 2}) as t:
            t.set_value(0.5)
    run = client.get_run(first_id)
    assert run.data.tags["flightlog.sweep.n_trials"] == "2"
    assert run.data.tags[names.BEST_VALUE_TAG] == "0.5"
    # a new best after best_<param> was logged: params cannot change, the tag has it
    assert json.loads(run.data.tags["flightlog.sweep.best_params"]) == {"a": "2"}
    exp = flightlog.create_experiment("other")
    with flightlog.sweep("again", experiment_id=exp) as elsewhere:
        assert elsewhere.info.run_id != first_id


def test_bad_sweeps_are_refused_with_clear_errors():
    with pytest.raises(InvalidParameterError, match="non-empty name"):
        flightlog.sweep("")
    with pytest.raises(InvalidParameterError, match="minimize"):
        flightlog.sweep("x", direction="down")
    with flightlog.sweep("fixed", direction="maximize"):
        pass
    with pytest.raises(InvalidParameterError, match="direction"):
        flightlog.sweep("fixed", direction="minimize")
    parent_id = sweep_run_id("0", "fixed")
    flightlog.delete_run(parent_id)
    with pytest.raises(RunNotActiveError, match="deleted"):
        flightlog.sweep("fixed")
    assert flightlog.active_run() is None


def test_worker_threads_log_into_their_own_trials():
    barrier = threading.Barrier(4)
    errors = []
    with flightlog.sweep("threads") as parent:

        def work(i: int) -> None:
            try:
                with parent.trial(number=i, params={"i": i}) as trial:
                    barrier.wait(timeout=60)  # all four trials open at once
                    for step in range(20):
                        flightlog.log_metric("m", i, step=step)
                    flightlog.log_param("who", i)
                    assert flightlog.active_run().info.run_id == trial.info.run_id
                    trial.set_value(float(i))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # the main thread still sees the parent
        assert flightlog.active_run().info.run_id == parent.info.run_id
    assert not errors
    client = _client()
    _, children, top = sweep_runs(client)
    assert len(children) == 4 and len(top) == 1
    for child in children:
        i = child.data.params["i"]
        assert child.data.params["who"] == i
        values = {m.value for m in client.get_metric_history(child.info.run_id, "m")}
        assert values == {float(i)}  # nothing from a sibling


def test_nested_start_run_on_a_worker_thread_is_a_child_of_the_main_threads_run():
    done = []
    with flightlog.start_run() as main:

        def work(i: int) -> None:
            with flightlog.start_run(nested=True, run_name=f"w{i}") as child:
                flightlog.log_metric("i", i)
                done.append(child.info.run_id)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert flightlog.active_run().info.run_id == main.info.run_id
    client = _client()
    for run_id in done:
        run = client.get_run(run_id)
        assert run.data.tags["mlflow.parentRunId"] == main.info.run_id
        assert run.info.status == "FINISHED"


def test_single_thread_mlflow_code_is_unchanged():
    with flightlog.start_run() as outer:
        with pytest.raises(InvalidParameterError, match="already active"):
            flightlog.start_run()
        with flightlog.start_run(nested=True) as inner:
            assert flightlog.active_run().info.run_id == inner.info.run_id
        assert flightlog.active_run().info.run_id == outer.info.run_id
    assert fluent._active_runs == []


def test_start_run_inside_a_sweep_makes_a_child():
    with flightlog.sweep("plain-children") as parent, flightlog.start_run() as child:
        flightlog.log_metric("value", 1.0)
    run = _client().get_run(child.info.run_id)
    assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert _client().get_run(parent.info.run_id).data.tags["flightlog.sweep.n_complete"] == "1"


CHILD_SCRIPT = """
import os, flightlog
with flightlog.start_run() as run:
    flightlog.log_metric("value", float(os.environ["VALUE"]))
print(run.info.run_id)
"""


def test_processes_started_by_a_sweep_attach_their_runs_and_mlflow_run_id_does_not_hijack(
    isolated_tracking,
):
    client = _client()
    launcher_run = client.create_run("0", run_name="launcher")
    with flightlog.sweep("subprocesses", direction="minimize") as parent:
        assert os.environ[names.PARENT_RUN_ENV] == parent.info.run_id
        ids = []
        for value in (3.0, 1.0):
            env = dict(os.environ, VALUE=str(value), MLFLOW_RUN_ID=launcher_run.info.run_id)
            out = subprocess.run(
                [sys.executable, "-c", CHILD_SCRIPT],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert out.returncode == 0, out.stderr
            ids.append(out.stdout.strip().splitlines()[-1])
    assert names.PARENT_RUN_ENV not in os.environ  # restored when the sweep closed
    for run_id in ids:
        run = client.get_run(run_id)
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert len(set(ids)) == 2
    untouched = client.get_run(launcher_run.info.run_id)
    assert untouched.data.metrics == {} and untouched.info.status == "RUNNING"
    final = client.get_run(parent.info.run_id)
    assert final.data.tags[names.BEST_RUN_TAG] == ids[1]
    assert final.data.tags["flightlog.sweep.n_complete"] == "2"


def _pool_trial(task: tuple[str, int]) -> str:
    key, number = task
    with (
        flightlog.sweep(key) as parent,
        parent.trial(number=number, params={"n": number}) as trial,
    ):
        trial.set_value(float((number - 17) ** 2))
    return trial.info.run_id


def test_a_multiprocessing_pool_of_four_workers_makes_one_parent_and_forty_children():
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    # The sweep that starts the pool; the workers join it by key. The pool is closed and
    # joined (workers leave through their exit path) rather than terminated by `with Pool`,
    # whose SIGTERM makes each worker run flightlog's bounded shutdown one after another.
    with flightlog.sweep("pool"):
        pool = ctx.Pool(4)
        try:
            ids = pool.map(_pool_trial, [("pool", n) for n in range(40)], chunksize=1)
            pool.close()
            pool.join()
        finally:
            pool.terminate()
    assert len(set(ids)) == 40
    client = _client()
    parents, children, top = sweep_runs(client)
    assert len(parents) == 1 and len(top) == 1 and len(children) == 40
    assert {c.data.params["n"] for c in children} == {str(n) for n in range(40)}
    parent = client.get_run(parents[0].info.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["flightlog.sweep.n_complete"] == "40"
    assert parent.data.params["best_n"] == "17"
    assert Counter(c.info.status for c in children) == {"FINISHED": 40}


def test_through_the_tracking_client():
    client = _client()
    handle = client.sweep("client-sweep", objective="loss")
    with handle.trial(params={"k": 1}) as trial:
        trial.set_value(0.25)
    assert flightlog.active_run() is None  # a client sweep is never the fluent active run
    assert handle.close() is True
    run = client.get_run(handle.run_id)
    assert run.info.status == "FINISHED" and run.data.params["best_k"] == "1"
