"""`flightlog.torch`: PyTorch models and plain-loop autologging.

    flightlog.torch.autolog()             # optimizer, parameter count, train/val loss per epoch
    flightlog.torch.log_model(model, name="model", input_example=x[:5])
    flightlog.torch.load_model("runs:/<run_id>/model")
    flightlog.torch.watch(model, log_grad_norm=True, every_n_steps=50)

Everything comes from the flightlog_torch integration package, imported on first use; importing
this module imports neither it nor torch.
"""

from __future__ import annotations

from flightlog._lazy import lazy_exports

FLAVOR_NAME = "pytorch"
_EXPORTS = (
    "autolog",
    "log_model",
    "save_model",
    "load_model",
    "load_state_dict",
    "watch",
    "unwatch",
    "integration",
)

__getattr__, __dir__ = lazy_exports(__name__, "flightlog_torch", _EXPORTS, own=["FLAVOR_NAME"])

__all__ = ["FLAVOR_NAME", *_EXPORTS]
