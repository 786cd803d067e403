"""Parameter searches: a parent run, child runs for the best candidates, cv_results.csv."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import flightlog
from flightlog.entities import RunStatus

GRID = {"C": [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]}


def _split(runs):
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1
    return parents[0], children


def test_grid_search(autolog, finished_runs, artifacts, binary_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, X_test, y, _ = binary_data
    autolog(max_tuning_runs=3)
    search = GridSearchCV(LogisticRegression(max_iter=300), GRID, cv=3).fit(X, y)

    parent, children = _split(finished_runs())
    assert parent.info.status == RunStatus.FINISHED
    assert parent.data.tags["estimator_name"] == "GridSearchCV"
    assert parent.data.params["cv"] == "3"
    assert parent.data.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert "training_accuracy_score" in parent.data.metrics

    # One child per top candidate, best first by rank, linked to the parent.
    assert len(children) == 3
    assert all(c.data.tags["mlflow.parentRunId"] == parent.info.run_id for c in children)
    assert all(c.info.status == RunStatus.FINISHED for c in children)
    results = search.cv_results_
    best_three = sorted(range(len(GRID["C"])), key=lambda i: results["rank_test_score"][i])[:3]
    expected = {str(results["params"][i]["C"]): results["mean_test_score"][i] for i in best_three}
    got = {c.data.params["C"]: c.data.metrics["mean_test_score"] for c in children}
    assert got == pytest.approx(expected)
    for child in children:
        assert child.data.params["max_iter"] == "300"  # the seed's params under the candidate's
        assert {"std_test_score", "rank_test_score", "mean_fit_time"} <= set(child.data.metrics)
        assert not any(k.startswith("split") for k in child.data.metrics)
        assert child.data.tags["estimator_name"] == "LogisticRegression"

    run_id = parent.info.run_id
    assert {"model", "best_estimator", "cv_results.csv"} <= set(artifacts(run_id))
    text = flightlog.TrackingClient().download_artifacts(run_id, "cv_results.csv")
    with open(text) as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert len(rows) == len(GRID["C"])
    assert [float(r["mean_test_score"]) for r in rows] == pytest.approx(results["mean_test_score"])
    best = flightlog.sklearn.load_model(f"runs:/{run_id}/best_estimator")
    np.testing.assert_array_equal(best.predict(X_test), search.best_estimator_.predict(X_test))
    whole = flightlog.sklearn.load_model(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(whole.predict(X_test), search.predict(X_test))


@pytest.mark.parametrize(("option", "expected"), [({}, 5), ({"max_tuning_runs": None}, 6)])
def test_max_tuning_runs(autolog, finished_runs, binary_data, option, expected):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, _, y, _ = binary_data
    autolog(log_models=False, **option)
    GridSearchCV(LogisticRegression(max_iter=300), GRID, cv=2).fit(X, y)
    _, children = _split(finished_runs())
    assert len(children) == expected


def test_candidates_fitted_on_worker_threads_are_not_runs(autolog, finished_runs, binary_data):
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, _, y, _ = binary_data
    autolog(log_models=False)
    with joblib.parallel_backend("threading", n_jobs=2):
        GridSearchCV(LogisticRegression(max_iter=300), GRID, cv=2, n_jobs=2).fit(X, y)
    runs = finished_runs()
    _, children = _split(runs)
    assert len(runs) == 1 + 5


def test_randomized_and_halving_searches(autolog, finished_runs, multiclass_data):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV, RandomizedSearchCV
    from sklearn.tree import DecisionTreeClassifier

    X, y = multiclass_data
    autolog(log_models=False, max_tuning_runs=2)
    space = {"max_depth": [1, 2, 3, 4], "min_samples_leaf": [1, 5]}
    RandomizedSearchCV(
        DecisionTreeClassifier(random_state=0), space, n_iter=4, cv=2, random_state=0
    ).fit(X, y)
    HalvingRandomSearchCV(
        DecisionTreeClassifier(random_state=0), space, n_candidates=4, cv=2, random_state=0
    ).fit(X, y)

    runs = finished_runs()
    parents = {r.info.run_id: r for r in runs if "mlflow.parentRunId" not in r.data.tags}
    assert sorted(r.data.tags["estimator_name"] for r in parents.values()) == [
        "HalvingRandomSearchCV",
        "RandomizedSearchCV",
    ]
    for parent_id, parent in parents.items():
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent_id]
        assert len(children) == 2
        assert "best_max_depth" in parent.data.params


def test_cross_val_score_logs_nothing(autolog, finished_runs, binary_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    X, _, y, _ = binary_data
    autolog()
    scores = cross_val_score(LogisticRegression(), X, y, cv=3)
    assert len(scores) == 3
    assert finished_runs() == []
