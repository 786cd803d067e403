"""Autologging `xgboost.train`: metric curves, params, early stopping, importance, the model."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import xgboost as xgb

import flightlog

PARAMS = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 3, "nthread": 1}
IMPORTANCE_FILES = {
    f"feature_importance_{kind}.{ext}"
    for kind in ("weight", "gain", "cover", "total_gain", "total_cover")
    for ext in ("json", "png")
}


def test_every_eval_metric_is_logged_at_every_round(dmatrices, all_runs, metric_history):
    dtrain, dval = dmatrices
    flightlog.xgboost.autolog()
    evals_result: dict = {}
    xgb.train(
        PARAMS,
        dtrain,
        20,
        evals=[(dtrain, "train"), (dval, "val")],
        evals_result=evals_result,
        verbose_eval=False,
    )

    (run,) = all_runs()
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "xgboost"
    for data_name in ("train", "val"):
        points = metric_history(run.info.run_id, f"{data_name}-logloss")
        assert [step for step, _ in points] == list(range(20))
        assert [value for _, value in points] == evals_result[data_name]["logloss"]
    params = run.data.params
    assert params["num_boost_round"] == "20"
    assert params["objective"] == "binary:logistic"
    assert params["max_depth"] == "3"
    assert params["early_stopping_rounds"] == "None"
    assert "best_iteration" not in run.data.metrics  # no early stopping, no best iteration


def test_early_stopping_records_the_boosters_best_iteration(dmatrices, all_runs):
    dtrain, dval = dmatrices
    flightlog.xgboost.autolog()
    booster = xgb.train(
        {**PARAMS, "eta": 0.8},  # a high rate overfits quickly, so training stops early
        dtrain,
        300,
        evals=[(dtrain, "train"), (dval, "val")],
        early_stopping_rounds=3,
        verbose_eval=False,
    )
    assert booster.num_boosted_rounds() < 300  # the premise: it did stop early

    (run,) = all_runs()
    assert run.data.params["early_stopping_rounds"] == "3"
    assert run.data.metrics["best_iteration"] == booster.best_iteration
    assert run.data.metrics["best_score"] == pytest.approx(booster.best_score)
    assert run.data.metrics["stopped_iteration"] == booster.num_boosted_rounds() - 1


def test_early_stopping_callback_settings_are_params(dmatrices, all_runs):
    dtrain, dval = dmatrices
    flightlog.xgboost.autolog()
    stopper = xgb.callback.EarlyStopping(rounds=4, data_name="val", metric_name="logloss")
    booster = xgb.train(
        PARAMS, dtrain, 40, evals=[(dval, "val")], callbacks=[stopper], verbose_eval=False
    )

    (run,) = all_runs()
    assert run.data.params["early_stopping_rounds"] == "4"
    assert run.data.params["early_stopping_data"] == "val"
    assert run.data.params["early_stopping_metric"] == "logloss"
    assert run.data.metrics["best_iteration"] == booster.best_iteration


def test_feature_importance_json_and_charts(dmatrices, all_runs, stored):
    dtrain, _ = dmatrices
    flightlog.xgboost.autolog()
    booster = xgb.train(PARAMS, dtrain, 5)

    (run,) = all_runs()
    client = stored()
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert names >= IMPORTANCE_FILES
    local = client.download_artifacts(run.info.run_id, "feature_importance_gain.json")
    with open(local) as f:
        assert json.load(f) == pytest.approx(booster.get_score(importance_type="gain"))
    png = client.download_artifacts(run.info.run_id, "feature_importance_weight.png")
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_importance_types_option_limits_the_charts(dmatrices, all_runs, stored):
    dtrain, _ = dmatrices
    flightlog.xgboost.autolog(importance_types=["gain"], log_models=False)
    xgb.train(PARAMS, dtrain, 3)

    (run,) = all_runs()
    names = {a.path for a in stored().list_artifacts(run.info.run_id)}
    assert names == {"feature_importance_gain.json", "feature_importance_gain.png"}


def test_logged_booster_loads_and_predicts_identically(dmatrices, binary_data, all_runs):
    dtrain, dval = dmatrices
    flightlog.xgboost.autolog(log_input_examples=True)
    booster = xgb.train(PARAMS, dtrain, 10)
    (run,) = all_runs()
    uri = f"runs:/{run.info.run_id}/model"

    loaded = flightlog.xgboost.load_model(uri)
    assert isinstance(loaded, xgb.Booster)
    np.testing.assert_array_equal(loaded.predict(dval), booster.predict(dval))

    import pandas as pd

    pyfunc = flightlog.models.load_model(uri)
    _, Xv, _, _ = binary_data
    frame = pd.DataFrame(Xv, columns=[f"f{i}" for i in range(Xv.shape[1])])
    np.testing.assert_array_equal(pyfunc.predict(frame), booster.predict(dval))
    meta = pyfunc.metadata
    flavor = meta.flavors["xgboost"]
    assert flavor["model_class"] == "xgboost.core.Booster"
    assert flavor["model_format"] == "ubj"
    assert flavor["data"] == "model.ubj"
    assert flavor["xgb_version"] == xgb.__version__
    assert meta.flavors["python_function"]["loader_module"] == "mlflow.xgboost"
    assert [c.name for c in meta.signature.inputs.inputs] == [f"f{i}" for i in range(5)]
    assert meta.saved_input_example_info is not None
    example = meta.load_input_example(pyfunc.local_path)  # the first training rows
    X, _, _, _ = binary_data
    np.testing.assert_allclose(np.asarray(example, dtype=float), X[:5], rtol=1e-6)


def test_json_model_format(dmatrices, all_runs, tmp_path):
    dtrain, dval = dmatrices
    flightlog.xgboost.autolog(model_format="json", importance_types=[])
    booster = xgb.train(PARAMS, dtrain, 4)
    (run,) = all_runs()

    local = flightlog.TrackingClient().download_artifacts(run.info.run_id, "model", str(tmp_path))
    assert os.path.isfile(os.path.join(local, "model.json"))
    loaded = flightlog.xgboost.load_model(local)
    np.testing.assert_array_equal(loaded.predict(dval), booster.predict(dval))


def test_metrics_reach_the_store_while_training_runs(dmatrices):
    """A live UI sees the curve grow: points are readable from the store mid-training."""
    dtrain, dval = dmatrices
    seen_mid_training = []

    class Peek(xgb.callback.TrainingCallback):
        def before_iteration(self, model, epoch, evals_log):
            if epoch == 10:
                run_id = flightlog.active_run().info.run_id
                flightlog.flush()
                # A separate client, as the UI server would use: it reads what the store holds.
                reader = flightlog.TrackingClient()
                seen_mid_training.extend(reader.get_metric_history(run_id, "val-logloss"))
            return False

    flightlog.xgboost.autolog(log_models=False, importance_types=[])
    xgb.train(PARAMS, dtrain, 15, evals=[(dval, "val")], callbacks=[Peek()], verbose_eval=False)
    assert sorted(m.step for m in seen_mid_training) == list(range(10))


def test_callback_without_autolog_logs_into_the_active_run(dmatrices, metric_history):
    dtrain, dval = dmatrices
    evals_result: dict = {}
    with flightlog.start_run() as run:
        xgb.train(
            PARAMS,
            dtrain,
            6,
            evals=[(dval, "val")],
            evals_result=evals_result,
            callbacks=[flightlog.xgboost.FlightlogCallback()],
            verbose_eval=False,
        )
    points = metric_history(run.info.run_id, "val-logloss")
    assert [v for _, v in points] == evals_result["val"]["logloss"]


def test_a_callback_the_user_passed_is_not_doubled(dmatrices, all_runs, metric_history):
    dtrain, dval = dmatrices
    flightlog.xgboost.autolog(log_models=False, importance_types=[])
    xgb.train(
        PARAMS,
        dtrain,
        5,
        evals=[(dval, "val")],
        callbacks=[flightlog.xgboost.FlightlogCallback()],
        verbose_eval=False,
    )
    (run,) = all_runs()
    assert [s for s, _ in metric_history(run.info.run_id, "val-logloss")] == list(range(5))


def test_metric_names_outside_the_key_alphabet_are_made_legal(dmatrices, metric_history):
    dtrain, dval = dmatrices
    with flightlog.start_run() as run:
        xgb.train(
            {**PARAMS, "eval_metric": ["error@0.7"]},
            dtrain,
            3,
            evals=[(dval, "val")],
            callbacks=[flightlog.xgboost.FlightlogCallback()],
            verbose_eval=False,
        )
    assert len(metric_history(run.info.run_id, "val-error_at_0.7")) == 3


def test_logs_into_the_users_run_and_leaves_it_open(dmatrices, all_runs):
    dtrain, _ = dmatrices
    flightlog.xgboost.autolog(log_models=False, importance_types=[])
    with flightlog.start_run() as run:
        xgb.train(PARAMS, dtrain, 3)
        assert flightlog.active_run().info.run_id == run.info.run_id
        flightlog.log_param("mine", "yes")
    (stored_run,) = all_runs()
    assert stored_run.data.params["mine"] == "yes"
    assert stored_run.data.params["num_boost_round"] == "3"


def test_disable_restores_the_original_train(dmatrices, all_runs):
    dtrain, _ = dmatrices
    original = xgb.train
    flightlog.xgboost.autolog()
    assert xgb.train is not original
    flightlog.xgboost.autolog(disable=True)
    assert xgb.train is original
    xgb.train(PARAMS, dtrain, 2)
    assert all_runs() == []


def test_callback_takes_the_run_itself_and_refuses_bad_arguments_before_training(
    dmatrices, metric_history
):
    from flightlog.exceptions import InvalidParameterError

    dtrain, dval = dmatrices
    with flightlog.start_run() as run:
        for given in (run, flightlog.get_run(run.info.run_id)):  # an ActiveRun, a Run
            callback = flightlog.xgboost.FlightlogCallback(given)
            assert callback.run_id == run.info.run_id
        evals = [(dval, "val")]
        xgb.train(PARAMS, dtrain, 3, evals=evals, callbacks=[callback], verbose_eval=False)
    assert [s for s, _ in metric_history(run.info.run_id, "val-logloss")] == [0, 1, 2]
    with pytest.raises(InvalidParameterError, match="run_id must be"):
        flightlog.xgboost.FlightlogCallback(42)
    with pytest.raises(InvalidParameterError, match="on_fault must be"):
        flightlog.xgboost.FlightlogCallback(on_fault="print")


def test_train_logs_mlflows_argument_params_and_the_eval_sets_as_inputs(dmatrices, all_runs):
    dtrain, dval = dmatrices
    flightlog.xgboost.autolog(log_models=False, importance_types=[])
    xgb.train(PARAMS, dtrain, 4, evals=[(dtrain, "train"), (dval, "val")], verbose_eval=False)
    (run,) = all_runs()
    params = run.data.params
    assert params["num_boost_round"] == "4"
    assert params["maximize"] == "None" and params["verbose_eval"] == "False"
    assert params["custom_metric"] == "None" and params["early_stopping_rounds"] == "None"
    inputs = {
        (d.dataset.name, next(t.value for t in _tags(d) if t.key == "mlflow.data.context"))
        for d in run.inputs.dataset_inputs
    }
    assert inputs == {("dtrain", "train"), ("val", "eval")}


def _tags(dataset_input):
    """InputTag objects (MLflow's shape) or a dict of tags (an older flightlog)."""
    tags = dataset_input.tags
    if isinstance(tags, dict):
        from types import SimpleNamespace

        return [SimpleNamespace(key=k, value=v) for k, v in tags.items()]
    return tags
