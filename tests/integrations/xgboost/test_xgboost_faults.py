"""Fault isolation: whatever fails inside flightlog, XGBoost training finishes with the same model."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

import flightlog
from flightlog.autolog import FlightlogAutologWarning

PARAMS = {"objective": "binary:logistic", "max_depth": 3, "nthread": 1, "seed": 7}


@pytest.fixture
def production_mode(monkeypatch):
    """Faults become warnings, as for users (the suite's test mode would raise them)."""
    monkeypatch.setenv("FLIGHTLOG_AUTOLOG_TESTING", "0")


def _train(dtrain, dval, **kwargs):
    return xgb.train(PARAMS, dtrain, 8, evals=[(dval, "val")], verbose_eval=False, **kwargs)


def test_unreachable_store_still_trains_the_same_model(production_mode, dmatrices, monkeypatch):
    dtrain, dval = dmatrices
    reference = _train(dtrain, dval).predict(dval)
    # A store that cannot even be opened: its folder would have to be created inside /proc.
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", "sqlite:////proc/flightlog-no-such-dir/x.db")
    flightlog.xgboost.autolog()
    with pytest.warns(FlightlogAutologWarning):
        booster = _train(dtrain, dval)
    np.testing.assert_array_equal(booster.predict(dval), reference)


def test_failing_artifact_store_keeps_metrics_and_the_model_result(
    production_mode, dmatrices, tmp_path, all_runs
):
    dtrain, dval = dmatrices
    reference = _train(dtrain, dval).predict(dval)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the artifact folder should be")
    experiment_id = flightlog.create_experiment("broken", artifact_location=str(blocker / "a"))
    flightlog.set_experiment(experiment_id=experiment_id)
    flightlog.xgboost.autolog()
    with pytest.warns(FlightlogAutologWarning):
        booster = _train(dtrain, dval)
        from flightlog.autolog import wait_for_background

        wait_for_background(120)  # the charts fail there, and are reported there
    np.testing.assert_array_equal(booster.predict(dval), reference)
    flightlog.flush()
    (run,) = flightlog.search_runs(experiment_ids=[experiment_id], output_format="list")
    assert run.info.status == "FINISHED"
    assert len(flightlog.TrackingClient().get_metric_history(run.info.run_id, "val-logloss")) == 8


def test_callback_logging_to_a_missing_run_warns_once_and_training_goes_on(
    production_mode, dmatrices
):
    dtrain, dval = dmatrices
    reference = _train(dtrain, dval).predict(dval)
    callback = flightlog.xgboost.FlightlogCallback(run_id="0123456789abcdef0123456789abcdef")
    with pytest.warns(FlightlogAutologWarning) as caught:
        booster = _train(dtrain, dval, callbacks=[callback])
    assert len([w for w in caught if issubclass(w.category, FlightlogAutologWarning)]) == 1
    np.testing.assert_array_equal(booster.predict(dval), reference)


def test_user_errors_pass_through_untouched(dmatrices, all_runs):
    dtrain, _ = dmatrices
    flightlog.xgboost.autolog()
    with pytest.raises(xgb.core.XGBoostError, match="no_such_objective"):
        xgb.train({"objective": "no_such_objective"}, dtrain, 2)
    (run,) = all_runs()
    assert run.info.status == "FAILED"


def test_a_wrong_argument_raises_the_users_own_type_error(dmatrices, all_runs):
    dtrain, _ = dmatrices
    flightlog.xgboost.autolog()
    with pytest.raises(TypeError, match="no_such_argument"):
        xgb.train(PARAMS, dtrain, 2, no_such_argument=1)
    (run,) = all_runs()
    assert run.info.status == "FAILED"
