"""Custom python models (`flightlog.pyfunc.PythonModel`) in MLflow's python_function layout.

    <model>/
      MLmodel              flavors.python_function: loader_module mlflow.pyfunc.model,
                           python_model: python_model.pkl, artifacts: {name: {path, uri}}, code
      python_model.pkl     the PythonModel instance, cloudpickled
      artifacts/<file>     copies of the files named in `artifacts=` (local paths or store URIs)
      code/<file>          copies of `code_paths`, put on sys.path before unpickling

The layout is MLflow's, key for key, so `mlflow.pyfunc.load_model` loads a model flightlog saved
and flightlog loads one MLflow saved (unpickling an MLflow PythonModel subclass needs mlflow
installed, as the pickle names its class). Unpickling runs code from the file: load only models
from stores you trust.
"""

from __future__ import annotations

import contextvars
import inspect
import os
import pickle
import platform
import shutil
import sys
from dataclasses import dataclass
from typing import Any

from flightlog.exceptions import InvalidParameterError, ModelNotFoundError
from flightlog.models.environment import CONDA_ENV_FILE, PYTHON_ENV_FILE
from flightlog.models.flavor import Flavor, Predictor, SavedFlavor
from flightlog.models.mlmodel import PYFUNC_FLAVOR

LOADER_MODULE = "mlflow.pyfunc.model"
PICKLE_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"
CODE_DIR = "code"

# The folder being saved, so the save-time signature inference can load the model the way a
# reader will (load_context with the copied artifacts). Set by save(), read by predictor().
_saving: contextvars.ContextVar[tuple[str, dict] | None] = contextvars.ContextVar(
    "flightlog_python_model_saving_path", default=None
)


class PythonModelContext:
    """What `load_context` and `predict` receive: `artifacts` maps each name given at logging
    time to the absolute local path of its copy; `model_config` is the model's configuration."""

    def __init__(
        self, artifacts: dict[str, str] | None = None, model_config: dict[str, Any] | None = None
    ):
        self._artifacts = dict(artifacts or {})
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self) -> dict[str, str]:
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        return self._model_config

    def __repr__(self) -> str:
        return f"PythonModelContext(artifacts={self._artifacts!r})"


@dataclass(frozen=True)
class _TypeHints:
    # MLflow's loader reads `python_model.predict_type_hints.input/.output`; flightlog converts
    # no inputs by type hint, so both stay None (the input is passed as given).
    input: Any = None
    output: Any = None


class PythonModel:
    """Base class of a custom model: override `predict` (and `load_context` to read artifacts).

        class AddN(flightlog.pyfunc.PythonModel):
            def load_context(self, context):
                self.n = int(open(context.artifacts["n"]).read())
            def predict(self, context, model_input, params=None):
                return model_input.apply(lambda col: col + self.n)

    `predict(self, model_input, params=None)` without the context argument works too.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once when the model is loaded, before any predict()."""

    def predict(self, context: PythonModelContext, model_input: Any, params: dict | None = None):
        raise NotImplementedError(f"{type(self).__name__} must define predict()")

    def predict_stream(
        self, context: PythonModelContext, model_input: Any, params: dict | None = None
    ):
        raise NotImplementedError(f"{type(self).__name__} does not stream predictions")

    @property
    def predict_type_hints(self) -> _TypeHints:
        return _TypeHints()


class _FunctionPythonModel(PythonModel):
    """A plain function given as `python_model=`: predict(model_input) -> function(model_input)."""

    def __init__(self, func: Any):
        self.func = func

    def predict(self, model_input: Any, params: dict | None = None) -> Any:
        return self.func(model_input)


class _LoadedPythonModel:
    """A PythonModel after load_context, with its context (PyFuncModel's raw model)."""

    def __init__(self, python_model: Any, context: PythonModelContext):
        self.python_model = python_model
        self.context = context

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        method = self.python_model.predict
        parameters = inspect.signature(method).parameters
        kwargs = {"params": params} if "params" in parameters else {}
        # MLflow's rule: a `context` parameter, or two inputs besides params, gets the context.
        positional = [p for p in parameters if p not in ("self", "params")]
        if "context" in parameters or len(positional) == 2:
            return method(self.context, data, **kwargs)
        return method(data, **kwargs)


def as_python_model(python_model: Any) -> Any:
    if isinstance(python_model, (str, os.PathLike)):
        raise InvalidParameterError(
            "flightlog does not support models from code (python_model given as a file path); "
            "pass a PythonModel instance"
        )
    if isinstance(python_model, PythonModel) or hasattr(python_model, "predict"):
        return python_model
    if callable(python_model):
        return _FunctionPythonModel(python_model)
    raise InvalidParameterError(
        "python_model must be a flightlog.pyfunc.PythonModel (or mlflow.pyfunc.PythonModel) "
        f"instance or a function, got {type(python_model).__name__}"
    )


