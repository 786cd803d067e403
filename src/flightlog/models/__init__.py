"""Models: MLflow's MLmodel format, signatures, input examples, flavors, loading, the registry.

    from flightlog.models import infer_signature, load_model
    signature = infer_signature(X_train, model.predict(X_train))
    flightlog.sklearn.log_model(model, name="model", signature=signature, input_example=X_train[:5])
    loaded = load_model("models:/churn@champion")
    loaded.predict(X_test)

Everything here is imported on first use, so `import flightlog.models` costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ColSpec": "flightlog.models.schema",
    "DataType": "flightlog.models.schema",
    "ParamSchema": "flightlog.models.schema",
    "ParamSpec": "flightlog.models.schema",
    "Schema": "flightlog.models.schema",
    "TensorSpec": "flightlog.models.schema",
    "ModelSignature": "flightlog.models.signature",
    "infer_signature": "flightlog.models.signature",
    "Model": "flightlog.models.mlmodel",
    "ModelInfo": "flightlog.models.mlmodel",
    "Flavor": "flightlog.models.flavor",
    "SavedFlavor": "flightlog.models.flavor",
    "register_flavor": "flightlog.models.flavor",
    "save_flavor_model": "flightlog.models.saving",
    "log_flavor_model": "flightlog.models.saving",
    "PyFuncModel": "flightlog.models.pyfunc_model",
    "load_model": "flightlog.models.loading",
    "load_flavor_model": "flightlog.models.loading",
    "get_model_info": "flightlog.models.loading",
    "download_model": "flightlog.models.uri",
    "register_model": "flightlog.models.registry_client",
    "validate_schema": "flightlog.models.enforcement",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flightlog.models' has no attribute {name!r}")
    if name == "validate_schema":
        return _validate_schema
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _validate_schema(data: Any, expected_schema: Any) -> None:
    """Raise SignatureMismatchError when `data` does not fit `expected_schema` (MLflow's name)."""
    from flightlog.models.enforcement import enforce_input

    enforce_input(data, expected_schema)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = sorted(_EXPORTS)
