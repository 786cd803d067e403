"""What a training call is worth recording as params: booster settings, rounds, early stopping."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

# Long values (a feature_weights array, a monotone constraint list) are cut to fit MLflow's limit.
_MAX_VALUE_LENGTH = 6000

# Arguments of xgboost.train that are data, functions or outputs, not settings.
_NOT_SETTINGS = {
    "params",
    "dtrain",
    "evals",
    "obj",
    "evals_result",
    "xgb_model",
    "callbacks",
    "feval",
}


def as_param_value(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif callable(value) and not isinstance(value, type):
        text = getattr(value, "__name__", type(value).__name__)
    elif isinstance(value, list | tuple) and any(callable(v) for v in value):
        text = str([as_param_value(v) for v in value])
    else:
        text = str(value)
    return text if len(text) <= _MAX_VALUE_LENGTH else text[: _MAX_VALUE_LENGTH - 3] + "..."


def booster_params(params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> dict[str, str]:
    """xgboost.train's `params`: a dict, or a list of pairs where a key may repeat (eval_metric)."""
    if params is None:
        return {}
    items = params.items() if isinstance(params, Mapping) else list(params)
    grouped: dict[str, list[Any]] = {}
    for key, value in items:
        grouped.setdefault(str(key), []).append(value)
    return {k: as_param_value(v[0] if len(v) == 1 else v) for k, v in grouped.items()}


def train_call_params(call_args: Mapping[str, Any]) -> dict[str, str]:
    """Params of one xgboost.train call (arguments bound, defaults applied)."""
    out = booster_params(call_args.get("params"))
    for name, value in call_args.items():
        if name in _NOT_SETTINGS or name in out:
            continue
        out[name] = as_param_value(value)
    out.update(early_stopping_params(call_args.get("callbacks")))
    return out


def early_stopping_params(callbacks: Iterable[Any] | None) -> dict[str, str]:
    """Settings of an xgboost.callback.EarlyStopping the user passed explicitly."""
    import xgboost

    for cb in callbacks or ():
        if isinstance(cb, xgboost.callback.EarlyStopping):
            return {
                "early_stopping_rounds": as_param_value(cb.rounds),
                "early_stopping_metric": as_param_value(cb.metric_name),
                "early_stopping_data": as_param_value(cb.data),
                "early_stopping_maximize": as_param_value(cb.maximize),
                "early_stopping_save_best": as_param_value(cb.save_best),
                "early_stopping_min_delta": as_param_value(getattr(cb, "_min_delta", 0.0)),
            }
    return {}


def estimator_params(estimator: Any) -> tuple[dict[str, str], list[str]]:
    """An XGBModel's params as MLflow logs them: every `get_params()` entry, one left at None
    as "None" (so `params.base_score = 'None'` finds the run in both); and the names left at
    None, whose values XGBoost resolves in training (logged after fit as `resolved_<name>`)."""
    chosen: dict[str, str] = {}
    unset: list[str] = []
    for name, value in estimator.get_params(deep=True).items():
        if value is None:
            unset.append(name)
            chosen[name] = "None"
        elif name == "callbacks":
            chosen[name] = as_param_value([type(cb).__name__ for cb in value])
        else:
            chosen[name] = as_param_value(value)
    chosen.update(early_stopping_params(estimator.get_params(deep=False).get("callbacks")))
    return chosen, unset


def resolved_defaults(booster: Any, names: Iterable[str]) -> dict[str, str]:
    """The values XGBoost actually used for params the user left at None.

    XGBoost fills them in C++; the trained booster's JSON config is the only place they show.
    Names the config does not know come back "None".
    """
    config = json.loads(booster.save_config())
    learner = config.get("learner", {})
    flat: dict[str, str] = {}
    _flatten(learner, flat)
    metrics = [m.get("name") for m in learner.get("metrics", []) if isinstance(m, dict)]
    out: dict[str, str] = {}
    for name in names:
        if name == "eval_metric" and metrics:
            value = metrics[0] if len(metrics) == 1 else str(metrics)
        elif name in flat:
            value = _tidy_number(flat[name])
        else:
            value = "None"
        out[name] = as_param_value(value)
    return out


def _flatten(node: Any, out: dict[str, str]) -> None:
    # First occurrence wins; sections are small and names do not clash in practice.
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                _flatten(value, out)
            elif key not in out:
                out[key] = str(value)
    elif isinstance(node, list):
        for item in node:
            _flatten(item, out)


def _tidy_number(text: str) -> str:
    """'0.300000012' (a float32 printed in full) -> '0.3'; '[4.4E-1]' -> '0.44'; ints untouched."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") and "," not in text else text
    if any(c in inner for c in ".eE"):
        try:
            return f"{float(inner):.7g}"
        except ValueError:
            return text
    return inner
