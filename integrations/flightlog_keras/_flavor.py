"""The Keras 3 flavor: MLflow's `keras` MLmodel section, written and read by flightlog.

    data/model.keras          the model in Keras' own `.keras` format (architecture + weights)
    data/keras_module.txt     "keras" (MLflow reads it to pick the Keras package)
    flavors:
      keras: {data: data, keras_version: 3.x, keras_backend: torch, save_exported_model: false}
      python_function: {loader_module: mlflow.keras, ...}

`.keras` files are loaded with Keras' safe mode on: a file holding a Python lambda is refused
instead of running the code in it.
"""

from __future__ import annotations

import os
from typing import Any

from flightlog.exceptions import InvalidParameterError
from flightlog.models.flavor import Flavor, SavedFlavor

FLAVOR_NAME = "keras"
DATA_DIR = "data"
MODEL_FILE = "model.keras"
MODULE_SPEC_FILE = "keras_module.txt"
# The framework each Keras backend runs on, pinned in requirements.txt next to keras.
_BACKEND_PACKAGES = {"torch": "torch", "tensorflow": "tensorflow", "jax": "jax"}


class KerasFlavor(Flavor):
    name = FLAVOR_NAME
    loader_module = "mlflow.keras"
    packages = ("keras", "numpy")

    def save(
        self, model: Any, path: str, save_model_kwargs: dict[str, Any] | None = None, **unknown: Any
    ) -> SavedFlavor:
        import keras

        if unknown:
            raise InvalidParameterError(
                f"Unknown option(s) for the keras flavor: {sorted(unknown)}"
            )
        if not isinstance(model, keras.Model):
            raise InvalidParameterError(
                f"The keras flavor saves a keras.Model, got {type(model).__name__}"
            )
        data = os.path.join(path, DATA_DIR)
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, MODULE_SPEC_FILE), "w") as f:
            f.write("keras")
        model.save(os.path.join(data, MODEL_FILE), **(save_model_kwargs or {}))
        backend = keras.backend.backend()
        conf = {
            "data": DATA_DIR,
            "keras_version": keras.__version__,
            "keras_backend": backend,
            "save_exported_model": False,
        }
        extra = [_BACKEND_PACKAGES[backend]] if backend in _BACKEND_PACKAGES else []
        return SavedFlavor(conf=conf, pyfunc={}, packages=extra)

    def load(self, path: str, conf: dict[str, Any]) -> Any:
        import keras

        if conf.get("save_exported_model"):
            raise InvalidParameterError(
                "This Keras model was saved as a TensorFlow SavedModel export "
                "(save_exported_model=true); load it with mlflow.keras and tensorflow"
            )
        target = os.path.join(path, conf.get("data", DATA_DIR))
        if os.path.isdir(target):
            target = os.path.join(target, "model")
        return keras.saving.load_model(target + ".keras", safe_mode=True)

    def predictor(self, model: Any, meta: Any):
        import keras

        def predict(data: Any, params: dict[str, Any] | None = None) -> Any:
            if hasattr(data, "iloc") and hasattr(data, "columns"):  # a pandas DataFrame
                import pandas as pd

                return pd.DataFrame(
                    keras.ops.convert_to_numpy(model.predict(data.values, verbose=0)),
                    index=data.index,
                )
            return keras.ops.convert_to_numpy(model.predict(data, verbose=0))

        return predict


FLAVOR = KerasFlavor()
