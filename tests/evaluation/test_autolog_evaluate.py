"""autolog(evaluate_on=...): the held-out evaluation recorded into the fit's run, off by
default; `import flightlog` stays free of numpy and scipy."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sklearn import metrics as skm
from sklearn.datasets import make_classification, make_regression

import flightlog
from flightlog.exceptions import AutologConfigError


@pytest.fixture(autouse=True)
def _autolog_off():
    yield
    flightlog.sklearn.autolog(disable=True)
    if "xgboost" in sys.modules:
        flightlog.xgboost.autolog(disable=True)


def _split(X, y):
    return X[:300], y[:300], X[300:], y[300:]


def test_sklearn_classifier_is_evaluated_on_the_held_out_set():
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(450, 5, random_state=0)
    X_train, y_train, X_val, y_val = _split(X, y)
    flightlog.sklearn.autolog(evaluate_on=(X_val, y_val), log_models=False)
    model = LogisticRegression().fit(X_train, y_train)
    run = flightlog.last_active_run()
    m = run.data.metrics
    assert m["accuracy_score"] == pytest.approx(skm.accuracy_score(y_val, model.predict(X_val)))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y_val, model.predict_proba(X_val)[:, 1]))
    assert m["example_count"] == len(y_val)
    assert "training_accuracy_score" in m  # autolog's own metrics are still there
    assert run.data.tags["flightlog.evaluation"] == "classifier"
    names = {f.path for f in flightlog.MlflowClient().list_artifacts(run.info.run_id)}
    assert {"roc_curve_plot.png", "confusion_matrix.png", "evaluation_summary.json"} <= names


def test_sklearn_regressor_and_off_by_default():
    from sklearn.linear_model import Ridge

    X, y = make_regression(450, 4, random_state=1)
    X_train, y_train, X_val, y_val = _split(X, y)
    flightlog.sklearn.autolog(log_models=False)
    Ridge().fit(X_train, y_train)
    plain = flightlog.last_active_run()
    assert "r2_score" not in plain.data.metrics
    assert "flightlog.evaluation" not in plain.data.tags
    flightlog.sklearn.autolog(log_models=False, evaluate_on=(X_val, y_val))
    model = Ridge().fit(X_train, y_train)
    m = flightlog.last_active_run().data.metrics
    assert m["r2_score"] == pytest.approx(skm.r2_score(y_val, model.predict(X_val)))


def test_xgboost_eval_set_is_evaluated():
    xgb = pytest.importorskip("xgboost")
    X, y = make_classification(450, 5, random_state=2)
    X_train, y_train, X_val, y_val = _split(X, y)
    flightlog.xgboost.autolog(evaluate_on="eval_set", log_models=False)
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(
        X_train, y_train, eval_set=[(X_val, y_val)], verbose=False
    )
    m = flightlog.last_active_run().data.metrics
    assert m["accuracy_score"] == pytest.approx(skm.accuracy_score(y_val, model.predict(X_val)))
    assert m["example_count"] == len(y_val)


def test_bad_evaluate_on_is_refused():
    with pytest.raises(AutologConfigError, match="evaluate_on"):
        flightlog.sklearn.autolog(evaluate_on=[1, 2, 3])


def test_import_flightlog_loads_no_numpy_or_scipy():
    code = (
        "import sys, flightlog; flightlog.evaluate; "
        "print(sorted(m for m in ('numpy', 'scipy', 'pandas', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
