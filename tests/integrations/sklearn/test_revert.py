"""disable=True puts every original back (identity); enabling twice patches once."""

from __future__ import annotations

import flightlog
from flightlog.autolog.patching import PatchWrapper


def _originals():
    import sklearn.metrics
    import sklearn.model_selection
    from sklearn.base import ClassifierMixin, TransformerMixin
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return {
        (LogisticRegression, "fit"): vars(LogisticRegression)["fit"],
        (LogisticRegression, "predict_proba"): vars(LogisticRegression)["predict_proba"],
        (TransformerMixin, "fit_transform"): vars(TransformerMixin)["fit_transform"],
        (ClassifierMixin, "score"): vars(ClassifierMixin)["score"],
        (Pipeline, "fit"): vars(Pipeline)["fit"],
        (Pipeline, "predict"): vars(Pipeline)["predict"],  # an available_if descriptor
        (sklearn.metrics, "accuracy_score"): vars(sklearn.metrics)["accuracy_score"],
        (sklearn.model_selection, "cross_val_score"): vars(sklearn.model_selection)[
            "cross_val_score"
        ],
    }


def test_disable_restores_the_original_methods(finished_runs, binary_data):
    from flightlog_sklearn import integration
    from sklearn.base import BaseEstimator
    from sklearn.linear_model import LogisticRegression

    X, _, y, _ = binary_data
    originals = _originals()
    assert "__init_subclass__" not in vars(BaseEstimator)

    flightlog.sklearn.autolog()
    patched = len(integration.patcher)
    for (owner, name), original in originals.items():
        assert isinstance(vars(owner)[name], PatchWrapper), name
        assert vars(owner)[name].__wrapped__ is original
    assert "__init_subclass__" in vars(BaseEstimator)

    flightlog.sklearn.autolog(max_tuning_runs=2)  # enabling twice patches once
    assert len(integration.patcher) == patched
    assert vars(LogisticRegression)["fit"].__wrapped__ is originals[(LogisticRegression, "fit")]

    class DefinedWhileOn(LogisticRegression):
        def fit(self, X, y):
            return super().fit(X, y)

    own_fit = vars(DefinedWhileOn)["fit"]
    assert isinstance(own_fit, PatchWrapper)
    DefinedWhileOn().fit(X, y)
    assert len(finished_runs()) == 1

    flightlog.sklearn.autolog(disable=True)
    for (owner, name), original in originals.items():
        assert vars(owner)[name] is original, name
    assert vars(DefinedWhileOn)["fit"] is own_fit.__wrapped__
    assert "__init_subclass__" not in vars(BaseEstimator)
    assert len(integration.patcher) == 0

    LogisticRegression().fit(X, y)
    DefinedWhileOn().fit(X, y)
    assert len(finished_runs()) == 1  # nothing logged once disabled


def test_flightlog_autolog_enables_and_disables_sklearn(finished_runs, binary_data):
    from sklearn.linear_model import LogisticRegression

    X, _, y, _ = binary_data
    original = _originals()[(LogisticRegression, "fit")]
    flightlog.autolog()
    LogisticRegression().fit(X, y)
    flightlog.autolog(disable=True)
    assert vars(LogisticRegression)["fit"] is original
    LogisticRegression().fit(X, y)
    assert len(finished_runs()) == 1
