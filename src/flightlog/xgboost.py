"""`flightlog.xgboost`: XGBoost models and autologging, as MLflow users type them.

    flightlog.xgboost.autolog()
    flightlog.xgboost.log_model(booster, name="model", input_example=X[:5])
    flightlog.xgboost.load_model("runs:/<run_id>/model")
    xgboost.train(..., callbacks=[flightlog.xgboost.FlightlogCallback()])

Everything comes from the flightlog_xgboost integration package, imported on first use;
importing this module imports neither it nor xgboost.
"""

from __future__ import annotations

from typing import Any

FLAVOR_NAME = "xgboost"
_EXPORTS = (
    "autolog",
    "log_model",
    "save_model",
    "load_model",
    "FlightlogCallback",
    "IMPORTANCE_TYPES",
    "integration",
)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'flightlog.xgboost' has no attribute {name!r}")
    try:
        import flightlog_xgboost
    except ImportError as exc:
        raise AttributeError(
            f"flightlog.xgboost.{name} needs the flightlog_xgboost integration, which could not "
            f"be imported ({exc})"
        ) from None
    return getattr(flightlog_xgboost, name)


def __dir__() -> list[str]:
    return sorted([*_EXPORTS, "FLAVOR_NAME"])


__all__ = ["FLAVOR_NAME", *_EXPORTS]
