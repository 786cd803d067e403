"""The training (or evaluation) data as a run input: name, digest, schema, row count, no data.

Numpy arrays, scipy sparse matrices, pandas DataFrames/Series and plain lists are described the
way MLflow describes them (`mlflow_tensorspec` / `mlflow_colspec` schemas, a profile with shapes
or row counts), so either UI shows them. The digest hashes the shape, the types and at most the
first 10,000 rows: enough to tell datasets apart, cheap on large data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flightlog.entities import Dataset, DatasetInput

_DIGEST_ROWS = 10_000
DATASET_CONTEXT_TAG = "mlflow.data.context"


def dataset_input(
    features: Any, targets: Any = None, name: str = "dataset", context: str = "train"
) -> DatasetInput | None:
    """A DatasetInput for `features` (and `targets`), or None for data we cannot describe."""
    dataset = describe(features, targets, name)
    if dataset is None:
        return None
    return DatasetInput(dataset, {DATASET_CONTEXT_TAG: context})


def describe(features: Any, targets: Any = None, name: str = "dataset") -> Dataset | None:
    feature_part = _part(features)
    if feature_part is None:
        return None
    target_part = _part(targets) if targets is not None else None
    digest = hashlib.sha256()
    digest.update(feature_part["digest_bytes"])
    if target_part is not None:
        digest.update(b"|targets|")
        digest.update(target_part["digest_bytes"])
    if feature_part["kind"] == "frame":
        schema = {"mlflow_colspec": feature_part["colspec"]}
        profile = {"num_rows": feature_part["rows"], "num_elements": feature_part["elements"]}
    else:
        tensor_schema = {"features": json.dumps([feature_part["tensor"]])}
        profile = {
            "features_shape": feature_part["shape"],
            "features_size": feature_part["elements"],
            "features_nbytes": feature_part["nbytes"],
        }
        if target_part is not None and target_part["kind"] != "frame":
            tensor_schema["targets"] = json.dumps([target_part["tensor"]])
            profile.update(
                targets_shape=target_part["shape"],
                targets_size=target_part["elements"],
                targets_nbytes=target_part["nbytes"],
            )
        schema = {"mlflow_tensorspec": tensor_schema}
    return Dataset(
        name=name,
        digest=digest.hexdigest()[:8],
        source_type="code",
        source=json.dumps({"tags": {}}),
        schema=json.dumps(schema),
        profile=json.dumps(profile),
    )


def _part(data: Any) -> dict[str, Any] | None:
    module = type(data).__module__.split(".", 1)[0]
    if module == "pandas":
        return _frame_part(data)
    if module == "scipy" and hasattr(data, "tocsr"):
        return _sparse_part(data)
    if isinstance(data, list | tuple) or module == "numpy":
        import numpy as np

        try:
            array = np.asarray(data)
        except Exception:  # noqa: BLE001 - ragged or odd data: not describable
            return None
        if array.dtype == object and array.ndim > 1:
            return None
        return _array_part(array)
    return None


def _array_part(array: Any) -> dict[str, Any]:
    import numpy as np

    head = np.ascontiguousarray(array[:_DIGEST_ROWS]) if array.ndim else array
    if array.dtype == object:
        payload = repr(head.tolist()).encode()
    else:
        payload = head.tobytes()
    shape = list(array.shape)
    return {
        "kind": "tensor",
        "shape": shape,
        "elements": int(array.size),
        "nbytes": int(array.nbytes),
        "tensor": {
            "type": "tensor",
            "tensor-spec": {"dtype": str(array.dtype), "shape": [-1, *shape[1:]]},
        },
        "digest_bytes": f"{array.dtype}{shape}".encode() + payload,
    }


def _sparse_part(matrix: Any) -> dict[str, Any]:
    csr = matrix.tocsr()[:_DIGEST_ROWS]
    shape = list(matrix.shape)
    payload = csr.data.tobytes() + csr.indices.tobytes() + csr.indptr.tobytes()
    return {
        "kind": "tensor",
        "shape": shape,
        "elements": int(shape[0] * shape[1]),
        "nbytes": int(matrix.data.nbytes),
        "tensor": {
            "type": "tensor",
            "tensor-spec": {"dtype": str(matrix.dtype), "shape": [-1, *shape[1:]]},
        },
        "digest_bytes": f"sparse{matrix.dtype}{shape}".encode() + payload,
    }


def _frame_part(data: Any) -> dict[str, Any]:
    import pandas as pd

    frame = data.to_frame() if isinstance(data, pd.Series) else data
    head = frame.head(_DIGEST_ROWS)
    hashed = pd.util.hash_pandas_object(head, index=False).values.tobytes()
    colspec = [
        {"type": _column_type(dtype), "name": str(column), "required": True}
        for column, dtype in frame.dtypes.items()
    ]
    return {
        "kind": "frame",
        "rows": int(len(frame)),
        "elements": int(frame.size),
        "colspec": json.dumps(colspec),
        "digest_bytes": json.dumps(colspec).encode() + f"{len(frame)}".encode() + hashed,
    }


def _column_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "long" if getattr(dtype, "itemsize", 8) > 4 else "integer"
    if kind == "f":
        return "double" if getattr(dtype, "itemsize", 8) > 4 else "float"
    if kind == "M":
        return "datetime"
    return "string"
