"""`flightlog.pyfunc`: any saved model behind one predict(), and custom python models.

    class Echo(flightlog.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input

    info = flightlog.pyfunc.log_model(name="echo", python_model=Echo(), artifacts={"vocab": "v.txt"})
    model = flightlog.pyfunc.load_model(info.model_uri)
    model.predict(df)     # checked against the model's signature first

Models are written in MLflow's python_function layout (see flightlog/models/python_model.py), so
MLflow loads them, and flightlog loads custom models MLflow saved.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from flightlog.models.loading import load_model
from flightlog.models.pyfunc_model import PyFuncModel
from flightlog.models.python_model import PythonModel, PythonModelContext

FLAVOR_NAME = "python_function"

__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
]


def _check_workflow(python_model: Any, loader_module: Any, data_path: Any) -> None:
    from flightlog.exceptions import InvalidParameterError

    if loader_module is not None or data_path is not None:
        raise InvalidParameterError(
            "flightlog.pyfunc saves custom models given as python_model=; loader_module/"
            "data_path models are not supported"
        )
    if python_model is None:
        raise InvalidParameterError("python_model is required (a PythonModel instance)")


def save_model(
    path: str | os.PathLike,
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: Sequence[str] | None = None,
    conda_env: Any = None,
    mlflow_model: Any = None,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    **_ignored: Any,
) -> Any:
    """Save a custom `python_model` (with copies of `artifacts`) into the new folder `path`."""
    from flightlog.models import python_model as pm
    from flightlog.models.saving import save_flavor_model

    _check_workflow(python_model, loader_module, data_path)
    try:
        return save_flavor_model(
            pm.FLAVOR,
            python_model,
            path,
            signature=signature,
            input_example=input_example,
            metadata=metadata,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            mlflow_model=mlflow_model,
            artifacts=artifacts,
            code_paths=code_paths,
            model_config=model_config,
        )
    finally:
        pm._saving.set(None)


def log_model(
    artifact_path: str | None = None,
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: Sequence[str] | None = None,
    infer_code_paths: bool = False,
    conda_env: Any = None,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    run_id: str | None = None,
    **_ignored: Any,
) -> Any:
    """Log a custom `python_model` to the active run (MLflow's arguments and order); returns
    the ModelInfo (`model_uri`, `model_id`, ...)."""
    from flightlog.models import python_model as pm
    from flightlog.models.saving import log_flavor_model

    _check_workflow(python_model, loader_module, data_path)
    extra = {
        k: v
        for k, v in {"params": params, "model_type": model_type, "model_id": model_id}.items()
        if v is not None
    }
    if step:
        extra["step"] = step
    try:
        return log_flavor_model(
            pm.FLAVOR,
            python_model,
            name,
            artifact_path=artifact_path,
            signature=signature,
            input_example=input_example,
            registered_model_name=registered_model_name,
            metadata=metadata,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            run_id=run_id,
            tags=tags,
            artifacts=artifacts,
            code_paths=code_paths,
            model_config=model_config,
            **extra,
        )
    finally:
        pm._saving.set(None)
