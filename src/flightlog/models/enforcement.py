"""Checking predict() input against a model's signature, before the model sees it.

Mismatches raise SignatureMismatchError naming the column or tensor and what was expected:
a missing column, a type that cannot be converted without losing information, a tensor whose
shape differs (-1 in the signature matches any size). Safe conversions are made, so the model
gets the types it was trained on: int -> float/double, int32 -> int64, float32 -> double,
strings -> datetime. Downcasts (float64 -> float32) and float -> int are refused, as MLflow does.

Columns the signature does not name are dropped; a 2-D array or list of rows given to a model with
named columns is read positionally when the width matches.
"""

from __future__ import annotations

import logging
from typing import Any

from flightlog.exceptions import SignatureMismatchError
from flightlog.models.schema import ColSpec, DataType, ParamSchema, Schema, TensorSpec
from flightlog.models.signature import _scalar_type, is_torch_tensor, torch_dtype_name, type_module

_log = logging.getLogger(__name__)


def enforce_input(data: Any, schema: Schema) -> Any:
    """`data` checked against `schema` and converted where safe; raises SignatureMismatchError."""
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    return _enforce_columns(data, schema)


def enforce_params(
    params: dict[str, Any] | None, schema: ParamSchema | None
) -> dict[str, Any] | None:
    """Params merged over the schema's defaults. Unknown params are ignored with a warning, as
    MLflow does; a value of the wrong type is an error."""
    if schema is None:
        if params:
            _log.warning("The model takes no inference params; ignoring %s", sorted(params))
        return None
    merged = schema.defaults()
    known = {p.name: p for p in schema.params}
    for key, value in (params or {}).items():
        spec = known.get(key)
        if spec is None:
            _log.warning(
                "Ignoring unknown inference param %r (the model takes %s)", key, sorted(known)
            )
            continue
        kind = _scalar_type(value)
        widened = kind == DataType.long and spec.dtype in (DataType.double, DataType.float)
        if spec.shape is None and kind is not None and kind != spec.dtype and not widened:
            raise SignatureMismatchError(
                f"Inference param {key!r} must be of type {spec.dtype}, got {kind} ({value!r})"
            )
        merged[key] = value
    return merged


# --- tabular input ---------------------------------------------------------------------------
def _enforce_columns(data: Any, schema: Schema) -> Any:
    import pandas as pd

    if not schema.has_input_names():
        return _enforce_unnamed_columns(data, schema)
    names = [str(s.name) for s in schema.inputs]
    frame = _as_frame(data, names)
    given = [str(c) for c in frame.columns]
    frame.columns = given
    missing = [s.name for s in schema.inputs if s.required and s.name not in given]
    if missing:
        raise SignatureMismatchError(
            f"Model input is missing required column(s) {missing}. The model's signature expects "
            f"columns {names}; the input has {given}"
        )
    converted = {}
    for spec in schema.inputs:
        if spec.name in given:
            converted[spec.name] = _convert_column(frame[spec.name], spec, f"column {spec.name!r}")
    return pd.DataFrame(converted, index=frame.index)


def _enforce_unnamed_columns(data: Any, schema: Schema) -> Any:
    """Positional columns (a Series, a list, a 1-D array): checked, and given back in the form it
    came in, so the model receives exactly what it would receive without flightlog."""
    import pandas as pd

    specs = schema.inputs
    if isinstance(data, pd.DataFrame):
        if data.shape[1] != len(specs):
            raise SignatureMismatchError(
                f"The model expects {len(specs)} unnamed column(s); the input has {data.shape[1]}"
            )
        out = data.copy()
        for i, spec in enumerate(specs):
            out.iloc[:, i] = _convert_column(data.iloc[:, i], spec, f"column {i}")
        return out
    if len(specs) == 1:
        series = _as_series(data)
        if series is not None:
            _convert_column(series, specs[0], "the input")
        return data
    frame = _as_frame(data, [str(i) for i in range(len(specs))])
    return _enforce_unnamed_columns(frame, schema)


def _as_series(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, pd.Series):
        return data
    if isinstance(data, (list, tuple)):
        return pd.Series(list(data), dtype=object if not data else None)
    if type_module(data) == "numpy" and getattr(data, "ndim", 0) == 1:
        return pd.Series(data)
    if _scalar_type(data) is not None:
        return pd.Series([data])
    return None


