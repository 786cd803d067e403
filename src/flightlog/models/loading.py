"""Loading saved models: as a PyFuncModel (any flavor) or as the framework's own object.

`load_model(uri)` picks the implementation from the MLmodel file: a flightlog flavor named in
`flavors:` (the one matching `python_function.loader_module` first), else, for flavors flightlog
has no implementation of, MLflow's own loader module when mlflow is installed (MLflow's contract:
`<loader_module>._load_pyfunc(data_path)`).

Loading a model deserializes it; pickle-based formats run code from the file. Load models only
from stores and servers you trust.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from flightlog.exceptions import UnsupportedFlavorError
from flightlog.models.flavor import Flavor, find_flavor
from flightlog.models.mlmodel import PYFUNC_FLAVOR, Model
from flightlog.models.pyfunc_model import PyFuncModel
from flightlog.models.uri import download_model


def load_model(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: dict[str, Any] | None = None,
    *,
    tracking_uri: str | None = None,
) -> PyFuncModel:
    """The model at `model_uri` behind `predict(data, params=None)`, with signature checks.

    Arguments are MLflow's (`suppress_warnings` is accepted for compatibility; `model_config`
    reaches custom python models through `context.model_config`)."""
    path = download_model(model_uri, dst_path, tracking_uri)
    return load_pyfunc_from_folder(path, model_config)


def load_pyfunc_from_folder(path: str, model_config: dict[str, Any] | None = None) -> PyFuncModel:
    meta = Model.load(path)
    pyfunc_conf = meta.flavors.get(PYFUNC_FLAVOR, {})
    from flightlog.models import python_model

    if python_model.is_python_model_conf(pyfunc_conf):
        # A custom PythonModel (MLflow's or flightlog's): flightlog's own loader, no mlflow needed.
        raw = python_model.FLAVOR.load(path, pyfunc_conf, model_config)
        return PyFuncModel(meta, raw.predict, raw, PYFUNC_FLAVOR, path)
    flavor = _pyfunc_flavor(meta)
    if flavor is not None:
        raw = flavor.load(path, meta.flavors[flavor.name])
        return PyFuncModel(meta, flavor.predictor(raw, meta), raw, flavor.name, path)
    return _load_with_mlflow_loader(meta, path)


def _pyfunc_flavor(meta: Model) -> Flavor | None:
    pyfunc = meta.flavors.get(PYFUNC_FLAVOR, {})
    loader = pyfunc.get("loader_module")
    candidates = [name for name in meta.flavors if name != PYFUNC_FLAVOR]
    # The flavor MLflow would use comes first (a model may carry several flavors).
    candidates.sort(key=lambda name: loader != f"mlflow.{name}")
    for name in candidates:
        flavor = find_flavor(name)
        if flavor is not None:
            return flavor
    return None


def _load_with_mlflow_loader(meta: Model, path: str) -> PyFuncModel:
    pyfunc = meta.flavors.get(PYFUNC_FLAVOR)
    flavors = sorted(meta.flavors)
    if not pyfunc or not pyfunc.get("loader_module"):
        raise UnsupportedFlavorError(
            f"The model at {path} has flavors {flavors} and no python_function flavor; flightlog "
            "has no loader for them. Install the flightlog integration for its framework"
        )
    loader = pyfunc["loader_module"]
    try:
        module = importlib.import_module(loader)
    except ImportError:
        raise UnsupportedFlavorError(
            f"The model at {path} (flavors {flavors}) needs the loader {loader!r}, and flightlog "
            "has no implementation of any of its flavors. Install the flightlog integration for "
            "its framework, or mlflow"
        ) from None
    data = pyfunc.get("model_path") or pyfunc.get("data")
    impl = module._load_pyfunc(os.path.join(path, data) if data else path)

    def predict(data: Any, params: dict[str, Any] | None = None) -> Any:
        if params is None:
            return impl.predict(data)
        return impl.predict(data, params=params)

    raw = impl.get_raw_model() if hasattr(impl, "get_raw_model") else impl
    return PyFuncModel(meta, predict, raw, loader, path)


def load_flavor_model(
    flavor: Flavor, model_uri: str, dst_path: str | None = None, tracking_uri: str | None = None
) -> Any:
    """The framework's own model object saved at `model_uri` (for `flightlog.<flavor>.load_model`)."""
    path = download_model(model_uri, dst_path, tracking_uri)
    meta = Model.load(path)
    if flavor.name not in meta.flavors:
        raise UnsupportedFlavorError(
            f"The model at {model_uri!r} has no {flavor.name!r} flavor (it has "
            f"{sorted(meta.flavors)}); load it with flightlog.pyfunc.load_model instead"
        )
    return flavor.load(path, meta.flavors[flavor.name])


def get_model_info(model_uri: str) -> Any:
    """The ModelInfo (flavors, signature, run id, ...) of the model at `model_uri`."""
    from flightlog.models.mlmodel import ModelInfo

    meta = Model.load(download_model(model_uri))
    return ModelInfo(meta, model_uri)
