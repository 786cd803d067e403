"""`flightlog.sklearn`: scikit-learn models and autologging, as MLflow users type them.

    flightlog.sklearn.log_model(model, name="model", input_example=X[:5])
    flightlog.sklearn.load_model("runs:/<run_id>/model")
    flightlog.sklearn.autolog()          # from the flightlog_sklearn integration, when installed

Importing this module imports neither scikit-learn nor the integration.
"""

from __future__ import annotations

from typing import Any

from flightlog.models.sklearn_flavor import (
    FLAVOR_NAME,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_SKOPS,
    SUPPORTED_SERIALIZATION_FORMATS,
)


def log_model(
    sk_model: Any = None,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    model: Any = None,
    **kwargs: Any,
):
    """Save a scikit-learn model under the active run's artifacts at `<name>/` (default "model").

    Keyword arguments: signature, input_example (a signature is inferred from it when none is
    given), registered_model_name, serialization_format ("cloudpickle", "pickle" or "skops"),
    pyfunc_predict_fn, skops_trusted_types, metadata, pip_requirements, extra_pip_requirements.
    `sk_model` and `artifact_path` are MLflow's spellings of `model` and `name`.
    """
    from flightlog.models.saving import log_flavor_model
    from flightlog.models.sklearn_flavor import FLAVOR

    return log_flavor_model(
        FLAVOR, _the_model(sk_model, model), name, artifact_path=artifact_path, **kwargs
    )


def save_model(sk_model: Any = None, path: str | None = None, *, model: Any = None, **kwargs: Any):
    """Save a scikit-learn model into the new local folder `path` (MLflow's layout)."""
    from flightlog.exceptions import InvalidParameterError
    from flightlog.models.saving import save_flavor_model
    from flightlog.models.sklearn_flavor import FLAVOR

    if path is None:
        raise InvalidParameterError("save_model needs a path to save the model into")
    return save_flavor_model(FLAVOR, _the_model(sk_model, model), path, **kwargs)


def load_model(model_uri: str, dst_path: str | None = None):
    """The scikit-learn estimator saved at `model_uri` (runs:/, models:/, a path, ...).

    Pickle-based models run code from the file while loading: load only models you trust.
    """
    from flightlog.models.loading import load_flavor_model
    from flightlog.models.sklearn_flavor import FLAVOR

    return load_flavor_model(FLAVOR, model_uri, dst_path)


def _the_model(sk_model: Any, model: Any) -> Any:
    if (sk_model is None) == (model is None):
        from flightlog.exceptions import InvalidParameterError

        raise InvalidParameterError("Pass the scikit-learn model once (as sk_model or model)")
    return sk_model if sk_model is not None else model


def __getattr__(name: str) -> Any:
    # autolog & co. live in the integration package; import it only when asked for.
    try:
        import flightlog_sklearn
    except ImportError:
        flightlog_sklearn = None
    if flightlog_sklearn is not None and hasattr(flightlog_sklearn, name):
        return getattr(flightlog_sklearn, name)
    if name == "autolog":
        raise AttributeError(
            "flightlog.sklearn.autolog needs the flightlog_sklearn integration, which is not "
            "installed"
        )
    raise AttributeError(f"module 'flightlog.sklearn' has no attribute {name!r}")


__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "load_model",
    "log_model",
    "save_model",
]
