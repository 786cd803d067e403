"""Model signatures: what a model takes and returns, inferred from example data.

`infer_signature(model_input, model_output)` reads pandas DataFrames/Series, numpy arrays, torch
tensors, scipy sparse matrices, dicts of arrays, lists and scalars, and describes them the way
MLflow does (same JSON), so a signature written by either tool reads in the other.

Nothing heavy is imported here: numpy and pandas are imported only when the data is of their
kind, and a torch tensor is recognised by its type's module name, so torch is never imported.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from flightlog.exceptions import InvalidParameterError
from flightlog.models.schema import ColSpec, DataType, ParamSchema, Schema, TensorSpec


class ModelSignature:
    """Input schema, optional output schema, optional inference-params schema."""

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ):
        for label, value, kind in (
            ("inputs", inputs, Schema),
            ("outputs", outputs, Schema),
            ("params", params, ParamSchema),
        ):
            if value is not None and not isinstance(value, kind):
                raise InvalidParameterError(
                    f"ModelSignature {label} must be a {kind.__name__} or None, "
                    f"got {type(value).__name__}"
                )
        self.inputs = inputs
        self.outputs = outputs
        self.params = params

    def to_dict(self) -> dict[str, str | None]:
        """MLflow's MLmodel form: each part a JSON string (or None)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSignature:
        def part(key: str, parse):
            raw = d.get(key)
            if raw is None:
                return None
            return parse(raw if isinstance(raw, str) else json.dumps(raw))

        return cls(
            part("inputs", Schema.from_json),
            part("outputs", Schema.from_json),
            part("params", ParamSchema.from_json),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (
            "inputs:\n  "
            + repr(self.inputs)
            + "\noutputs:\n  "
            + repr(self.outputs)
            + "\nparams:\n  "
            + repr(self.params)
        )


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """Describe example input (and output, and inference params) as a ModelSignature.

    Raises InvalidParameterError naming the value whose type cannot be described.
    """
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = infer_schema(model_output) if model_output is not None else None
    param_schema = infer_param_schema(params) if params else None
    return ModelSignature(inputs, outputs, param_schema)


def infer_param_schema(params: dict[str, Any]) -> ParamSchema:
    from flightlog.models.schema import ParamSpec

    specs = []
    for name, value in params.items():
        kind = _scalar_type(value)
        if kind is None:
            raise InvalidParameterError(
                f"Inference param {name!r} has a value of type {type(value).__name__}; "
                "params must be scalars (bool, int, float, str, bytes, datetime)"
            )
        specs.append(ParamSpec(name, kind, value))
    return ParamSchema(specs)


# --- schema inference ------------------------------------------------------------------------
def type_module(value: Any) -> str:
    """The top-level package a value's type comes from ('numpy', 'pandas', 'torch', ...)."""
    return type(value).__module__.split(".", 1)[0]


def is_torch_tensor(value: Any) -> bool:
    return type_module(value) == "torch" and hasattr(value, "dtype") and hasattr(value, "shape")


def _is_scipy_sparse(value: Any) -> bool:
    return type(value).__module__.startswith("scipy.sparse")


def infer_schema(data: Any) -> Schema:
    """The Schema describing `data` (see the module docstring for what is understood)."""
    module = type_module(data)
    if module == "pandas":
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return _frame_schema(data)
        if isinstance(data, pd.Series):
            return Schema([_series_colspec(data, data.name)])
    if module == "numpy":
        import numpy as np

        if isinstance(data, np.ndarray):
            return Schema([_tensor_spec(data.dtype, data.shape)])
        if isinstance(data, np.generic):
            return Schema([ColSpec(_numpy_type(data.dtype, "value"))])
    if is_torch_tensor(data):
        return Schema([_tensor_spec(torch_dtype_name(data.dtype), tuple(data.shape))])
    if _is_scipy_sparse(data):
        return Schema([_tensor_spec(data.dtype, data.shape)])
    if isinstance(data, dict):
        return _dict_schema(data)
    if isinstance(data, (list, tuple)):
        return _list_schema(list(data))
    kind = _scalar_type(data)
    if kind is not None:
        return Schema([ColSpec(kind)])
    raise InvalidParameterError(
        f"Cannot infer a schema from a {type(data).__module__}.{type(data).__name__}; use a "
        "pandas DataFrame/Series, numpy array, torch tensor, dict of arrays, list or scalar"
    )


def torch_dtype_name(dtype: Any) -> str:
    """torch.float32 -> 'float32'. numpy has no bfloat16, and MLflow's tensor specs need a numpy
    dtype, so bfloat16 is described as float32 (what it is converted to for numpy)."""
    name = str(dtype).replace("torch.", "")
    return {"bfloat16": "float32", "bool": "bool", "half": "float16"}.get(name, name)


def _tensor_spec(dtype: Any, shape: tuple[int, ...], name: str | None = None) -> TensorSpec:
    # The first dimension is the batch: any size at predict time.
    dims = [-1, *[int(d) for d in shape[1:]]] if len(shape) else []
    return TensorSpec(dtype, dims, name)


def _frame_schema(frame: Any) -> Schema:
    if frame.shape[1] == 0:
        raise InvalidParameterError("Cannot infer a schema from a DataFrame with no columns")
    names = [str(c) for c in frame.columns]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise InvalidParameterError(f"DataFrame has duplicate column names: {sorted(duplicates)}")
    return Schema([_series_colspec(frame[col], str(col)) for col in frame.columns])


def _series_colspec(series: Any, name: Any) -> ColSpec:
    label = "the series" if name is None else f"column {name!r}"
    required = not bool(series.isna().any()) if len(series) else True
    dtype = series.dtype
    kind = getattr(dtype, "kind", None)
    type_name = str(dtype)
    if type_name == "category":
        cat_type = _numpy_or_ext_type(dtype.categories.dtype, series.dropna().tolist(), label)
        return _colspec(cat_type, name, required)
    if type_name in ("string", "str") or type_name.startswith("string["):
        return ColSpec(DataType.string, _name(name), required=required)
    if type_name == "boolean":
        return ColSpec(DataType.boolean, _name(name), required=required)
    if kind == "O":
        values = series.dropna().tolist()
        return _colspec(_object_values_type(values, label), name, required)
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)  # nullable Int64/Float64 -> int64/float64
    return ColSpec(_numpy_type(numpy_dtype, label), _name(name), required=required)


