"""`flightlog.keras.FlightlogCallback`: settings at train begin, every `logs` entry per epoch."""

from __future__ import annotations

import keras
import pytest

import flightlog

KEYS = ("loss", "val_loss", "precision", "val_precision")


def test_epoch_logs_match_the_history(data, make_model, metric_history):
    X, Xv, y, yv = data
    model = make_model()
    with flightlog.start_run() as run:
        history = model.fit(
            X,
            y,
            epochs=3,
            batch_size=32,
            validation_data=(Xv, yv),
            callbacks=[flightlog.keras.FlightlogCallback()],
            verbose=0,
        )
    run_id = run.info.run_id
    for key in KEYS:
        points = metric_history(run_id, key)
        assert [step for step, _ in points] == [0, 1, 2], key
        assert [value for _, value in points] == history.history[key], key
    assert [v for _, v in metric_history(run_id, "learning_rate")] == pytest.approx([0.05] * 3)

    stored = flightlog.get_run(run_id)
    params = stored.data.params
    assert params["epochs"] == "3"
    assert params["batch_size"] == "32"
    assert params["steps_per_epoch"] == "3"
    assert params["optimizer_name"] == "Adam"
    assert params["optimizer_learning_rate"] == "0.05"
    assert params["optimizer_beta_1"] == "0.9"
    summary_path = flightlog.TrackingClient().download_artifacts(run_id, "model_summary.txt")
    with open(summary_path) as f:
        summary = f.read()
    assert "Dense" in summary and "Total params" in summary


def test_default_batch_size_is_recorded(data, make_model):
    X, _, y, _ = data
    with flightlog.start_run() as run:
        make_model().fit(X, y, epochs=1, callbacks=[flightlog.keras.FlightlogCallback()], verbose=0)
    assert flightlog.get_run(run.info.run_id).data.params["batch_size"] == "32"  # Keras' default


def test_batch_metrics_every_n_steps(data, make_model, metric_history):
    X, _, y, _ = data
    with flightlog.start_run() as run:
        make_model().fit(
            X,
            y,
            epochs=2,
            batch_size=16,  # 6 batches per epoch, 12 in all
            callbacks=[flightlog.keras.FlightlogCallback(log_every_n_steps=4)],
            verbose=0,
        )
    assert [s for s, _ in metric_history(run.info.run_id, "batch_loss")] == [4, 8, 12]
    assert len(metric_history(run.info.run_id, "loss")) == 2  # epoch logging still on


def test_early_stopping_settings_and_stopped_epoch(data, make_model, metric_history):
    X, Xv, y, yv = data
    # Nothing improves by 10, so training stops after the patience of one epoch.
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)
    with flightlog.start_run() as run:
        history = make_model().fit(
            X,
            y,
            epochs=10,
            validation_data=(Xv, yv),
            callbacks=[stopper, flightlog.keras.FlightlogCallback()],
            verbose=0,
        )
    assert len(history.history["loss"]) < 10  # the premise: it stopped early
    stored = flightlog.get_run(run.info.run_id)
    assert stored.data.params["early_stopping_monitor"] == "val_loss"
    assert stored.data.params["early_stopping_patience"] == "1"
    assert stored.data.params["early_stopping_min_delta"] == "10.0"
    assert stored.data.metrics["stopped_epoch"] == stopper.stopped_epoch
    assert len(metric_history(run.info.run_id, "val_loss")) == len(history.history["val_loss"])


def test_a_reused_callback_logs_into_each_active_run(data, make_model, metric_history):
    X, _, y, _ = data
    callback = flightlog.keras.FlightlogCallback()
    model = make_model()
    run_ids = []
    for _ in range(2):
        with flightlog.start_run() as run:
            model.fit(X, y, epochs=1, callbacks=[callback], verbose=0)
            run_ids.append(run.info.run_id)
    assert [len(metric_history(r, "loss")) for r in run_ids] == [1, 1]


def test_mlflow_callback_name_and_argument_order():
    callback = flightlog.keras.MlflowCallback(False, 5)
    assert isinstance(callback, flightlog.keras.FlightlogCallback)
    assert (callback.log_every_epoch, callback.log_every_n_steps) == (False, 5)


def test_bad_step_interval_is_refused():
    from flightlog.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="log_every_n_steps"):
        flightlog.keras.FlightlogCallback(log_every_n_steps=0)


def test_mlflow2_spelling_with_the_run_first_logs_into_that_run(data, make_model, metric_history):
    """MLflow 2's `MlflowCallback(run, log_every_epoch=False, log_every_n_steps=5)`: the run
    first. It used to stop the script with a TypeError about multiple values."""
    X, _, y, _ = data
    with flightlog.start_run() as run:
        callback = flightlog.keras.MlflowCallback(run, log_every_epoch=False, log_every_n_steps=2)
        make_model().fit(X, y, epochs=2, batch_size=32, callbacks=[callback], verbose=0)
    run_id = run.info.run_id
    assert callback.run_id == run_id
    assert [step for step, _ in metric_history(run_id, "batch_loss")] == [2, 4, 6]
    assert metric_history(run_id, "loss") == []  # log_every_epoch=False honoured
    # the Run entity and a run id work too, positionally or as run=
    stored = flightlog.get_run(run_id)
    assert flightlog.keras.FlightlogCallback(stored).run_id == run_id
    assert flightlog.keras.FlightlogCallback(run=run_id, log_every_n_steps=3).run_id == run_id


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((False,), {"log_every_epoch": True}, "log_every_epoch twice"),
        ((True, 5), {"log_every_n_steps": 3}, "log_every_n_steps twice"),
        ((True, 5, 7), {}, "at most 2 positional"),
        ((), {"log_every_epoch": "no"}, "log_every_epoch must be True or False"),
        ((), {"log_every_n_steps": 2.5}, "log_every_n_steps must be a positive integer"),
        ((), {"log_every_n_steps": True}, "log_every_n_steps must be a positive integer"),
        ((), {"run": 42}, "run must be an ActiveRun"),
    ],
)
def test_argument_mistakes_fail_before_training_with_a_clear_message(args, kwargs, message):
    from flightlog.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=message):
        flightlog.keras.FlightlogCallback(*args, **kwargs)


def test_run_twice_or_contradicting_run_id_is_refused():
    from flightlog.exceptions import InvalidParameterError

    with flightlog.start_run() as run:
        with pytest.raises(InvalidParameterError, match="run twice"):
            flightlog.keras.FlightlogCallback(run, run=run)
        with pytest.raises(InvalidParameterError, match="give one"):
            flightlog.keras.FlightlogCallback(run, run_id="0" * 32)


def test_a_fault_during_fit_warns_and_training_goes_on(data, make_model, monkeypatch):
    """Once fit() runs, nothing flightlog does may stop it: a run that cannot be logged into
    (deleted under the callback) is warned about, and every epoch still trains."""
    from flightlog.autolog.reporting import FlightlogAutologWarning

    monkeypatch.setenv("FLIGHTLOG_AUTOLOG_TESTING", "0")  # faults warn, as for users
    X, _, y, _ = data
    client = flightlog.TrackingClient()
    run_id = client.create_run("0").info.run_id
    client.delete_run(run_id)
    with pytest.warns(FlightlogAutologWarning):
        history = make_model().fit(
            X, y, epochs=3, callbacks=[flightlog.keras.FlightlogCallback(run_id=run_id)], verbose=0
        )
    assert len(history.history["loss"]) == 3
