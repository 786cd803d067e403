"""flightlog's Keras 3 integration (a plugin in the `flightlog.integrations` group).

    model.fit(x, y, epochs=10, validation_data=(xv, yv),
              callbacks=[flightlog.keras.FlightlogCallback()])   # explicit, or:
    flightlog.keras.autolog()                                    # adds the callback to every fit

The callback logs every `logs` entry at each epoch end (`loss`, `val_loss`, `precision`, ...),
optionally per batch, plus the optimizer config, epochs, batch size, early-stopping settings and
the model summary. Autolog also logs the model (`.keras` format) with its signature.

Importing this package does not import keras; patches go on when it is imported.
"""

from __future__ import annotations

from typing import Any

from flightlog_keras._autolog import KerasIntegration

FLAVOR_NAME = "keras"

integration = KerasIntegration()


def autolog(**config: Any) -> None:
    """Enable Keras autologging; `disable=True` reverts the patch.

    Options: log_models, log_input_examples, log_model_signatures, log_datasets, disable,
    exclusive, silent, extra_tags, registered_model_name, plus `log_every_epoch` (default
    True), `log_every_n_steps` (also log batch metrics every N batches) and `save_model_kwargs`
    (passed to `model.save`).
    """
    integration.autolog(**config)


def log_model(
    model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    **kwargs: Any,
):
    """Log a keras.Model to the active run at `<name>/` (default "model"), `.keras` format.

    Keyword arguments: signature, input_example (a signature is inferred from it when none is
    given), registered_model_name, save_model_kwargs, metadata, pip_requirements,
    extra_pip_requirements, run_id.
    """
    from flightlog.models.saving import log_flavor_model
    from flightlog_keras._flavor import FLAVOR

    return log_flavor_model(FLAVOR, model, name, artifact_path=artifact_path, **kwargs)


def save_model(model: Any, path: str, **kwargs: Any):
    """Save a keras.Model into the new local folder `path` (MLflow's layout)."""
    from flightlog.models.saving import save_flavor_model
    from flightlog_keras._flavor import FLAVOR

    return save_flavor_model(FLAVOR, model, path, **kwargs)


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The keras.Model saved at `model_uri` (runs:/, models:/, a path, ...)."""
    from flightlog.models.loading import load_flavor_model
    from flightlog_keras._flavor import FLAVOR

    return load_flavor_model(FLAVOR, model_uri, dst_path)


def __getattr__(name: str) -> Any:
    # The callback class subclasses keras', so it exists only once keras is imported.
    if name in ("FlightlogCallback", "MlflowCallback"):  # MlflowCallback: MLflow's name
        from flightlog_keras._callback import FlightlogCallback

        return FlightlogCallback
    raise AttributeError(f"module 'flightlog_keras' has no attribute {name!r}")


__all__ = [
    "FLAVOR_NAME",
    "FlightlogCallback",
    "KerasIntegration",
    "MlflowCallback",
    "autolog",
    "integration",
    "load_model",
    "log_model",
    "save_model",
]
