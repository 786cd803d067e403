"""scikit-learn searches are sweeps too: parent tags, trial states, the live-summary tags."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest

import flightlog
from flightlog.sweeps import names

pytest.importorskip("sklearn")


@pytest.fixture(autouse=True)
def _autolog():
    flightlog.sklearn.autolog(log_models=False, max_tuning_runs=None)
    yield
    flightlog.sklearn.autolog(disable=True)


def _search_runs():
    flightlog.flush()
    runs = flightlog.search_runs(experiment_ids=["0"], output_format="list")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    return parents[0], children


def test_grid_search_parent_is_a_sweep_with_states_and_summary():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, y = load_iris(return_X_y=True)
    grid = {"C": [0.01, 1.0, 100.0], "penalty": ["l2", "bogus"]}  # "bogus" fits fail
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(LogisticRegression(max_iter=500), grid, cv=3, error_score=np.nan).fit(
            X, y
        )
    parent, children = _search_runs()
    tags = parent.data.tags
    assert tags[names.SWEEP_KEY_TAG] == f"sklearn:{parent.info.run_id}"
    assert tags[names.OBJECTIVE_TAG] == "mean_test_score"
    assert tags[names.DIRECTION_TAG] == "maximize"
    assert len(children) == 6
    states = Counter(c.data.tags[names.TRIAL_STATE_TAG] for c in children)
    assert states == {"COMPLETE": 3, "FAILED": 3}
    assert (tags["flightlog.sweep.n_complete"], tags["flightlog.sweep.n_failed"]) == ("3", "3")
    for child in children:
        failed = child.data.params["penalty"] == "bogus"
        assert child.info.status == ("FAILED" if failed else "FINISHED")
    best_index = int(np.nanargmax(search.cv_results_["mean_test_score"]))
    best_child = next(c for c in children if c.data.tags[names.TRIAL_NUMBER_TAG] == str(best_index))
    assert tags[names.BEST_RUN_TAG] == best_child.info.run_id
    history = flightlog.TrackingClient().get_metric_history(parent.info.run_id, "best_value")
    values = [m.value for m in sorted(history, key=lambda m: m.step)]
    assert values == sorted(values)  # best so far never gets worse
    assert values[-1] == pytest.approx(search.best_score_)


@pytest.mark.parametrize("kind", ["grid", "random"])
def test_halving_searches_mark_candidates_not_promoted_as_pruned(kind):
    from sklearn.datasets import load_iris
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV, HalvingRandomSearchCV
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    space = {"max_depth": [1, 2, 3, 4], "min_samples_leaf": [1, 5]}
    if kind == "grid":
        search = HalvingGridSearchCV(DecisionTreeClassifier(random_state=0), space, cv=2, factor=2)
    else:
        search = HalvingRandomSearchCV(
            DecisionTreeClassifier(random_state=0),
            space,
            n_candidates=8,
            cv=2,
            factor=2,
            random_state=0,
        )
    search.fit(X, y)
    parent, children = _search_runs()
    results = search.cv_results_
    last = max(results["iter"])
    assert len(children) == len(results["params"])
    pruned = [c for c in children if c.data.tags[names.TRIAL_STATE_TAG] == "PRUNED"]
    assert pruned and all(c.info.status == "KILLED" for c in pruned)
    for child in pruned:
        index = int(child.data.tags[names.TRIAL_NUMBER_TAG])
        assert results["iter"][index] < last
    final = [i for i, it in enumerate(results["iter"]) if it == last]
    for child in children:
        if int(child.data.tags[names.TRIAL_NUMBER_TAG]) in final:
            assert child.data.tags[names.TRIAL_STATE_TAG] == "COMPLETE"
    assert parent.data.tags["flightlog.sweep.n_pruned"] == str(len(pruned))
