"""`flightlog.xgboost`: XGBoost models and autologging, as MLflow users type them.

    flightlog.xgboost.autolog()
    flightlog.xgboost.log_model(booster, name="model", input_example=X[:5])
    flightlog.xgboost.load_model("runs:/<run_id>/model")
    xgboost.train(..., callbacks=[flightlog.xgboost.FlightlogCallback()])

Everything comes from the flightlog_xgboost integration package, imported on first use;
importing this module imports neither it nor xgboost.
"""

from __future__ import annotations

from flightlog._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, "flightlog_xgboost", _EXPORTS, own=["FLAVOR_NAME"])

__all__ = ["FLAVOR_NAME", *_EXPORTS]
