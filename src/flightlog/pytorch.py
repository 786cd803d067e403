"""`flightlog.pytorch`: MLflow's name for PyTorch and Lightning together.

`import flightlog as mlflow` keeps `mlflow.pytorch.autolog()`, `mlflow.pytorch.log_model(...)`
and `mlflow.pytorch.load_model(...)` working: autolog here enables both the plain-loop PyTorch
integration and the Lightning one, handing each the options it knows (MLflow's
`log_every_n_epoch`, `log_every_n_step`, `checkpoint*` go to Lightning).

Importing this module imports neither torch nor Lightning.
"""

from __future__ import annotations

from typing import Any

FLAVOR_NAME = "pytorch"
_TORCH_EXPORTS = ("log_model", "save_model", "load_model", "load_state_dict", "watch", "unwatch")
_LIGHTNING_EXPORTS = ("FlightlogCallback", "FlightlogLogger")


def _integrations() -> list[Any]:
    found = []
    for package in ("flightlog_torch", "flightlog_lightning"):
        try:
            module = __import__(package)
        except ImportError:
            continue
        found.append(module.integration)
    if not found:
        from flightlog.exceptions import AutologConfigError

        raise AutologConfigError(
            "flightlog.pytorch.autolog needs the flightlog_torch or flightlog_lightning "
            "integration, and neither could be imported"
        )
    return found


def autolog(**config: Any) -> None:
    """Enable autologging of plain PyTorch loops and of Lightning (`disable=True` reverts both).

    Accepts mlflow.pytorch.autolog's options: log_every_n_epoch, log_every_n_step, log_models,
    log_datasets, disable, exclusive, disable_for_unsupported_versions, silent,
    registered_model_name, extra_tags, checkpoint, checkpoint_monitor, checkpoint_mode,
    checkpoint_save_best_only, checkpoint_save_weights_only, checkpoint_save_freq,
    log_model_signatures (and the other common autolog options). Every value is checked before
    either integration changes.
    """
    from flightlog.autolog import config as autolog_config

    integrations = _integrations()
    accepted = {id(i): set(i.option_names()) for i in integrations}
    autolog_config.check_known(config, set().union(*accepted.values()), "flightlog.pytorch.autolog")
    for integration in integrations:
        options = {k: v for k, v in config.items() if k in accepted[id(integration)]}
        autolog_config.resolve(
            options,
            where=f"{integration.name} autolog",
            extra_defaults=integration.extra_options,
            extra_check=integration.check_options,
        )
    for integration in integrations:
        integration.autolog(**{k: v for k, v in config.items() if k in accepted[id(integration)]})


def __getattr__(name: str) -> Any:
    if name in _TORCH_EXPORTS:
        import flightlog_torch

        return getattr(flightlog_torch, name)
    if name in _LIGHTNING_EXPORTS:
        import flightlog_lightning

        return getattr(flightlog_lightning, name)
    raise AttributeError(f"module 'flightlog.pytorch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(["FLAVOR_NAME", "autolog", *_TORCH_EXPORTS, *_LIGHTNING_EXPORTS])


__all__ = ["FLAVOR_NAME", "autolog", *_TORCH_EXPORTS, *_LIGHTNING_EXPORTS]
