"""Patched training calls: runs, nesting, exception isolation, test mode."""

from __future__ import annotations

import threading
import warnings

import pytest

import flightlog
from flightlog.autolog.reporting import FlightlogAutologWarning
from flightlog.entities import RunStatus
from flightlog.exceptions import AutologTestModeError


def test_outermost_call_logs_one_finished_run(toy, all_runs):
    integration, import_module = toy
    integration.autolog(extra_tags={"team": "vision"})
    fw = import_module()

    assert fw.Trainer().fit([1, 2, 3], epochs=2) == 12

    (run,) = all_runs()
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params == {"epochs": "2"}
    assert run.data.metrics == {"result": 12.0}
    assert run.data.tags["mlflow.autologging"] == "toy"
    assert run.data.tags["team"] == "vision"
    assert flightlog.active_run() is None
    assert flightlog.last_active_run().info.run_id == run.info.run_id


def test_nested_calls_log_once_at_the_outermost(toy, all_runs):
    integration, import_module = toy
    integration.autolog()
    fw = import_module()

    assert fw.SubTrainer().fit([1], epochs=3) == 3  # fit -> super().fit
    pipeline = fw.Pipeline([fw.Trainer(), fw.SubTrainer()])
    assert pipeline.fit([1, 2]) == 2

    runs = all_runs()
    assert len(runs) == 2
    assert sorted(r.data.metrics["result"] for r in runs) == [2.0, 3.0]


def test_logs_into_the_users_run_and_leaves_it_open(toy, all_runs):
    integration, import_module = toy
    integration.autolog()
    fw = import_module()

    with flightlog.start_run() as user_run:
        fw.Trainer().fit([5])
        assert flightlog.active_run().info.run_id == user_run.info.run_id
    (run,) = all_runs()
    assert run.info.run_id == user_run.info.run_id
    assert run.data.metrics == {"result": 5.0}
    assert "mlflow.autologging" not in run.data.tags  # MLflow tags only runs it starts


def test_exclusive_does_not_touch_the_users_run(toy, all_runs):
    integration, import_module = toy
    integration.autolog(exclusive=True)
    fw = import_module()

    with flightlog.start_run():
        assert fw.Trainer().fit([5]) == 5
    (run,) = all_runs()
    assert run.data.metrics == {}
    assert run.data.params == {}


def test_users_exception_passes_through_and_run_fails(toy, all_runs):
    integration, import_module = toy
    integration.autolog()
    fw = import_module()
    trainer = fw.Trainer(fail=True)

    with pytest.raises(ValueError, match=r"bad data: \[1\]") as caught:
        trainer.fit([1])
    # The very exception the framework raised, raised from the framework's own frame.
    assert caught.value.__traceback__ is not None
    assert caught.value.__context__ is None
    (run,) = all_runs()
    assert run.info.status == RunStatus.FAILED
    assert flightlog.active_run() is None


@pytest.mark.parametrize("where", ["before", "after"])
def test_integration_bug_is_one_warning_and_training_goes_on(toy, all_runs, no_test_mode, where):
    integration, import_module = toy
    integration.autolog()
    integration.handler.fail_in = where
    fw = import_module()
    trainer = fw.Trainer()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert trainer.fit([1, 2], epochs=1) == 3
    ours = [w for w in caught if issubclass(w.category, FlightlogAutologWarning)]
    assert len(ours) == 1
    assert "toy integration bug" in str(ours[0].message)
    assert ours[0].filename == __file__  # points at the user's line, not at flightlog
    assert trainer.received == [([1, 2], 1, None)]  # ran exactly once
    (run,) = all_runs()
    assert run.info.status == RunStatus.FINISHED


def test_silent_drops_the_warning(toy, no_test_mode):
    integration, import_module = toy
    integration.autolog(silent=True)
    integration.handler.fail_in = "after"
    fw = import_module()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fw.Trainer().fit([4]) == 4
    assert not [w for w in caught if issubclass(w.category, FlightlogAutologWarning)]


def test_test_mode_raises_integration_bugs(toy):
    integration, import_module = toy
    integration.autolog()
    integration.handler.fail_in = "after"
    fw = import_module()

    with pytest.raises(AutologTestModeError, match="toy integration bug after fit"):
        fw.Trainer().fit([1])
    assert flightlog.active_run() is None  # the run was ended before raising


def test_test_mode_catches_a_replaced_argument(toy):
    integration, import_module = toy
    integration.autolog()
    integration.handler.replace_data = True
    fw = import_module()

    with pytest.raises(AutologTestModeError, match="positional argument 0 was replaced"):
        fw.Trainer().fit([1])


def test_test_mode_catches_a_run_left_open(toy):
    integration, import_module = toy
    integration.autolog()
    integration.handler.leave_run_open = True
    fw = import_module()

    with pytest.raises(AutologTestModeError, match="runs left open"):
        fw.Trainer().fit([1])


def test_store_down_is_one_warning(toy, tmp_path, monkeypatch, no_test_mode):
    integration, import_module = toy
    integration.autolog()
    fw = import_module()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", f"sqlite:///{blocker / 'flightlog.db'}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fw.Trainer().fit([2, 3]) == 5
    ours = [w for w in caught if issubclass(w.category, FlightlogAutologWarning)]
    assert len(ours) == 1
    assert "starting a run" in str(ours[0].message)


def test_threads_get_their_own_runs(toy, all_runs):
    integration, import_module = toy
    integration.autolog()
    fw = import_module()
    barrier = threading.Barrier(2)
    results = []

    class Slow(fw.Trainer):
        def fit(self, data, epochs=1, callbacks=None):
            barrier.wait(timeout=120)  # both outer calls are in progress at once
            return super().fit(data, epochs, callbacks)

    integration.patcher.wrap(Slow, "fit", integration._wrapper)
    threads = [
        threading.Thread(target=lambda d=d: results.append(Slow().fit(d))) for d in ([1], [2, 2])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)

    assert sorted(results) == [1, 4]
    runs = all_runs()
    assert sorted(r.data.metrics["result"] for r in runs) == [1.0, 4.0]
    assert all(r.info.status == RunStatus.FINISHED for r in runs)
    assert flightlog.active_run() is None