def _as_frame(data: Any, names: list[str]) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        if data.name is None and len(names) == 1:
            return data.to_frame(names[0])
        return data.to_frame()
    if isinstance(data, dict):
        if all(_scalar_type(v) is not None or v is None for v in data.values()):
            return pd.DataFrame([data])
        try:
            return pd.DataFrame(data)
        except ValueError as exc:
            raise SignatureMismatchError(f"Cannot read the input dict as columns: {exc}") from None
    if type_module(data) == "numpy" and hasattr(data, "ndim"):
        if data.ndim == 1 and len(names) == 1:
            return pd.DataFrame({names[0]: data})
        if data.ndim == 2 and data.shape[1] == len(names):
            return pd.DataFrame(data, columns=names)
        raise SignatureMismatchError(
            f"The model expects columns {names}; got an array of shape {tuple(data.shape)}, "
            f"which has {data.shape[1] if data.ndim == 2 else 'no'} columns. Pass a DataFrame"
        )
    if isinstance(data, (list, tuple)):
        rows = list(data)
        if rows and all(isinstance(r, dict) for r in rows):
            return pd.DataFrame(rows)
        if rows and all(isinstance(r, (list, tuple)) for r in rows):
            widths = {len(r) for r in rows}
            if widths == {len(names)}:
                return pd.DataFrame(rows, columns=names)
            raise SignatureMismatchError(
                f"The model expects rows of {len(names)} values {names}; got rows of "
                f"{sorted(widths)} values"
            )
        if len(names) == 1:
            return pd.DataFrame({names[0]: rows})
    if is_torch_tensor(data):
        raise SignatureMismatchError(
            f"The model expects columns {names}; got a torch tensor. Pass a DataFrame"
        )
    if _scalar_type(data) is not None and len(names) == 1:
        return pd.DataFrame({names[0]: [data]})
    raise SignatureMismatchError(
        f"The model expects columns {names}; cannot read a {type(data).__name__} as a table. "
        "Pass a pandas DataFrame, a dict of columns or a list of row dicts"
    )


def _convert_column(col: Any, spec: ColSpec, label: str) -> Any:
    """The column converted to the spec's type, or SignatureMismatchError."""
    import numpy as np
    import pandas as pd

    if spec.is_complex:
        return col  # array/object/map/any: presence is all flightlog checks
    target = spec.type
    dtype = col.dtype
    type_name = str(dtype)
    numpy_dtype = getattr(dtype, "numpy_dtype", None)  # pandas nullable Int64/Float64/boolean
    kind = numpy_dtype.kind if numpy_dtype is not None else getattr(dtype, "kind", "O")
    is_text = type_name in ("str", "string") or type_name.startswith("string[")

    def refuse(why: str = "") -> SignatureMismatchError:
        extra = f" ({why})" if why else ""
        return SignatureMismatchError(
            f"Incompatible input type for {label}: the model expects {target}, got {type_name}"
            f"{extra}"
        )

    if type_name == "category":
        if target == DataType.string:
            return col
        col = col.astype(col.cat.categories.dtype)
        return _convert_column(col, spec, label)

    if target == DataType.string:
        if is_text or kind == "U":
            return col
        if kind == "O":
            bad = _first_bad(col, lambda v: isinstance(v, str))
            if bad is None:
                return col
            raise refuse(f"found {bad!r}")
        raise refuse()
    if target == DataType.binary:
        if kind == "S":
            return col
        if kind == "O":
            bad = _first_bad(col, lambda v: isinstance(v, (bytes, bytearray)))
            if bad is None:
                return col
            raise refuse(f"found {bad!r}")
        raise refuse()
    if target == DataType.datetime:
        if kind == "M":
            return col
        if kind == "O" or is_text:
            try:
                return pd.to_datetime(col)
            except (ValueError, TypeError) as exc:
                raise refuse(f"values are not dates: {exc}") from None
        raise refuse()

    # Numeric and boolean targets.
    if kind == "O" and not is_text:
        values = col.dropna()
        try:
            inferred = np.asarray(values.tolist())
        except (ValueError, TypeError):
            raise refuse() from None
        if inferred.dtype.kind not in "biuf":
            raise refuse(f"values like {values.iloc[0]!r}" if len(values) else "")
        kind = inferred.dtype.kind
        numpy_dtype = inferred.dtype
        type_name = f"object holding {inferred.dtype}"
    elif is_text:
        raise refuse()
    source = numpy_dtype if numpy_dtype is not None else dtype
    if not _numeric_allowed(kind, getattr(source, "itemsize", 8), target):
        raise refuse("a lossy conversion")
    wanted = target.to_numpy()
    if source == wanted or (numpy_dtype is not None and col.isna().any()):
        # Nullable columns with gaps keep their pandas dtype: numpy ints cannot hold NA.
        return col
    return col.astype(wanted)


