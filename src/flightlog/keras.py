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

from typing import Any

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


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'flightlog.keras' has no attribute {name!r}")
    try:
        import flightlog_keras
    except ImportError as exc:
        raise AttributeError(
            f"flightlog.keras.{name} needs the flightlog_keras integration, which could not be "
            f"imported ({exc})"
        ) from None
    return getattr(flightlog_keras, name)


def __dir__() -> list[str]:
    return sorted([*_EXPORTS, "FLAVOR_NAME"])


__all__ = ["FLAVOR_NAME", *_EXPORTS]
