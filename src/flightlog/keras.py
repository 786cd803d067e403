"""`flightlog.keras`: Keras 3 models, the training callback and autologging, as MLflow users
type them.

    model.fit(x, y, callbacks=[flightlog.keras.FlightlogCallback()])
    flightlog.keras.autolog()
    flightlog.keras.log_model(model, name="model", input_example=x[:5])
    flightlog.keras.load_model("runs:/<run_id>/model")

Everything comes from the flightlog_keras integration package, imported on first use;
importing this module imports neither it nor keras.
"""

from __future__ import annotations

from flightlog._lazy import lazy_exports

FLAVOR_NAME = "keras"
_EXPORTS = (
    "autolog",
    "log_model",
    "save_model",
    "load_model",
    "FlightlogCallback",
    "MlflowCallback",
    "integration",
)

__getattr__, __dir__ = lazy_exports(__name__, "flightlog_keras", _EXPORTS, own=["FLAVOR_NAME"])

__all__ = ["FLAVOR_NAME", *_EXPORTS]