def _name(name: Any) -> str | None:
    return None if name is None else str(name)


def _colspec(kind: DataType | dict[str, Any], name: Any, required: bool) -> ColSpec:
    if isinstance(kind, DataType):
        return ColSpec(kind, _name(name), required=required)
    rest = {k: v for k, v in kind.items() if k != "type"}
    return ColSpec(kind["type"], _name(name), required=required, type_spec=rest)


def _numpy_or_ext_type(dtype: Any, values: list[Any], label: str) -> DataType | dict[str, Any]:
    if getattr(dtype, "kind", None) == "O" or str(dtype) in ("str", "string"):
        return _object_values_type(values, label)
    return _numpy_type(dtype, label)


def _numpy_type(dtype: Any, label: str) -> DataType:
    """numpy dtype -> column type (MLflow's mapping: small ints are 'integer', int64 'long')."""
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return DataType.boolean
    if kind == "i":
        return DataType.integer if size <= 4 else DataType.long
    if kind == "u":
        # uint32 needs 64 bits signed; uint64 may overflow int64 but is nearly always small ids.
        return DataType.integer if size <= 2 else DataType.long
    if kind == "f":
        if size <= 4:
            return DataType.float
        if size == 8:
            return DataType.double
    if kind == "U":
        return DataType.string
    if kind == "S":
        return DataType.binary
    if kind == "M":
        return DataType.datetime
    raise InvalidParameterError(f"Cannot describe {label} of dtype {dtype} as a column type")


