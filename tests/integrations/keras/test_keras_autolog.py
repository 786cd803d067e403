"""Keras autolog: `Model.fit` gets the callback and logs the model; faults never stop training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import yaml

import flightlog
from flightlog.autolog import FlightlogAutologWarning

KEYS = ("loss", "val_loss", "precision", "val_precision")


def test_fit_logs_one_run_with_history_and_model(data, make_model, all_runs, metric_history):
    X, Xv, y, yv = data
    flightlog.keras.autolog()
    model = make_model()
    history = model.fit(X, y, epochs=3, batch_size=32, validation_data=(Xv, yv), verbose=0)

    (run,) = all_runs()
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "keras"
    for key in KEYS:
        assert [v for _, v in metric_history(run.info.run_id, key)] == history.history[key], key
    params = run.data.params
    assert (params["epochs"], params["batch_size"], params["shuffle"]) == ("3", "32", "True")
    assert params["optimizer_name"] == "Adam"

    uri = f"runs:/{run.info.run_id}/model"
    loaded = flightlog.keras.load_model(uri)
    np.testing.assert_array_equal(loaded.predict(Xv, verbose=0), model.predict(Xv, verbose=0))
    pyfunc = flightlog.models.load_model(uri)
    np.testing.assert_array_equal(pyfunc.predict(Xv), model.predict(Xv, verbose=0))
    assert pyfunc.metadata.signature is not None
    assert pyfunc.metadata.flavors["keras"]["keras_backend"] == "torch"


def test_a_callback_the_user_passed_is_not_doubled(data, make_model, all_runs, metric_history):
    X, _, y, _ = data
    flightlog.keras.autolog(log_models=False)
    users_callbacks = [flightlog.keras.FlightlogCallback()]
    make_model().fit(X, y, epochs=3, callbacks=users_callbacks, verbose=0)
    (run,) = all_runs()
    assert [s for s, _ in metric_history(run.info.run_id, "loss")] == [0, 1, 2]
    assert len(users_callbacks) == 1  # the user's list is not modified


def test_other_user_callbacks_still_run_and_their_list_is_untouched(data, make_model, all_runs):
    X, Xv, y, yv = data
    flightlog.keras.autolog(log_models=False)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)
    callbacks = [stopper]
    make_model().fit(X, y, epochs=10, validation_data=(Xv, yv), callbacks=callbacks, verbose=0)
    assert callbacks == [stopper]
    (run,) = all_runs()
    assert run.data.params["early_stopping_patience"] == "1"
    assert run.data.metrics["stopped_epoch"] == stopper.stopped_epoch > 0


def test_unreachable_store_still_trains_the_same_model(data, make_model, monkeypatch):
    X, Xv, y, yv = data
    reference = make_model()
    reference.fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0)

    monkeypatch.setenv("FLIGHTLOG_AUTOLOG_TESTING", "0")  # faults warn, as for users
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", "sqlite:////proc/flightlog-no-such-dir/x.db")
    flightlog.keras.autolog()
    model = make_model()
    with pytest.warns(FlightlogAutologWarning):
        history = model.fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0)
    assert len(history.history["loss"]) == 2
    np.testing.assert_array_equal(model.predict(Xv, verbose=0), reference.predict(Xv, verbose=0))


def test_disable_restores_fit(data, make_model, all_runs):
    X, _, y, _ = data
    owner = next(cls for cls in keras.Model.__mro__ if "fit" in vars(cls))
    original = vars(owner)["fit"]
    flightlog.keras.autolog()
    assert vars(owner)["fit"] is not original
    flightlog.keras.autolog(disable=True)
    assert vars(owner)["fit"] is original
    make_model().fit(X, y, epochs=1, verbose=0)
    assert all_runs() == []


def test_saved_layout(data, make_model, tmp_path):
    path = tmp_path / "m"
    flightlog.keras.save_model(make_model(), str(path))
    assert (path / "data" / "model.keras").is_file()
    assert (path / "data" / "keras_module.txt").read_text() == "keras"
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["keras"] == {
        "data": "data",
        "keras_version": keras.__version__,
        "keras_backend": "torch",
        "save_exported_model": False,
    }
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.keras"
    requirements = (path / "requirements.txt").read_text().split()
    assert any(r.startswith("keras==") for r in requirements)
    assert any(r.startswith("torch==") for r in requirements)


@pytest.mark.interop
def test_models_cross_between_flightlog_and_mlflow(data, make_model, tmp_path):
    X, Xv, y, yv = data
    model = make_model()
    model.fit(X, y, epochs=1, verbose=0)
    expected = model.predict(Xv, verbose=0)
    ours = tmp_path / "flightlog-model"
    flightlog.keras.save_model(model, str(ours), input_example=Xv[:3])
    np.save(tmp_path / "xv.npy", Xv)
    theirs = tmp_path / "mlflow-model"
    code = f"""
        import json, warnings
        warnings.filterwarnings("ignore")
        import mlflow, numpy as np
        xv = np.load({str(tmp_path / "xv.npy")!r})
        pyfunc = mlflow.pyfunc.load_model({str(ours)!r})
        native = mlflow.keras.load_model({str(ours)!r})
        mlflow.keras.save_model(native, {str(theirs)!r}, pip_requirements=["keras"])
        print(json.dumps({{
            "pyfunc": np.asarray(pyfunc.predict(xv)).tolist(),
            "native": np.asarray(native.predict(xv, verbose=0)).tolist(),
        }}))
        """
    env = {k: v for k, v in os.environ.items() if k != "FLIGHTLOG_TRACKING_URI"}
    env["KERAS_BACKEND"] = "torch"
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(result["pyfunc"], expected, rtol=1e-6)
    np.testing.assert_allclose(result["native"], expected, rtol=1e-6)
    loaded = flightlog.keras.load_model(str(theirs))
    np.testing.assert_array_equal(loaded.predict(Xv, verbose=0), expected)
    np.testing.assert_array_equal(flightlog.models.load_model(str(theirs)).predict(Xv), expected)
