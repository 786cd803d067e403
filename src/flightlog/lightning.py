"""`flightlog.lightning`: Lightning autologging, callback and logger.

    flightlog.lightning.autolog()
    Trainer(callbacks=[flightlog.lightning.FlightlogCallback()])
    Trainer(logger=flightlog.lightning.FlightlogLogger(experiment_name="demo"))
    flightlog.lightning.load_model("runs:/<run_id>/model")

Works with `lightning` and with `pytorch_lightning`. Everything comes from the
flightlog_lightning integration package, imported on first use; importing this module imports
neither it nor Lightning (FlightlogCallback/FlightlogLogger import Lightning when first used).
"""

from __future__ import annotations

from typing import Any

FLAVOR_NAME = "pytorch"
_EXPORTS = (
    "autolog",
    "FlightlogCallback",
    "FlightlogLogger",
    "log_model",
    "load_model",
    "integration",
)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'flightlog.lightning' has no attribute {name!r}")
    try:
        import flightlog_lightning
    except ImportError as exc:
        raise AttributeError(
            f"flightlog.lightning.{name} needs the flightlog_lightning integration, which could "
            f"not be imported ({exc})"
        ) from None
    return getattr(flightlog_lightning, name)


def __dir__() -> list[str]:
    return sorted([*_EXPORTS, "FLAVOR_NAME"])


__all__ = ["FLAVOR_NAME", *_EXPORTS]