def _scalar_type(value: Any) -> DataType | None:
    """The column type of one Python or numpy scalar, None if it is not a scalar."""
    if isinstance(value, bool):
        return DataType.boolean
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, (bytes, bytearray)):
        return DataType.binary
    if isinstance(value, (_dt.datetime, _dt.date)):
        return DataType.datetime
    if type_module(value) == "numpy" and hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0:
        try:
            return _numpy_type(value.dtype, "value")
        except InvalidParameterError:
            return None
    if type_module(value) == "pandas" and type(value).__name__ == "Timestamp":
        return DataType.datetime
    return None


def _value_type(value: Any, label: str) -> DataType | dict[str, Any]:
    """A scalar type, or MLflow's JSON for arrays ({"type": "array", "items": ...}) and
    objects ({"type": "object", "properties": ...})."""
    kind = _scalar_type(value)
    if kind is not None:
        return kind
    if type_module(value) == "numpy" and hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return {"type": "array", "items": _type_json(_object_values_type(list(value), label))}
    if isinstance(value, dict):
        props = {}
        for key, item in value.items():
            item_type = _type_json(_value_type(item, f"{label}[{key!r}]"))
            item_type["required"] = item is not None
            props[str(key)] = item_type
        return {"type": "object", "properties": props}
    raise InvalidParameterError(
        f"Cannot describe {label}: values of type {type(value).__name__} have no column type"
    )


def _type_json(kind: DataType | dict[str, Any]) -> dict[str, Any]:
    return {"type": kind.value} if isinstance(kind, DataType) else dict(kind)


def _object_values_type(values: list[Any], label: str) -> DataType | dict[str, Any]:
    """One type for all non-missing values; mixed types are MLflow's 'any'."""
    kinds = []
    for value in values:
        if value is None:
            continue
        kind = _value_type(value, label)
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise InvalidParameterError(f"Cannot infer the type of {label}: every value is missing")
    if len(kinds) == 1:
        return kinds[0]
    if all(isinstance(k, DataType) for k in kinds) and set(kinds) <= {
        DataType.long,
        DataType.double,
    }:
        return DataType.double  # ints and floats mixed in one column
    return {"type": "any"}


def _dict_schema(data: dict[Any, Any]) -> Schema:
    if not data:
        raise InvalidParameterError("Cannot infer a schema from an empty dict")
    values = list(data.values())
    if all(_is_array_like(v) for v in values):
        specs = []
        for key, value in data.items():
            if is_torch_tensor(value):
                specs.append(_tensor_spec(torch_dtype_name(value.dtype), tuple(value.shape), key))
            else:
                specs.append(_tensor_spec(value.dtype, value.shape, str(key)))
        return Schema(specs)
    # A dict of plain values is one row: each key a column (lists become array columns).
    return Schema(
        [_colspec(_value_type(v, f"key {k!r}"), k, v is not None) for k, v in data.items()]
    )


def _is_array_like(value: Any) -> bool:
    if is_torch_tensor(value):
        return True
    if type_module(value) == "numpy":
        import numpy as np

        return isinstance(value, np.ndarray)
    return False


def _list_schema(data: list[Any]) -> Schema:
    if not data:
        raise InvalidParameterError("Cannot infer a schema from an empty list")
    if all(isinstance(row, dict) for row in data):
        columns: dict[str, list[Any]] = {}
        for row in data:
            for key, value in row.items():
                columns.setdefault(str(key), []).append(value)
        specs = []
        for key, values in columns.items():
            required = len(values) == len(data) and all(v is not None for v in values)
            specs.append(_colspec(_object_values_type(values, f"key {key!r}"), key, required))
        return Schema(specs)
    kind = _object_values_type(data, "the list")
    return Schema([_colspec(kind, None, all(v is not None for v in data))])


def infer_output_schema(model_input_schema: Schema, prediction: Any) -> Schema:
    """Output schema for a prediction on column-based input: a 1-D array there is one value per
    row, so it is described as a column (MLflow's rule), not as a tensor."""
    if (
        not model_input_schema.is_tensor_spec()
        and type_module(prediction) == "numpy"
        and getattr(prediction, "ndim", 0) == 1
    ):
        import pandas as pd

        return infer_schema(pd.Series(prediction))
    return infer_schema(prediction)
