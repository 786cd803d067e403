"""The XGBoost flavor: MLflow's `xgboost` MLmodel section, written and read by flightlog.

    flavors:
      xgboost: {data: model.ubj, model_class: xgboost.core.Booster, model_format: ubj,
                xgb_version: 3.2.0, code: null}
      python_function: {loader_module: mlflow.xgboost, data: model.ubj, ...}

The model file is XGBoost's own format ("ubj", UBJSON, the default; or "json"), never a pickle:
loading it runs no code from the file. `model_class` says what to rebuild: a Booster, or the
scikit-learn wrapper (XGBClassifier, ...) it was trained as.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from flightlog.exceptions import InvalidParameterError
from flightlog.models.flavor import Flavor, SavedFlavor

FLAVOR_NAME = "xgboost"
MODEL_FORMATS = ("ubj", "json")


def _class_name(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


class XGBoostFlavor(Flavor):
    name = FLAVOR_NAME
    loader_module = "mlflow.xgboost"
    packages = ("xgboost", "numpy", "scipy")

    def save(self, model: Any, path: str, model_format: str = "ubj", **unknown: Any) -> SavedFlavor:
        import xgboost

        if unknown:
            raise InvalidParameterError(
                f"Unknown option(s) for the xgboost flavor: {sorted(unknown)}"
            )
        if model_format not in MODEL_FORMATS:
            raise InvalidParameterError(
                f"model_format must be one of {list(MODEL_FORMATS)}, got {model_format!r}"
            )
        if not isinstance(model, xgboost.Booster | xgboost.XGBModel):
            raise InvalidParameterError(
                "The xgboost flavor saves an xgboost.Booster or an xgboost scikit-learn model "
                f"(XGBClassifier, ...), got {type(model).__name__}"
            )
        file_name = f"model.{model_format}"
        model.save_model(os.path.join(path, file_name))
        conf = {
            "xgb_version": xgboost.__version__,
            "data": file_name,
            "model_class": _class_name(model),
            "model_format": model_format,
            "code": None,
        }
        return SavedFlavor(conf=conf, pyfunc={"data": file_name})

    def load(self, path: str, conf: dict[str, Any]) -> Any:
        model = _model_class(conf.get("model_class", "xgboost.core.Booster"))()
        model.load_model(os.path.join(path, conf.get("data", "model.xgb")))
        return model

    def predictor(self, model: Any, meta: Any):
        import xgboost

        if isinstance(model, xgboost.Booster):

            def predict_booster(data: Any, params: dict[str, Any] | None = None) -> Any:
                return model.predict(xgboost.DMatrix(data), **(params or {}))

            return predict_booster

        def predict_estimator(data: Any, params: dict[str, Any] | None = None) -> Any:
            return model.predict(data, **(params or {}))

        return predict_estimator


def _model_class(qualified: str) -> type:
    """The class named in MLmodel, restricted to XGBoost's model classes: an MLmodel file must
    not be able to make load_model instantiate an arbitrary class."""
    import xgboost

    module_name, _, class_name = qualified.rpartition(".")
    if not module_name.split(".", 1)[0] == "xgboost":
        raise InvalidParameterError(f"model_class {qualified!r} in MLmodel is not an XGBoost class")
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, xgboost.Booster | xgboost.XGBModel)):
        raise InvalidParameterError(
            f"model_class {qualified!r} in MLmodel is not an XGBoost Booster or model class"
        )
    return cls


FLAVOR = XGBoostFlavor()
