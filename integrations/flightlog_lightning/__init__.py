"""flightlog's Lightning integration (a plugin in the `flightlog.integrations` group).

Works with `lightning` (`lightning.pytorch`) and with `pytorch_lightning`:

    flightlog.lightning.autolog()                         # or flightlog.autolog()
    Trainer(callbacks=[flightlog.lightning.FlightlogCallback()])
    Trainer(logger=flightlog.lightning.FlightlogLogger(experiment_name="mnist"))

All three share one recorder (flightlog_lightning._recorder): params from
`save_hyperparameters()`, optimizer, scheduler, Trainer and early-stopping settings; every logged
metric at each epoch end (step = epoch) and the learning rates; the model summary; the best
checkpoint (or the final model) as a logged model with a signature from a real batch; the
results of `validate()`/`test()`. Only the global-zero process records: one run per fit.

Importing this package does not import Lightning; FlightlogCallback and FlightlogLogger import it
when first used.
"""

from __future__ import annotations

from typing import Any

from flightlog_lightning._integration import LightningIntegration

integration = LightningIntegration()


def autolog(**config: Any) -> None:
    """Enable Lightning autologging: `Trainer.fit`/`validate`/`test` record into a run.

    Options: MLflow's common ones (log_models, log_model_signatures, log_input_examples,
    disable, exclusive, silent, extra_tags, registered_model_name, ...) plus
    log_every_n_epoch (1), log_every_n_step (None: no step-level points), log_model_summary
    (True), checkpoint (True: log the best checkpoint rather than the final weights). MLflow's
    checkpoint_monitor/_mode/_save_best_only/_save_weights_only/_save_freq are accepted so
    `mlflow.pytorch.autolog(...)` calls run unchanged; the Trainer's own ModelCheckpoint decides
    which checkpoint is best.
    """
    integration.autolog(**config)


def log_model(pytorch_model: Any = None, name: str | None = None, **kwargs: Any) -> Any:
    """Log a LightningModule (any torch.nn.Module) with the `pytorch` flavor."""
    from flightlog_torch import log_model as _log_model

    return _log_model(pytorch_model, name, **kwargs)


def load_model(model_uri: str, dst_path: str | None = None, prefer: str = "pickle") -> Any:
    from flightlog_torch import load_model as _load_model

    return _load_model(model_uri, dst_path, prefer)


def __getattr__(name: str) -> Any:
    if name == "FlightlogCallback":
        from flightlog_lightning._callback import FlightlogCallback

        return FlightlogCallback
    if name == "FlightlogLogger":
        from flightlog_lightning._logger import FlightlogLogger

        return FlightlogLogger
    raise AttributeError(f"module 'flightlog_lightning' has no attribute {name!r}")


__all__ = [
    "FlightlogCallback",
    "FlightlogLogger",
    "LightningIntegration",
    "autolog",
    "integration",
    "load_model",
    "log_model",
]
