"""Autologging XGBoost's scikit-learn API: one run per fit, with the XGBoost-specific records."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

import flightlog


def _enable(order):
    for name in order:
        getattr(flightlog, name).autolog()


@pytest.mark.parametrize(
    "order",
    [("xgboost",), ("sklearn", "xgboost"), ("xgboost", "sklearn")],
    ids=["xgboost-only", "sklearn-then-xgboost", "xgboost-then-sklearn"],
)
def test_classifier_fit_logs_one_run_with_xgboost_records(
    order, binary_data, all_runs, metric_history
):
    """XGBClassifier.fit calls xgboost's train() inside, and scikit-learn autolog patches it
    too (it is a scikit-learn estimator): still exactly one run, the XGBoost integration's."""
    X, Xv, y, yv = binary_data
    _enable(order)
    model = xgb.XGBClassifier(n_estimators=12, max_depth=3, n_jobs=1)
    model.fit(X, y, eval_set=[(Xv, yv)], verbose=False)

    (run,) = all_runs()
    assert run.data.tags["mlflow.autologging"] == "xgboost"
    points = metric_history(run.info.run_id, "validation_0-logloss")
    assert [step for step, _ in points] == list(range(12))
    assert [v for _, v in points] == model.evals_result()["validation_0"]["logloss"]
    params = run.data.params
    assert params["n_estimators"] == "12"
    assert params["max_depth"] == "3"
    # Defaults the user did not set: "None" as get_params() says (MLflow's value, so
    # `params.base_score = 'None'` finds the run in both), and the value XGBoost used beside it.
    assert params["learning_rate"] == "None" and params["resolved_learning_rate"] == "0.3"
    assert params["reg_lambda"] == "None" and params["resolved_reg_lambda"] == "1"
    assert params["base_score"] == "None" and float(params["resolved_base_score"]) > 0
    assert params["eval_metric"] == "None" and params["resolved_eval_metric"] == "logloss"
    assert params["objective"] == "binary:logistic"
    assert set(model.get_params()) <= set(params)


def test_loaded_classifier_predicts_identically(binary_data, all_runs):
    X, Xv, y, yv = binary_data
    flightlog.xgboost.autolog()
    model = xgb.XGBClassifier(n_estimators=8, n_jobs=1).fit(X, y)
    (run,) = all_runs()
    uri = f"runs:/{run.info.run_id}/model"

    loaded = flightlog.xgboost.load_model(uri)
    assert type(loaded) is xgb.XGBClassifier
    np.testing.assert_array_equal(loaded.predict(Xv), model.predict(Xv))
    np.testing.assert_array_equal(loaded.predict_proba(Xv), model.predict_proba(Xv))
    pyfunc = flightlog.models.load_model(uri)
    np.testing.assert_array_equal(pyfunc.predict(Xv), model.predict(Xv))
    assert pyfunc.metadata.flavors["xgboost"]["model_class"] == "xgboost.sklearn.XGBClassifier"
    assert pyfunc.metadata.signature is not None


def test_regressor_early_stopping(binary_data, all_runs):
    X, Xv, y, yv = binary_data
    target = X[:, 0] * 2.0 + y
    flightlog.xgboost.autolog(importance_types=[])
    model = xgb.XGBRegressor(
        n_estimators=300, learning_rate=0.9, early_stopping_rounds=3, n_jobs=1
    ).fit(X, target, eval_set=[(Xv, Xv[:, 0] * 2.0 + yv)], verbose=False)
    assert model.get_booster().num_boosted_rounds() < 300

    (run,) = all_runs()
    assert run.data.params["early_stopping_rounds"] == "3"
    assert run.data.metrics["best_iteration"] == model.best_iteration
    assert run.data.metrics["best_score"] == pytest.approx(model.best_score)
    assert run.data.metrics["validation_0-rmse"] == pytest.approx(
        model.evals_result()["validation_0"]["rmse"][-1]
    )


def test_ranker_metric_with_at_sign(all_runs, metric_history):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    relevance = rng.integers(0, 3, size=60)
    qid = np.repeat(np.arange(6), 10)
    flightlog.xgboost.autolog(log_models=False, importance_types=[])
    xgb.XGBRanker(n_estimators=4, n_jobs=1).fit(
        X, relevance, qid=qid, eval_set=[(X, relevance)], eval_qid=[qid], verbose=False
    )
    (run,) = all_runs()
    assert len(metric_history(run.info.run_id, "validation_0-ndcg_at_32")) == 4


def test_fit_inside_a_pipeline_logs_one_run(binary_data, all_runs):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, _, y, _ = binary_data
    flightlog.autolog()
    make_pipeline(StandardScaler(), xgb.XGBClassifier(n_estimators=3, n_jobs=1)).fit(X, y)
    (run,) = all_runs()
    assert run.data.tags["mlflow.autologging"] == "sklearn"  # the outermost call's run


def test_training_data_is_recorded_as_run_inputs(binary_data, all_runs):
    X, Xv, y, yv = binary_data
    flightlog.xgboost.autolog(log_models=False, importance_types=[])
    xgb.XGBClassifier(n_estimators=2, n_jobs=1).fit(X, y, eval_set=[(Xv, yv)], verbose=False)
    (run,) = all_runs()
    contexts = sorted(i.tags["mlflow.data.context"] for i in run.inputs.dataset_inputs)
    assert contexts == ["eval", "train"]
