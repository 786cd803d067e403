"""The autolog hook: `autolog(evaluate_on=(X_val, y_val))` evaluates each autologged
scikit-learn or XGBoost estimator on that held-out set right after fit, into the fit's run
(the same metrics, plots and summary as flightlog.evaluate). `evaluate_on="eval_set"` uses the
last `eval_set` pair given to an XGBoost estimator's fit."""

from __future__ import annotations

from typing import Any


def model_type_of(estimator: Any) -> str | None:
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return "classifier"
    if is_regressor(estimator):
        return "regressor"
    return None  # transformers, clusterers: nothing to evaluate


def held_out(evaluate_on: Any, eval_set: Any = None) -> tuple[Any, Any] | None:
    if evaluate_on is None:
        return None
    if isinstance(evaluate_on, str) and evaluate_on == "eval_set":
        pairs = list(eval_set or ())
        return tuple(pairs[-1]) if pairs else None
    return evaluate_on[0], evaluate_on[1]


def evaluate_after_fit(estimator: Any, run_id: str, evaluate_on: Any, eval_set: Any = None) -> None:
    """Called by the plugins' after-fit step (inside their fault guard)."""
    pair = held_out(evaluate_on, eval_set)
    if pair is None:
        return
    model_type = model_type_of(estimator)
    if model_type is None:
        return
    from flightlog.evaluation.evaluator import evaluate

    X, y = pair
    evaluate(estimator, X, targets=y, model_type=model_type, run_id=run_id)
