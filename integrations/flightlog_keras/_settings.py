"""Training settings a Keras callback cannot see directly: batch size, sibling callbacks, optimizer."""

from __future__ import annotations

import sys
from typing import Any

# How far up the stack fit() may be from a callback's on_train_begin (callback list, the
# traceback-filtering decorator, a backend trainer's fit and the base fit).
_MAX_FRAMES = 12


def find_fit_context(model: Any) -> tuple[int | None, list[Any]]:
    """The batch size and the callbacks of the `fit()` call that is training `model` right now.

    Keras hands a callback only `params` (epochs, steps) and the model; the batch size and the
    other callbacks (an EarlyStopping's settings) live in fit()'s frame. Every Keras 3 backend
    names them `epoch_iterator` and `callbacks` there. Anything unexpected gives (None, []).
    """
    try:
        frame = sys._getframe(1)
    except ValueError:
        return None, []
    for _ in range(_MAX_FRAMES):
        if frame is None:
            break
        local = frame.f_locals
        if local.get("self") is model and "epoch_iterator" in local and "callbacks" in local:
            return _batch_size(local), list(getattr(local["callbacks"], "callbacks", []) or [])
        frame = frame.f_back
    return None, []


def _batch_size(fit_locals: dict[str, Any]) -> int | None:
    adapter = getattr(fit_locals.get("epoch_iterator"), "data_adapter", None)
    size = getattr(adapter, "batch_size", None)
    if size is None:
        size = fit_locals.get("batch_size")
    return int(size) if isinstance(size, int) else None


def early_stopping_params(callback: Any) -> dict[str, Any]:
    return {
        "early_stopping_monitor": callback.monitor,
        "early_stopping_patience": callback.patience,
        "early_stopping_min_delta": abs(callback.min_delta),
        "early_stopping_mode": getattr(callback, "mode", "auto"),
        "early_stopping_baseline": callback.baseline,
        "early_stopping_restore_best_weights": callback.restore_best_weights,
    }


def optimizer_params(optimizer: Any) -> dict[str, Any]:
    """`optimizer_name` and `optimizer_<key>` for each config entry (MLflow's naming)."""
    if optimizer is None:
        return {}
    params: dict[str, Any] = {"optimizer_name": type(optimizer).__name__}
    try:
        config = optimizer.get_config()
    except Exception:  # noqa: BLE001 - a custom optimizer without a config
        return params
    for key, value in config.items():
        if key == "name":
            continue
        if isinstance(value, dict):  # a learning-rate schedule: its class and settings
            value = value.get("class_name", value)
        params[f"optimizer_{key}"] = _tidy(value)
    return params


def _tidy(value: Any) -> Any:
    # Keras keeps hyperparameters as float32: 0.01 comes back as 0.009999999776482582.
    if isinstance(value, float):
        return float(f"{value:.7g}")
    return value
