"""`flightlog.torch`: PyTorch models and plain-loop autologging.

    flightlog.torch.autolog()             # optimizer, parameter count, train/val loss per epoch
    flightlog.torch.log_model(model, name="model", input_example=x[:5])
    flightlog.torch.load_model("runs:/<run_id>/model")
    flightlog.torch.watch(model, log_grad_norm=True, every_n_steps=50)

Everything comes from the flightlog_torch integration package, imported on first use; importing
this module imports neither it nor torch.
"""

from __future__ import annotations

from typing import Any

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


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'flightlog.torch' has no attribute {name!r}")
    try:
        import flightlog_torch
    except ImportError as exc:
        raise AttributeError(
            f"flightlog.torch.{name} needs the flightlog_torch integration, which could not be "
            f"imported ({exc})"
        ) from None
    return getattr(flightlog_torch, name)


def __dir__() -> list[str]:
    return sorted([*_EXPORTS, "FLAVOR_NAME"])


__all__ = ["FLAVOR_NAME", *_EXPORTS]
