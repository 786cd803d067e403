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

from flightlog._lazy import lazy_exports

FLAVOR_NAME = "pytorch"
_EXPORTS = (
    "autolog",
    "FlightlogCallback",
    "FlightlogLogger",
    "log_model",
    "load_model",
    "integration",
)

__getattr__, __dir__ = lazy_exports(__name__, "flightlog_lightning", _EXPORTS, own=["FLAVOR_NAME"])

__all__ = ["FLAVOR_NAME", *_EXPORTS]
