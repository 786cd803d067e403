"""PyFuncModel: any saved model behind one `predict(data, params=None)` (MLflow's pyfunc).

predict() first checks the input against the model's signature (see enforcement.py), so a
missing column or a wrong dtype fails with a message naming it instead of deep inside the model.
"""

from __future__ import annotations

from typing import Any

from flightlog.models.flavor import Predictor
from flightlog.models.mlmodel import PYFUNC_FLAVOR, Model


class PyFuncModel:
    def __init__(
        self,
        model_meta: Model,
        predict_fn: Predictor,
        raw_model: Any = None,
        flavor_name: str | None = None,
        local_path: str | None = None,
    ):
        self._meta = model_meta
        self._predict_fn = predict_fn
        self._raw_model = raw_model
        self._flavor_name = flavor_name
        self.local_path = local_path

    @property
    def metadata(self) -> Model:
        """The model's MLmodel description (flavors, signature, run_id, ...)."""
        return self._meta

    @property
    def loader_module(self) -> str | None:
        return self._meta.flavors.get(PYFUNC_FLAVOR, {}).get("loader_module")

    @property
    def model_config(self) -> dict[str, Any]:
        conf = self._meta.flavors.get(PYFUNC_FLAVOR, {})
        return dict(conf.get("config") or conf.get("model_config") or {})  # MLflow: "config"

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """The model's prediction for `data`, after checking it against the signature."""
        from flightlog.models.enforcement import enforce_input, enforce_params

        schema = self._meta.get_input_schema()
        if schema is not None:
            data = enforce_input(data, schema)
        params = enforce_params(params, self._meta.get_params_schema())
        return self._predict_fn(data, params)

    def get_raw_model(self) -> Any:
        """The framework's own model object (e.g. the scikit-learn estimator)."""
        return self._raw_model

    def unwrap_python_model(self) -> Any:
        python_model = getattr(self._raw_model, "python_model", None)
        if python_model is None:
            from flightlog.exceptions import InvalidParameterError

            raise InvalidParameterError(
                "unwrap_python_model() is for custom python models; use get_raw_model() for "
                f"a {self._flavor_name or 'framework'} model"
            )
        return python_model

    def __repr__(self) -> str:
        lines = ["flightlog.pyfunc.loaded_model:"]
        if self._meta.artifact_path:
            lines.append(f"  artifact_path: {self._meta.artifact_path}")
        lines.append(f"  flavor: {self.loader_module or self._flavor_name}")
        if self._meta.run_id:
            lines.append(f"  run_id: {self._meta.run_id}")
        return "\n".join(lines) + "\n"
