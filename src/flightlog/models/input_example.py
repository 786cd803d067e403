"""Input examples saved beside a model, as MLflow saves them.

Two files: `input_example.json` (the example itself) and `serving_input_example.json` (the same
data as the JSON body a scoring server takes: `{"dataframe_split": ...}` or `{"inputs": ...}`).
The MLmodel's `saved_input_example_info` says which kind it is:

    type: dataframe   pandas DataFrame (Series too), "split" orient without the index
    type: ndarray     numpy array, or dict of arrays; torch tensors are saved as arrays
    type: json_object lists, dicts of plain values, strings, numbers
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import os
from typing import Any

from flightlog.exceptions import InvalidParameterError
from flightlog.models.signature import is_torch_tensor, type_module

INPUT_EXAMPLE_FILE = "input_example.json"
SERVING_INPUT_FILE = "serving_input_example.json"


def _to_json_value(value: Any) -> Any:
    """json.dumps fallback: numpy scalars, datetimes, bytes (as base64, MLflow's convention)."""
    if hasattr(value, "tolist") and type_module(value) == "numpy":
        return value.tolist()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if type_module(value) == "pandas" and hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _clean(value: Any) -> Any:
    """NaN/None cells become JSON null (MLflow writes them the same way)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def normalize_example(example: Any) -> tuple[str, Any, Any]:
    """(kind, json-ready example, the example as the model will receive it)."""
    module = type_module(example)
    if is_torch_tensor(example):
        example = example.detach().cpu().numpy()
        module = "numpy"
    if module == "pandas":
        import pandas as pd

        if isinstance(example, pd.Series):
            example = example.to_frame()
        if isinstance(example, pd.DataFrame):
            columns = [str(c) for c in example.columns]
            rows = [[_clean(c) for c in row] for row in example.astype(object).values.tolist()]
            return "dataframe", {"columns": columns, "data": rows}, example
    if module == "numpy" and hasattr(example, "tolist"):
        return "ndarray", example.tolist(), example
    if (
        isinstance(example, dict)
        and example
        and all(
            type_module(v) == "numpy" and hasattr(v, "ndim") or is_torch_tensor(v)
            for v in example.values()
        )
    ):
        arrays = {
            str(k): (v.detach().cpu().numpy() if is_torch_tensor(v) else v)
            for k, v in example.items()
        }
        return "ndarray", {k: v.tolist() for k, v in arrays.items()}, arrays
    if isinstance(example, (dict, list, tuple, str, int, float, bool)):
        return "json_object", example, example
    raise InvalidParameterError(
        f"Cannot save an input example of type {type(example).__name__}; use a pandas "
        "DataFrame, a numpy array, a dict of arrays, or JSON-compatible data"
    )


def save_input_example(path: str, example: Any) -> tuple[dict[str, Any], Any]:
    """Write both example files into the model folder; return (saved_input_example_info, the
    example as the model receives it, for signature inference)."""
    kind, data, model_input = normalize_example(example)
    info: dict[str, Any] = {"artifact_path": INPUT_EXAMPLE_FILE, "type": kind}
    if kind == "dataframe":
        info["pandas_orient"] = "split"
        serving = {"dataframe_split": data}
    else:
        serving = {"inputs": data}
    info["serving_input_path"] = SERVING_INPUT_FILE
    with open(os.path.join(path, INPUT_EXAMPLE_FILE), "w") as f:
        json.dump(data, f, default=_to_json_value)
    with open(os.path.join(path, SERVING_INPUT_FILE), "w") as f:
        json.dump(serving, f, default=_to_json_value, indent=2)
    return info, model_input


def load_input_example(path: str, info: dict[str, Any] | None, schema: Any = None) -> Any:
    """Read the example back in the form it was given (DataFrame, array(s), JSON). With the
    model's input schema, tensors get the declared dtypes (JSON has only int and float)."""
    if not info:
        return None
    file = os.path.join(path, info.get("artifact_path", INPUT_EXAMPLE_FILE))
    if not os.path.isfile(file):
        return None
    with open(file) as f:
        data = json.load(f)
    kind = info.get("type")
    if kind == "dataframe":
        import pandas as pd

        if isinstance(data, dict) and "dataframe_split" in data:
            data = data["dataframe_split"]
        if isinstance(data, dict) and "columns" in data:
            return pd.DataFrame(data.get("data", []), columns=data["columns"])
        return pd.DataFrame(data)
    if kind == "ndarray":
        import numpy as np

        if info.get("format") == "tf-serving" and isinstance(data, dict):
            data = data.get("inputs", data.get("instances", data))
        dtypes = _tensor_dtypes(schema)
        if isinstance(data, dict):
            return {k: np.asarray(v, dtype=dtypes.get(k)) for k, v in data.items()}
        return np.asarray(data, dtype=dtypes.get(None))
    return data


def _tensor_dtypes(schema: Any) -> dict[str | None, Any]:
    if schema is None or not schema.is_tensor_spec():
        return {}
    return {spec.name: spec.dtype_name for spec in schema.inputs}