def _numeric_allowed(kind: str, size: int, target: DataType) -> bool:
    if target == DataType.boolean:
        return kind == "b"
    if target == DataType.integer:
        return (kind == "i" and size <= 4) or (kind == "u" and size <= 2)
    if target == DataType.long:
        return kind == "i" or (kind == "u" and size <= 4)
    if target == DataType.float:
        return (kind == "f" and size <= 4) or kind in "iu"
    if target == DataType.double:
        return kind in "fiu"
    return False


def _first_bad(col: Any, ok) -> Any:
    for value in col:
        if value is None or (isinstance(value, float) and value != value):
            continue
        if not ok(value):
            return value
    return None


# --- tensor input ----------------------------------------------------------------------------
def _enforce_tensors(data: Any, schema: Schema) -> Any:
    import pandas as pd

    if schema.has_input_names():
        if isinstance(data, pd.DataFrame):
            data = {str(c): data[c].to_numpy() for c in data.columns}
        if not isinstance(data, dict):
            names = [s.name for s in schema.inputs]
            raise SignatureMismatchError(
                f"The model expects named tensors {names}; got a {type(data).__name__}. "
                "Pass a dict of arrays"
            )
        out = {}
        for spec in schema.inputs:
            if spec.name not in data:
                raise SignatureMismatchError(
                    f"Model input is missing tensor {spec.name!r}; the model expects "
                    f"{[s.name for s in schema.inputs]}, the input has {sorted(map(str, data))}"
                )
            out[spec.name] = _check_tensor(data[spec.name], spec, f"tensor {spec.name!r}")
        return out
    spec = schema.inputs[0]
    if isinstance(data, (pd.DataFrame, pd.Series)):
        data = data.to_numpy()
    elif isinstance(data, (list, tuple)):
        import numpy as np

        data = np.asarray(data)
    elif isinstance(data, dict) and len(data) == 1:
        data = next(iter(data.values()))
    return _check_tensor(data, spec, "the input tensor")


def _check_tensor(value: Any, spec: TensorSpec, label: str) -> Any:
    import numpy as np

    torch_input = is_torch_tensor(value)
    if torch_input:
        actual = np.dtype(torch_dtype_name(value.dtype))
    elif type(value).__module__.startswith("scipy.sparse"):
        actual = value.dtype
    else:
        if not isinstance(value, np.ndarray):
            try:
                value = np.asarray(value)
            except (ValueError, TypeError):
                raise SignatureMismatchError(
                    f"{label} must be an array, got {type(value).__name__}"
                ) from None
        actual = value.dtype
    shape = tuple(int(d) for d in value.shape)
    expected_shape = spec.shape
    if len(shape) != len(expected_shape) or any(
        e != -1 and e != a for e, a in zip(expected_shape, shape, strict=False)
    ):
        raise SignatureMismatchError(
            f"Shape of {label} {list(shape)} does not match the model's expected shape "
            f"{list(expected_shape)} (-1 means any size)"
        )
    expected = spec.type
    if actual == expected:
        return value
    if expected.kind in "OUS":  # string tensors: any text kind is fine
        if actual.kind in "OUS":
            return value
    elif np.can_cast(actual, expected, "safe") or (actual.kind in "biu" and expected.kind == "f"):
        if torch_input:
            import sys

            torch = sys.modules["torch"]
            return value.to(getattr(torch, expected.name))
        return value.astype(expected)
    raise SignatureMismatchError(
        f"{label} has dtype {actual.name}, but the model expects {expected.name}; convert it "
        f"first (e.g. .astype('{expected.name}')) if the loss of precision is intended"
    )
