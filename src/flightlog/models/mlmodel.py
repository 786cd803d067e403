"""The `MLmodel` file: a model folder's YAML description (MLflow's format, key for key).

    artifact_path: model              # where it sits under the run's artifacts (when logged)
    flavors:
      python_function: {loader_module: mlflow.sklearn, model_path: model.pkl, env: {...}, ...}
      sklearn: {pickled_model: model.pkl, serialization_format: cloudpickle, sklearn_version: ...}
    model_uuid: 3f1c...
    run_id: 9a0b...
    saved_input_example_info: {artifact_path: input_example.json, type: dataframe, ...}
    signature: {inputs: '<json>', outputs: '<json>', params: null}
    utc_time_created: '2024-05-01 12:00:00.000000'

Keys this module does not know are kept and written back unchanged, so a model MLflow wrote
(with `model_id`, `prompts`, `resources`, ...) survives a load/save round trip.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

from flightlog.exceptions import ModelNotFoundError
from flightlog.models.signature import ModelSignature

MLMODEL_FILE = "MLmodel"
PYFUNC_FLAVOR = "python_function"

_KNOWN_KEYS = (
    "artifact_path",
    "run_id",
    "utc_time_created",
    "flavors",
    "signature",
    "saved_input_example_info",
    "model_uuid",
    "mlflow_version",
    "metadata",
    "model_size_bytes",
    "model_id",
)


def _utc_now() -> str:
    # MLflow writes a naive UTC datetime's str(): '2024-05-01 12:00:00.123456'.
    return str(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))


class Model:
    """The contents of an MLmodel file."""

    def __init__(
        self,
        artifact_path: str | None = None,
        run_id: str | None = None,
        utc_time_created: str | None = None,
        flavors: dict[str, dict[str, Any]] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        model_uuid: str | None = None,
        mlflow_version: str | None = None,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        model_id: str | None = None,
        **extra: Any,
    ):
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.utc_time_created = utc_time_created or _utc_now()
        self.flavors: dict[str, dict[str, Any]] = dict(flavors or {})
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid or uuid.uuid4().hex
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.model_id = model_id
        self.extra = extra

    # --- flavors -------------------------------------------------------------------------
    def add_flavor(self, name: str, **conf: Any) -> Model:
        self.flavors[name] = conf
        return self

    def flavor_conf(self, name: str) -> dict[str, Any]:
        try:
            return self.flavors[name]
        except KeyError:
            raise ModelNotFoundError(
                f"The model has no {name!r} flavor; it has {sorted(self.flavors)}"
            ) from None

    # --- schema helpers (MLflow's names) ---------------------------------------------------
    def get_input_schema(self):
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self):
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self):
        return self.signature.params if self.signature is not None else None

    def load_input_example(self, path: str) -> Any:
        """The saved input example (DataFrame, array, dict, ...), or None; `path` is the model folder."""
        from flightlog.models.input_example import load_input_example

        return load_input_example(path, self.saved_input_example_info, self.get_input_schema())

    # --- (de)serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.artifact_path is not None:
            d["artifact_path"] = self.artifact_path
        d["flavors"] = self.flavors
        if self.model_id is not None:
            d["model_id"] = self.model_id
        if self.model_size_bytes is not None:
            d["model_size_bytes"] = self.model_size_bytes
        d["model_uuid"] = self.model_uuid
        if self.mlflow_version is not None:
            d["mlflow_version"] = self.mlflow_version
        if self.metadata is not None:
            d["metadata"] = self.metadata
        if self.run_id is not None:
            d["run_id"] = self.run_id
        if self.saved_input_example_info is not None:
            d["saved_input_example_info"] = self.saved_input_example_info
        if self.signature is not None:
            d["signature"] = self.signature.to_dict()
        d["utc_time_created"] = self.utc_time_created
        d.update(self.extra)
        return d

    def to_yaml(self) -> str:
        import yaml

        # The C dumper (when PyYAML has it) is ~10x faster; the output is the same YAML.
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(self.to_dict(), Dumper=dumper, default_flow_style=False)

    def save(self, path: str) -> None:
        """Write the MLmodel file (`path` is the file, or the model folder)."""
        if os.path.isdir(path):
            path = os.path.join(path, MLMODEL_FILE)
        with open(path, "w") as f:
            f.write(self.to_yaml())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Model:
        d = dict(d)
        sig = d.pop("signature", None)
        # MLflow writes these two beside the signature; they describe it, not the model.
        d.pop("is_signature_from_type_hint", None)
        d.pop("type_hint_from_example", None)
        known = {k: d.pop(k) for k in _KNOWN_KEYS if k in d}
        if isinstance(sig, dict):
            known["signature"] = ModelSignature.from_dict(sig)
        return cls(**known, **d)

    @classmethod
    def load(cls, path: str) -> Model:
        """Read an MLmodel file (`path` is the file, or the model folder holding it)."""
        import yaml

        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, MLMODEL_FILE)
        elif os.path.isfile(path) and os.path.basename(path) != MLMODEL_FILE:
            raise ModelNotFoundError(
                f"No {MLMODEL_FILE} file: {path} is a file, not a saved model's folder"
            )
        if not os.path.isfile(path):
            raise ModelNotFoundError(
                f"No {MLMODEL_FILE} file at {path}: this folder does not hold a saved model"
            )
        with open(path) as f:
            data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if not isinstance(data, dict):
            raise ModelNotFoundError(f"{path} is not a valid {MLMODEL_FILE} file (not a mapping)")
        return cls.from_dict(data)

    def __repr__(self) -> str:
        return f"Model(flavors={sorted(self.flavors)}, run_id={self.run_id!r}, artifact_path={self.artifact_path!r})"


class ModelInfo:
    """What log_model returns: where the model went and what it is (MLflow's attribute names)."""

    def __init__(self, model: Model, model_uri: str, registered_model_version: str | None = None):
        self._model = model
        self.model_uri = model_uri
        self.registered_model_version = registered_model_version

    @property
    def artifact_path(self) -> str | None:
        return self._model.artifact_path

    @property
    def name(self) -> str | None:
        return self._model.artifact_path

    @property
    def flavors(self) -> dict[str, dict[str, Any]]:
        return self._model.flavors

    @property
    def model_uuid(self) -> str:
        return self._model.model_uuid

    @property
    def run_id(self) -> str | None:
        return self._model.run_id

    @property
    def model_id(self) -> str | None:
        return self._model.model_id

    @property
    def saved_input_example_info(self) -> dict[str, Any] | None:
        return self._model.saved_input_example_info

    @property
    def signature(self) -> ModelSignature | None:
        return self._model.signature

    @property
    def signature_dict(self) -> dict[str, Any] | None:
        return self._model.signature.to_dict() if self._model.signature else None

    @property
    def utc_time_created(self) -> str:
        return self._model.utc_time_created

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self._model.metadata

    @property
    def mlflow_version(self) -> str | None:
        return self._model.mlflow_version

    def __repr__(self) -> str:
        return f"ModelInfo(model_uri={self.model_uri!r}, flavors={sorted(self.flavors)})"
