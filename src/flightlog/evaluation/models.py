"""What evaluate() calls to predict: a logged-model URI (loaded with flightlog.models), a loaded
model (flightlog PyFuncModel, a scikit-learn-style estimator, an MLflow PyFuncModel) or a plain
callable. Classifiers also get `predict_proba` where the underlying model has one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flightlog.evaluation.errors import EvaluationInputError


@dataclass
class Predictor:
    predict: Callable[[Any], Any]
    predict_proba: Callable[[Any], Any] | None
    # The raw scikit-learn estimator, for MLflow's extra `score` metric.
    sklearn_model: Any = None
    description: str = ""


def _raw_model(model: Any) -> Any:
    """The framework object behind a pyfunc wrapper (flightlog's or MLflow's)."""
    getter = getattr(model, "get_raw_model", None)
    if callable(getter):
        try:
            raw = getter()
        except Exception:  # noqa: BLE001 - MLflow raises for models without a raw object
            raw = None
        if raw is not None:
            return raw
    impl = getattr(model, "_model_impl", None)  # MLflow's PyFuncModel
    return getattr(impl, "sklearn_model", None) or getattr(impl, "xgb_model", None)


def _is_sklearn(obj: Any) -> bool:
    return type(obj).__module__.startswith("sklearn.") and hasattr(obj, "score")


def resolve(model: Any) -> Predictor:
    if model is None:
        raise EvaluationInputError("model is required: a model URI, a loaded model or a callable")
    if isinstance(model, str):
        from flightlog.models import load_model

        model = load_model(model)
        origin = "uri"
    else:
        origin = type(model).__name__
    raw = _raw_model(model)
    if hasattr(model, "predict"):
        proba_owner = raw if raw is not None and hasattr(raw, "predict_proba") else model
        proba = getattr(proba_owner, "predict_proba", None)
        sk = (
            raw if raw is not None and _is_sklearn(raw) else (model if _is_sklearn(model) else None)
        )
        return Predictor(model.predict, proba if callable(proba) else None, sk, origin)
    if callable(model):
        return Predictor(model, None, None, "callable")
    raise EvaluationInputError(
        f"model must be a model URI, an object with predict(), or a callable; got "
        f"{type(model).__name__}"
    )
