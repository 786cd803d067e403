"""flightlog's XGBoost integration (a plugin in the `flightlog.integrations` group).

    import flightlog
    flightlog.xgboost.autolog()     # or flightlog.autolog() for every installed framework
    booster = xgboost.train(params, dtrain, 200, evals=[(dtrain, "train"), (dval, "val")])

`xgboost.train` and the scikit-learn API (`XGBClassifier.fit`, ...) are logged at the outermost
call: booster params (with XGBoost's defaults, for the scikit-learn API), every eval metric at
every round as `<eval name>-<metric>` (streamed while training), early stopping results, feature
importance (JSON + PNG per type) and the model in XGBoost's own format with its signature.

Importing this package does not import xgboost; patches go on when it is imported.
"""

from __future__ import annotations

from typing import Any

from flightlog_xgboost._autolog import XGBoostIntegration
from flightlog_xgboost._importance import IMPORTANCE_TYPES

FLAVOR_NAME = "xgboost"

integration = XGBoostIntegration()


def autolog(**config: Any) -> None:
    """Enable XGBoost autologging; `disable=True` reverts every patch.

    Options: log_models, log_input_examples, log_model_signatures, log_datasets, disable,
    exclusive, silent, extra_tags, registered_model_name, plus `importance_types` (default: all
    of "weight", "gain", "cover", "total_gain", "total_cover"; [] for none) and `model_format`
    ("ubj", the default, or "json").
    """
    integration.autolog(**config)


def log_model(
    xgb_model: Any = None,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    model: Any = None,
    model_format: str = "ubj",
    **kwargs: Any,
):
    """Log a Booster or an XGBoost scikit-learn model to the active run at `<name>/` ("model").

    Keyword arguments: signature, input_example (a signature is inferred from it when none is
    given), registered_model_name, model_format ("ubj" or "json"), metadata, pip_requirements,
    extra_pip_requirements, run_id. `xgb_model`/`artifact_path` are MLflow's spellings.
    """
    from flightlog.models.saving import log_flavor_model
    from flightlog_xgboost._flavor import FLAVOR

    return log_flavor_model(
        FLAVOR,
        _the_model(xgb_model, model),
        name,
        artifact_path=artifact_path,
        model_format=model_format,
        **kwargs,
    )


def save_model(
    xgb_model: Any = None,
    path: str | None = None,
    *,
    model: Any = None,
    model_format: str = "ubj",
    **kwargs: Any,
):
    """Save a Booster or an XGBoost scikit-learn model into the new local folder `path`."""
    from flightlog.exceptions import InvalidParameterError
    from flightlog.models.saving import save_flavor_model
    from flightlog_xgboost._flavor import FLAVOR

    if path is None:
        raise InvalidParameterError("save_model needs a path to save the model into")
    return save_flavor_model(
        FLAVOR, _the_model(xgb_model, model), path, model_format=model_format, **kwargs
    )


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The Booster or XGBoost scikit-learn model saved at `model_uri` (runs:/, models:/, a path)."""
    from flightlog.models.loading import load_flavor_model
    from flightlog_xgboost._flavor import FLAVOR

    return load_flavor_model(FLAVOR, model_uri, dst_path)


def _the_model(xgb_model: Any, model: Any) -> Any:
    if (xgb_model is None) == (model is None):
        from flightlog.exceptions import InvalidParameterError

        raise InvalidParameterError("Pass the XGBoost model once (as xgb_model or model)")
    return xgb_model if xgb_model is not None else model


def __getattr__(name: str) -> Any:
    # The callback class subclasses xgboost's, so it exists only once xgboost is imported.
    if name == "FlightlogCallback":
        from flightlog_xgboost._callback import FlightlogCallback

        return FlightlogCallback
    raise AttributeError(f"module 'flightlog_xgboost' has no attribute {name!r}")


__all__ = [
    "FLAVOR_NAME",
    "IMPORTANCE_TYPES",
    "FlightlogCallback",
    "XGBoostIntegration",
    "autolog",
    "integration",
    "load_model",
    "log_model",
    "save_model",
]