def _copy_artifacts(path: str, artifacts: dict[str, Any]) -> dict[str, dict[str, str]]:
    from flightlog.models.uri import _is_local, _local_folder

    if not isinstance(artifacts, dict):
        raise InvalidParameterError(
            f"artifacts must be a dict of name -> path or URI, got {type(artifacts).__name__}"
        )
    saved: dict[str, dict[str, str]] = {}
    root = os.path.join(path, ARTIFACTS_DIR)
    taken: set[str] = set()
    for name, uri in artifacts.items():
        uri = os.fspath(uri)
        source = _local_folder(uri) if _is_local(uri) else _download(uri)
        leaf = os.path.basename(os.path.normpath(source))
        rel = leaf if leaf not in taken else f"{name}/{leaf}"
        taken.add(rel)
        target = os.path.join(root, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(source):
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        saved[str(name)] = {"path": f"{ARTIFACTS_DIR}/{rel}", "uri": uri}
    return saved


def _download(uri: str) -> str:
    """A local copy of `uri` (runs:/..., models:/..., mlflow-artifacts:/..., http(s)://...)."""
    import tempfile

    from flightlog.models.uri import download_model

    try:
        return download_model(uri, tempfile.mkdtemp(prefix="flightlog-artifact-"))
    except ModelNotFoundError as exc:
        raise InvalidParameterError(f"Cannot copy the artifact {uri!r}: {exc}") from None


def _copy_code(path: str, code_paths: list[Any]) -> str:
    root = os.path.join(path, CODE_DIR)
    os.makedirs(root, exist_ok=True)
    for item in code_paths:
        source = os.path.abspath(os.fspath(item))
        if not os.path.exists(source):
            raise InvalidParameterError(f"code_paths entry {item!r} does not exist")
        target = os.path.join(root, os.path.basename(source.rstrip(os.sep)))
        if os.path.isdir(source):
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return CODE_DIR


class PythonModelFlavor(Flavor):
    """The python_function flavor of a custom PythonModel (see the module docstring)."""

    name = PYFUNC_FLAVOR
    loader_module = LOADER_MODULE
    packages = ("cloudpickle",)

    def save(
        self,
        model: Any,
        path: str,
        artifacts: dict[str, Any] | None = None,
        code_paths: list[Any] | None = None,
        model_config: dict[str, Any] | None = None,
        **unknown: Any,
    ) -> SavedFlavor:
        if unknown:
            raise InvalidParameterError(f"Unknown option(s) for a python model: {sorted(unknown)}")
        import cloudpickle

        python_model = as_python_model(model)
        try:
            with open(os.path.join(path, PICKLE_FILE), "wb") as f:
                cloudpickle.dump(python_model, f, protocol=pickle.DEFAULT_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - any pickling failure means the same thing
            raise InvalidParameterError(
                f"Could not serialize the python model {type(python_model).__name__}: {exc}"
            ) from exc
        # The whole python_function section: this flavor *is* python_function, so the generic
        # code adds no second one (SavedFlavor.pyfunc stays None).
        conf: dict[str, Any] = {
            "cloudpickle_version": cloudpickle.__version__,
            "code": _copy_code(path, list(code_paths)) if code_paths else None,
            "env": {"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE},
            "loader_module": LOADER_MODULE,
            "python_model": PICKLE_FILE,
            "python_version": platform.python_version(),
            "streamable": type(python_model).predict_stream is not PythonModel.predict_stream
            if isinstance(python_model, PythonModel)
            else False,
        }
        if artifacts:
            conf["artifacts"] = _copy_artifacts(path, artifacts)
        if model_config:
            conf["config"] = dict(model_config)  # MLflow's key for the model configuration
        _saving.set((path, conf))
        return SavedFlavor(conf=conf, pyfunc=None)

    def load(
        self, path: str, conf: dict[str, Any], model_config: dict[str, Any] | None = None
    ) -> _LoadedPythonModel:
        import cloudpickle

        code = conf.get("code")
        if code:
            code_root = os.path.join(path, code)
            if code_root not in sys.path:
                sys.path.insert(0, code_root)
        pickled = conf.get("python_model")
        if not pickled:
            raise ModelNotFoundError(
                f"The model at {path} has no python_model file named in its MLmodel"
            )
        with open(os.path.join(path, pickled), "rb") as f:
            python_model = cloudpickle.load(f)
        artifacts = {
            name: os.path.join(path, entry["path"] if isinstance(entry, dict) else entry)
            for name, entry in (conf.get("artifacts") or {}).items()
        }
        config = dict(conf.get("config") or conf.get("model_config") or {})
        config.update(model_config or {})
        context = PythonModelContext(artifacts, config)
        python_model.load_context(context)
        return _LoadedPythonModel(python_model, context)

    def predictor(self, model: Any, meta: Any) -> Predictor:
        if not isinstance(model, _LoadedPythonModel):
            # Save-time signature inference: predict as a reader would, from the saved folder.
            saving = _saving.get()
            if saving is None:
                model = _LoadedPythonModel(as_python_model(model), PythonModelContext())
                model.python_model.load_context(model.context)
            else:
                model = self.load(*saving)
        return model.predict


FLAVOR = PythonModelFlavor()


def is_python_model_conf(conf: dict[str, Any]) -> bool:
    """True for a python_function section written for a custom python model."""
    return bool(conf.get("python_model")) and conf.get("loader_module") == LOADER_MODULE
