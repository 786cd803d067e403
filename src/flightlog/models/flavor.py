"""The flavor interface: how one framework's models are saved, loaded and called.

A flavor is a small object (one per framework) that flightlog's generic code drives:

    class MyFlavor(Flavor):
        name = "xgboost"                 # the key under `flavors:` in MLmodel (use MLflow's name)
        loader_module = "mlflow.xgboost" # MLflow's python_function loader for this flavor, so
                                         # mlflow.pyfunc.load_model() can load what flightlog wrote
        packages = ("xgboost", "numpy")  # distributions pinned in requirements.txt

        def save(self, model, path, **options) -> SavedFlavor:
            model.save_model(os.path.join(path, "model.xgb"))
            return SavedFlavor(
                conf={"data": "model.xgb", "xgb_version": xgboost.__version__},
                pyfunc={"data": "model.xgb"},
            )

        def load(self, path, conf):
            booster = xgboost.Booster(); booster.load_model(os.path.join(path, conf["data"]))
            return booster

        def predictor(self, model, meta):          # optional; default calls model.predict(data)
            return lambda data, params=None: model.predict(xgboost.DMatrix(data))

    FLAVOR = MyFlavor()

and its public module is three lines:

    def log_model(model, name="model", **kw): return log_flavor_model(FLAVOR, model, name, **kw)
    def save_model(model, path, **kw): return save_flavor_model(FLAVOR, model, path, **kw)
    def load_model(model_uri, dst_path=None): return load_flavor_model(FLAVOR, model_uri, dst_path)

The generic code writes MLmodel, the signature (inferred from the input example and the
flavor's `predictor` when not given), the input example and the environment files.

Loading by URI finds a flavor by the MLmodel's flavor names, in this order: flavors registered in
this process with `register_flavor`, the built-in ones, then entry points in the group
`flightlog.flavors` (name = the flavor's `name`, value = "module:FLAVOR_OBJECT"). An integration
package should declare its entry point so `flightlog.models.load_model` works in a fresh process.
"""

from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flightlog.models.mlmodel import Model

ENTRY_POINT_GROUP = "flightlog.flavors"

Predictor = Callable[..., Any]


@dataclass
class SavedFlavor:
    """What `Flavor.save` wrote: the flavor's MLmodel section, the python_function section's
    keys (None: the model cannot predict, no python_function flavor is written), and extra
    distributions to pin beyond `Flavor.packages`."""

    conf: dict[str, Any]
    pyfunc: dict[str, Any] | None = None
    packages: list[str] = field(default_factory=list)


class Flavor(ABC):
    """One framework's save/load/predict. See the module docstring for a complete example."""

    #: MLmodel flavor key, MLflow's name for the framework ("sklearn", "pytorch", "xgboost").
    name: str = ""
    #: The module MLflow imports to load this flavor as a python function ("mlflow.sklearn").
    loader_module: str | None = None
    #: Distributions pinned (at their installed versions) in requirements.txt.
    packages: tuple[str, ...] = ()

    @abstractmethod
    def save(self, model: Any, path: str, **options: Any) -> SavedFlavor:
        """Write the model's files into the folder `path` (it exists and is empty)."""

    @abstractmethod
    def load(self, path: str, conf: dict[str, Any]) -> Any:
        """The native model saved in folder `path`; `conf` is this flavor's MLmodel section."""

    def predictor(self, model: Any, meta: Model) -> Predictor:
        """The python-function predict: a callable `(data, params=None) -> prediction` for the
        native `model`. `meta` is the whole MLmodel (e.g. meta.flavors["python_function"])."""

        def predict(data: Any, params: dict[str, Any] | None = None) -> Any:
            return model.predict(data)

        return predict

    def __repr__(self) -> str:
        return f"<flavor {self.name}>"


# --- finding flavors ---------------------------------------------------------------------------
_BUILTIN = {"sklearn": "flightlog.models.sklearn_flavor:FLAVOR"}
_registered: dict[str, Flavor] = {}
_lock = threading.Lock()
_entry_points: dict[str, Any] | None = None


def register_flavor(flavor: Flavor) -> None:
    """Make `flavor` available to load_model in this process (overrides built-ins and plugins)."""
    if not flavor.name:
        raise ValueError(f"{type(flavor).__name__} has no name")
    with _lock:
        _registered[flavor.name] = flavor


def _load_target(target: str) -> Flavor:
    module_name, _, attr = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj() if isinstance(obj, type) else obj  # type: ignore[return-value]


def _plugin_targets() -> dict[str, Any]:
    global _entry_points
    if _entry_points is None:
        from importlib.metadata import entry_points

        _entry_points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return _entry_points


def find_flavor(name: str) -> Flavor | None:
    """The flavor implementation named `name`, or None when none is installed."""
    flavor = _registered.get(name)
    if flavor is not None:
        return flavor
    target = _BUILTIN.get(name)
    if target is None:
        ep = _plugin_targets().get(name)
        if ep is None:
            return None
        target = ep.value
    try:
        flavor = _load_target(target)
    except ImportError:
        return None  # the framework itself is not installed
    with _lock:
        _registered.setdefault(name, flavor)
    return _registered[name]
