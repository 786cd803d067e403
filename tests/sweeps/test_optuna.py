"""The Optuna integration: a study is one parent run with a child run per trial, from one
thread, several threads, or several processes sharing an Optuna RDB storage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from sweep_helpers import sweep_runs  # noqa: E402

import flightlog  # noqa: E402
from flightlog.sweeps import names  # noqa: E402

WORKER = Path(__file__).with_name("optuna_worker.py")
STATE_OF = {"COMPLETE": "COMPLETE", "PRUNED": "PRUNED", "FAIL": "FAILED"}


@pytest.fixture(autouse=True)
def _quiet_optuna():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    flightlog.autolog(disable=True)


def test_forty_trials_on_two_threads_with_pruning_and_sklearn_inside():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    flightlog.autolog()

    def objective(trial):
        c = trial.suggest_float("C", 1e-3, 10.0, log=True)
        solver = trial.suggest_categorical("solver", ["lbfgs", "newton-cg"])
        for step in range(4):
            trial.report(c * (step + 1), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        if trial.number % 9 == 4:
            raise RuntimeError(f"trial {trial.number} broke")
        model = LogisticRegression(C=c, solver=solver, max_iter=300).fit(X, y)
        return 1.0 - model.score(X, y)

    study = optuna.create_study(
        study_name=f"threads-{uuid.uuid4().hex[:6]}",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1),
        sampler=optuna.samplers.TPESampler(seed=1),
    )
    study.optimize(objective, n_trials=40, n_jobs=2, catch=(RuntimeError,))

    client = flightlog.TrackingClient()
    parents, children, top = sweep_runs(client)
    assert len(parents) == 1 and len(children) == 40
    assert top == parents  # no stray top-level runs: sklearn's fits are all inside trials
    parent = client.get_run(parents[0].info.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.params["study_name"] == study.study_name
    assert parent.data.params["sampler"] == "TPESampler"
    assert parent.data.params["pruner"] == "MedianPruner"
    assert parent.data.params["direction"] == "minimize"

    study_states = Counter(STATE_OF[t.state.name] for t in study.trials)
    child_states = Counter(c.data.tags[names.TRIAL_STATE_TAG] for c in children)
    assert child_states == study_states
    assert study_states["PRUNED"] > 0 and study_states["FAILED"] > 0
    for state, count in study_states.items():
        assert parent.data.tags[f"flightlog.sweep.n_{state.lower()}"] == str(count)

    by_number = {int(c.data.tags[names.TRIAL_NUMBER_TAG]): c for c in children}
    assert sorted(by_number) == list(range(40))
    for trial in study.trials:
        child = by_number[trial.number]
        assert child.data.params["C"] == str(trial.params["C"])
        assert child.data.params["solver"] == trial.params["solver"]
        assert "flightlog.optuna.distribution.C" in child.data.tags
        assert child.data.metrics["trial_duration_s"] >= 0
        history = client.get_metric_history(child.info.run_id, "intermediate_value")
        assert {m.step: m.value for m in history} == trial.intermediate_values
        if trial.state.name == "COMPLETE":
            assert child.info.status == "FINISHED"
            assert child.data.metrics["value"] == pytest.approx(trial.value)
            # the autologged LogisticRegression landed in this trial's own child
            assert "training_accuracy_score" in child.data.metrics
            assert child.data.params["max_iter"] == "300"
        elif trial.state.name == "PRUNED":
            assert child.info.status == "KILLED"
        else:
            assert child.info.status == "FAILED"
            assert child.data.tags[names.TRIAL_ERROR_TYPE_TAG] == "RuntimeError"
    best = study.best_trial
    assert parent.data.tags[names.BEST_RUN_TAG] == by_number[best.number].info.run_id
    assert parent.data.params["best_C"] == str(best.params["C"])
    assert parent.data.metrics["best_value"] == pytest.approx(best.value)
    history = client.get_metric_history(parent.info.run_id, "best_value")
    assert len({m.step for m in history}) >= study_states["COMPLETE"]


def test_multi_objective_and_enqueued_trials():
    flightlog.autolog()
    study = optuna.create_study(directions=["minimize", "maximize"], study_name="multi")
    study.enqueue_trial({"x": 0.5})
    study.enqueue_trial({"x": 1.5})

    def objective(trial):
        x = trial.suggest_float("x", 0, 2)
        return x * x, x

    study.optimize(objective, n_trials=6)
    client = flightlog.TrackingClient()
    parents, children, _ = sweep_runs(client)
    assert len(parents) == 1 and len(children) == 6
    parent = client.get_run(parents[0].info.run_id)
    assert parent.data.params["directions"] == "minimize,maximize"
    assert parent.data.tags[names.OBJECTIVE_TAG] == "value_0,value_1"
    enqueued = [c for c in children if c.data.tags.get("flightlog.optuna.enqueued") == "true"]
    assert sorted(c.data.params["x"] for c in enqueued) == ["0.5", "1.5"]
    for child in children:
        x = float(child.data.params["x"])
        assert child.data.metrics["value_0"] == pytest.approx(x * x)
        assert child.data.metrics["value_1"] == pytest.approx(x)
    assert "flightlog.optuna.pareto_trials" in parent.data.tags


def test_flightlog_callback_without_autolog():
    from flightlog.optuna import FlightlogCallback

    callback = FlightlogCallback(metric_name="loss")

    @callback.track_in_flightlog()
    def objective(trial):
        x = trial.suggest_float("x", -1, 1)
        flightlog.log_metric("seen_inside", 1.0)
        return x * x

    study = optuna.create_study(study_name="explicit")
    study.optimize(objective, n_trials=5, callbacks=[callback])
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=2, callbacks=[callback])
    callback.close(study)
    client = flightlog.TrackingClient()
    parents, children, top = sweep_runs(client)
    assert len(parents) == 1 and len(children) == 7 and len(top) == 1
    assert sum("seen_inside" in c.data.metrics for c in children) == 5
    assert all("loss" in c.data.metrics for c in children)
    assert client.get_run(parents[0].info.run_id).info.status == "FINISHED"


# --- several processes on one Optuna RDB storage -----------------------------------------------


def _create_study(tmp_path: Path) -> tuple[str, str]:
    storage_url = f"sqlite:///{tmp_path / 'optuna.db'}"
    name = f"shared-{uuid.uuid4().hex[:6]}"
    optuna.create_study(
        study_name=name, storage=storage_url, sampler=optuna.samplers.RandomSampler()
    )
    return storage_url, name


def _run_workers(tracking_uri: str, storage_url: str, name: str, extra=None):
    env = dict(os.environ, FLIGHTLOG_TRACKING_URI=tracking_uri)
    env.pop("FLIGHTLOG_AUTOLOG_TESTING", None)
    procs = []
    for index in range(3):
        args = [sys.executable, str(WORKER), storage_url, name, "15"]
        if extra and index in extra:
            args += extra[index]
        procs.append(
            subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        )
    return procs


def _check_shared_sweep(client, name: str, storage_url: str, expected: int) -> list:
    parents, children, top = sweep_runs(client)
    assert len(parents) == 1, [p.data.tags for p in parents]
    assert len(top) == 1
    assert len(children) == expected
    numbers = [int(c.data.tags[names.TRIAL_NUMBER_TAG]) for c in children]
    assert len(set(numbers)) == expected  # no duplicates
    study = optuna.load_study(study_name=name, storage=storage_url)
    assert sorted(numbers) == sorted(t.number for t in study.trials)
    for child in children:
        assert "inside" in child.data.metrics or child.info.status == "KILLED"
    return children


def _wait_all(procs, timeout=600):
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=timeout)
        outputs.append(out.decode(errors="replace"))
        assert proc.returncode == 0, outputs[-1][-3000:]
    return outputs


@pytest.fixture(params=["sqlite", "postgresql", "server"])
def tracking_target(request, tmp_path):
    """Where the three processes track: a SQLite file, a PostgreSQL database, a flightlog server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracking.db'}"
    elif request.param == "postgresql":
        yield request.getfixturevalue("postgres_database")
    else:
        from flightlog.server.process import ServerProcess

        server = ServerProcess.flightlog(tmp_path / "server")
        server.start(timeout=120)
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture
def postgres_database():
    import sqlalchemy as sa

    admin_uri = os.environ.get(
        "FLIGHTLOG_TEST_POSTGRES_URI", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    name = f"flightlog_sweeps_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(admin_uri, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - no server to test against
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL not reachable at {admin_uri}: {exc}")
    url = sa.engine.make_url(admin_uri).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        from flightlog.store import get_store

        try:
            get_store(url.render_as_string(hide_password=False)).close()
        except Exception:  # noqa: BLE001
            pass
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_three_processes_share_one_study_and_one_parent(tmp_path, tracking_target):
    storage_url, name = _create_study(tmp_path)
    _wait_all(_run_workers(tracking_target, storage_url, name))
    client = flightlog.TrackingClient(tracking_target)
    children = _check_shared_sweep(client, name, storage_url, 45)
    assert Counter(c.info.status for c in children) == {"FINISHED": 45}
    parents, _, _ = sweep_runs(client)
    parent = client.get_run(parents[0].info.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["flightlog.sweep.n_complete"] == "45"
    members = [k for k in parent.data.tags if k.startswith(names.MEMBER_TAG_PREFIX)]
    assert len(members) == 3


def test_a_sigkilled_process_leaves_its_trial_killed_when_the_sweep_closes(tmp_path):
    tracking_uri = f"sqlite:///{tmp_path / 'tracking.db'}"
    storage_url, name = _create_study(tmp_path)
    client = flightlog.TrackingClient(tracking_uri)
    # The launcher holds the sweep open while its workers run, and closes it at the end.
    launcher = client.sweep(name, objective="value", direction="minimize", experiment_id="0")
    marker = tmp_path / "hanging"
    procs = _run_workers(tracking_uri, storage_url, name, extra={2: ["3", str(marker)]})
    deadline = time.monotonic() + 600
    while not marker.exists():
        assert time.monotonic() < deadline, "the worker never reached its hanging trial"
        assert procs[2].poll() is None, procs[2].stdout.read().decode()[-3000:]
        time.sleep(0.2)
    time.sleep(0.5)
    os.kill(procs[2].pid, signal.SIGKILL)
    procs[2].wait(timeout=60)
    _wait_all(procs[:2])
    assert launcher.close() is True
    killed_number = int(marker.read_text())
    children = _check_shared_sweep(client, name, storage_url, 33)  # 15 + 15 + 2 done + 1 killed
    killed = [c for c in children if c.info.status == "KILLED"]
    assert len(killed) == 1
    assert killed[0].data.tags[names.TRIAL_NUMBER_TAG] == str(killed_number)
    assert killed[0].data.tags[names.TRIAL_STATE_TAG] == "KILLED"
    assert killed[0].data.tags[names.TRIAL_ERROR_TYPE_TAG] == "ProcessLost"
    assert Counter(c.info.status for c in children)["FINISHED"] == 32
    parent = client.get_run(launcher.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["flightlog.sweep.n_killed"] == "1"
    assert parent.data.tags["flightlog.sweep.n_complete"] == "32"


MLFLOW_CALLBACK_SCRIPT = """
import sys, optuna
from optuna_integration.mlflow import MLflowCallback
optuna.logging.set_verbosity(optuna.logging.WARNING)
callback = MLflowCallback(tracking_uri=sys.argv[1], metric_name="loss")
study = optuna.create_study(study_name="official")
study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=4, callbacks=[callback])
print(sorted(t.params["x"] for t in study.trials))
"""


def test_optuna_integrations_own_mlflow_callback_works_against_flightlog_server(tmp_path):
    pytest.importorskip("optuna_integration")
    from flightlog.server.process import ServerProcess

    server = ServerProcess.flightlog(tmp_path / "server")
    server.start(timeout=120)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLIGHTLOG_", "MLFLOW_"))}
        out = subprocess.run(
            [sys.executable, "-c", MLFLOW_CALLBACK_SCRIPT, server.url],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        client = flightlog.TrackingClient(server.url)
        exp = client.get_experiment_by_name("official")
        assert exp is not None
        runs = client.search_runs([exp.experiment_id])
        assert len(runs) == 4
        for run in runs:
            x = float(run.data.params["x"])
            assert run.data.metrics["loss"] == pytest.approx((x - 1) ** 2)
            assert run.info.status == "FINISHED"
    finally:
        server.stop()
