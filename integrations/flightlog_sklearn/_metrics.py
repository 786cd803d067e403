"""Training metrics, per estimator type, from a single prediction pass over the training data.

Classifiers: accuracy, precision, recall, F1 (weighted, or binary for `pos_label`), log loss and
ROC AUC (when the model has predict_proba), score. Regressors: MSE, RMSE, MAE, R², score.
Clusterers: silhouette (on a sample of at most 2,000 rows, so it stays cheap) and score.
Sample weights are used wherever the metric takes them.

Cost: `predict` once; `predict_proba` once more only if `predict` did not already compute the
probabilities (a forest's predict does: we hand that result back instead of predicting again).
`training_score` reuses accuracy / R² when the estimator's `score` is scikit-learn's default.
A metric that does not apply to the data (multilabel targets, one class only) is left out.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

PREFIX = "training_"
SILHOUETTE_SAMPLE = 2_000


@dataclass
class PlotInputs:
    """What the classifier plots are computed from: private copies (the user may change their
    arrays once fit returns), so the curves can be computed and drawn in the background."""

    classes: Any
    y_true: Any
    y_pred: Any
    scores: Any = None  # positive-class scores, binary problems only
    sample_weight: Any = None


@dataclass
class TrainingOutcome:
    metrics: dict[str, float] = field(default_factory=dict)
    prediction_head: Any = None  # predictions for the first rows (the signature's output)
    plots: PlotInputs | None = None


def training_metrics(
    estimator: Any, X: Any, y: Any, sample_weight: Any, pos_label: Any
) -> TrainingOutcome:
    from sklearn.base import is_classifier, is_regressor

    outcome = TrainingOutcome()
    with warnings.catch_warnings():
        # Our metric calls must not add warnings (UndefinedMetricWarning, ...) to the user's.
        warnings.simplefilter("ignore")
        if is_classifier(estimator) and y is not None and hasattr(estimator, "predict"):
            _classifier(outcome, estimator, X, y, sample_weight, pos_label)
        elif is_regressor(estimator) and y is not None and hasattr(estimator, "predict"):
            _regressor(outcome, estimator, X, y, sample_weight)
        elif _is_clusterer(estimator):
            _clusterer(outcome, estimator, X, y, sample_weight)
        else:
            _other(outcome, estimator, X, y, sample_weight)
    return outcome


def _try(outcome: TrainingOutcome, name: str, compute: Callable[[], Any]) -> Any:
    """Compute one metric; inapplicable ones (scikit-learn's ValueError/TypeError) are skipped."""
    try:
        value = compute()
    except (ValueError, TypeError):
        return None
    if value is None:
        return None
    value = float(value)
    outcome.metrics[PREFIX + name] = value
    return value


def _classifier(outcome, estimator, X, y, sample_weight, pos_label) -> None:
    from sklearn import metrics

    proba = None
    with _shared_probabilities(estimator):
        y_pred = estimator.predict(X)
        if hasattr(estimator, "predict_proba"):
            try:
                proba = estimator.predict_proba(X)
            except (ValueError, TypeError, AttributeError, NotImplementedError):
                proba = None
    outcome.prediction_head = y_pred[:5]
    sw = sample_weight
    accuracy = _try(
        outcome, "accuracy_score", lambda: metrics.accuracy_score(y, y_pred, sample_weight=sw)
    )
    average = "binary" if pos_label is not None else "weighted"
    extra = {"pos_label": pos_label} if pos_label is not None else {}
    try:
        precision, recall, f1, _ = metrics.precision_recall_fscore_support(
            y, y_pred, average=average, sample_weight=sw, zero_division=0, **extra
        )
    except (ValueError, TypeError):
        pass
    else:
        outcome.metrics[PREFIX + "precision_score"] = float(precision)
        outcome.metrics[PREFIX + "recall_score"] = float(recall)
        outcome.metrics[PREFIX + "f1_score"] = float(f1)
    classes = getattr(estimator, "classes_", None)
    scores = None
    if proba is not None and classes is not None and getattr(proba, "ndim", 0) == 2:
        _try(
            outcome,
            "log_loss",
            lambda: metrics.log_loss(y, proba, sample_weight=sw, labels=classes),
        )
        if len(classes) == 2:
            scores = proba[:, 1]
            _try(outcome, "roc_auc", lambda: metrics.roc_auc_score(y, scores, sample_weight=sw))
        else:
            _try(
                outcome,
                "roc_auc",
                lambda: metrics.roc_auc_score(
                    y,
                    proba,
                    multi_class="ovr",
                    average="weighted",
                    sample_weight=sw,
                    labels=classes,
                ),
            )
    _score(outcome, estimator, X, y, sw, default=accuracy, kind="classifier")
    if classes is not None and getattr(classes, "ndim", 1) == 1 and _can_plot():
        outcome.plots = _plot_inputs(estimator, X, y, y_pred, scores, classes, sw)


def _regressor(outcome, estimator, X, y, sample_weight) -> None:
    from sklearn import metrics

    y_pred = estimator.predict(X)
    outcome.prediction_head = y_pred[:5]
    sw = sample_weight
    mse = _try(
        outcome,
        "mean_squared_error",
        lambda: metrics.mean_squared_error(y, y_pred, sample_weight=sw),
    )
    rmse = getattr(metrics, "root_mean_squared_error", None)
    if rmse is not None:
        _try(outcome, "root_mean_squared_error", lambda: rmse(y, y_pred, sample_weight=sw))
    elif mse is not None:
        outcome.metrics[PREFIX + "root_mean_squared_error"] = math.sqrt(mse)
    _try(
        outcome,
        "mean_absolute_error",
        lambda: metrics.mean_absolute_error(y, y_pred, sample_weight=sw),
    )
    r2 = _try(outcome, "r2_score", lambda: metrics.r2_score(y, y_pred, sample_weight=sw))
    _score(outcome, estimator, X, y, sw, default=r2, kind="regressor")


def _clusterer(outcome, estimator, X, y, sample_weight) -> None:
    import numpy as np
    from sklearn import metrics

    labels = getattr(estimator, "labels_", None)
    if labels is not None:
        labels = np.asarray(labels)
        outcome.prediction_head = labels[:5]
        n_samples = labels.shape[0]
        n_labels = len(np.unique(labels))
        if 2 <= n_labels <= n_samples - 1:
            sample = SILHOUETTE_SAMPLE if n_samples > SILHOUETTE_SAMPLE else None
            _try(
                outcome,
                "silhouette_score",
                lambda: metrics.silhouette_score(X, labels, sample_size=sample, random_state=0),
            )
    _other(outcome, estimator, X, y, sample_weight)


def _other(outcome, estimator, X, y, sample_weight) -> None:
    if hasattr(estimator, "score"):
        _score(outcome, estimator, X, y, sample_weight, default=None, kind=None)


def _score(outcome, estimator, X, y, sample_weight, default, kind) -> None:
    if default is not None and _uses_default_score(estimator, kind):
        outcome.metrics[PREFIX + "score"] = default
        return
    if not hasattr(estimator, "score"):
        return
    if sample_weight is not None:
        _try(outcome, "score", lambda: estimator.score(X, y, sample_weight=sample_weight))
    else:
        _try(outcome, "score", lambda: estimator.score(X, y))


def _uses_default_score(estimator: Any, kind: str | None) -> bool:
    """Whether `estimator.score` is scikit-learn's accuracy / R² (also through a Pipeline)."""
    import inspect

    from sklearn.base import ClassifierMixin, RegressorMixin
    from sklearn.pipeline import Pipeline

    mixin = {"classifier": ClassifierMixin, "regressor": RegressorMixin}.get(kind or "")
    if mixin is None:
        return False
    final = estimator
    while isinstance(final, Pipeline):
        final = final._final_estimator
    try:
        found = inspect.getattr_static(type(final), "score")
    except AttributeError:
        return False
    return found is vars(mixin).get("score")


def _is_clusterer(estimator: Any) -> bool:
    try:
        from sklearn.base import is_clusterer
    except ImportError:  # scikit-learn < 1.6
        from sklearn.base import ClusterMixin

        return isinstance(estimator, ClusterMixin)
    return is_clusterer(estimator)


@contextlib.contextmanager
def _shared_probabilities(estimator: Any) -> Iterator[None]:
    """While computing training metrics, `estimator.predict_proba(X)` with the X it was last
    called with returns that result again: when predict() is argmax(predict_proba) (forests,
    boosting, ...), the probabilities are computed once. An instance attribute shadows the
    class method for the duration, and is removed afterwards."""
    method = (
        getattr(estimator, "predict_proba", None) if hasattr(estimator, "predict_proba") else None
    )
    state = getattr(estimator, "__dict__", None)
    if method is None or state is None or "predict_proba" in state:
        yield
        return
    last: list[Any] = []

    def predict_proba(X, *args, **kwargs):
        if not args and not kwargs and last and last[0] is X:
            return last[1]
        result = method(X, *args, **kwargs)
        if not args and not kwargs:
            last[:] = [X, result]
        return result

    state["predict_proba"] = predict_proba
    try:
        yield
    finally:
        if state.get("predict_proba") is predict_proba:
            del state["predict_proba"]


_plotting: bool | None = None


def _can_plot() -> bool:
    global _plotting
    if _plotting is None:
        import importlib.util

        _plotting = importlib.util.find_spec("matplotlib") is not None
    return _plotting


def _plot_inputs(estimator, X, y, y_pred, scores, classes, sample_weight) -> PlotInputs:
    import numpy as np

    if len(classes) == 2 and scores is None and hasattr(estimator, "decision_function"):
        # Only a model without predict_proba needs this second pass, and it must happen now:
        # the model may be refit as soon as fit returns.
        try:
            scores = estimator.decision_function(X)
        except (ValueError, TypeError, AttributeError):
            scores = None
    if scores is not None and (len(classes) != 2 or getattr(scores, "ndim", 1) != 1):
        scores = None
    return PlotInputs(
        classes=np.array(classes, copy=True),
        y_true=np.array(y, copy=True),
        y_pred=y_pred,  # ours: predict() made it
        scores=scores,  # ours too (a slice of our probabilities, or decision_function's output)
        sample_weight=None if sample_weight is None else np.array(sample_weight, copy=True),
    )
