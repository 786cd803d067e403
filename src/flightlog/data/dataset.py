"""Dataset objects: a summary of some data (name, digest, source, schema, profile), never the rows.

`from_pandas` and `from_numpy` build them; `flightlog.log_input(dataset, context=...)` stores the
summary as a run input. The digest is MLflow's recipe, computed here: an 8-character md5 over the
hashes of the first 10,000 rows (string and numeric columns for a DataFrame, the flattened
values for arrays) and the full shape, so both libraries give equal data equal digests.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any

from flightlog.data.sources import DatasetSource, resolve_source
from flightlog.entities import Dataset as DatasetEntity
from flightlog.exceptions import InvalidParameterError

DIGEST_ROWS = 10_000
DEFAULT_NAME = "dataset"


def _md5(parts: list[Any]) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for part in parts:
        md5.update(part)
    return md5.hexdigest()[:8]


def pandas_digest(df: Any) -> str:
    import numpy as np
    import pandas as pd

    head = df.head(DIGEST_ROWS)
    # Only columns whose every value is a str, and numeric columns, are hashed (as MLflow does:
    # other objects have no stable hash).
    all_str = df.map(type) == str  # noqa: E721 - the exact type, as in MLflow's recipe
    text_columns = head.columns[all_str.all(axis=0)]
    numeric_columns = head.select_dtypes(include=[np.number]).columns
    hashed = head[text_columns.union(numeric_columns)]
    return _md5(
        [pd.util.hash_pandas_object(hashed).values, np.int64(len(df))]
        + [str(c).encode() for c in df.columns]
    )


def numpy_digest(features: Any, targets: Any = None) -> str:
    import numpy as np
    import pandas as pd

    parts: list[Any] = []

    def add(array: Any) -> None:
        flat = array.flatten()[:DIGEST_ROWS]
        try:
            parts.append(pd.util.hash_array(flat))
        except TypeError:  # unhashable objects: only their count
            parts.append(np.int64(flat.size))
        parts.extend(np.int64(n) for n in array.shape)

    for item in (features, targets):
        if item is None:
            continue
        if isinstance(item, dict):
            for key in sorted(item):
                add(item[key])
        else:
            add(item)
    return _md5(parts)


class Dataset:
    """What every dataset offers: name, digest, source, schema, profile, to_dict/to_json."""

    def __init__(self, source: DatasetSource, name: str | None = None, digest: str | None = None):
        self._source = source
        self._name = name or DEFAULT_NAME
        self._digest = digest or self._compute_digest()

    def _compute_digest(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self._name

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def schema(self) -> Any:
        return None

    @property
    def profile(self) -> dict[str, Any] | None:
        return None

    def _schema_json(self) -> str | None:
        schema = self.schema
        return None if schema is None else json.dumps(_schema_dict(schema))

    def to_dict(self) -> dict[str, str]:
        out = {
            "name": self.name,
            "digest": self.digest,
            "source": self.source.to_json(),
            "source_type": self.source.source_type,
        }
        schema = self._schema_json()
        if schema is not None:
            out["schema"] = schema
        if self.profile is not None:
            out["profile"] = json.dumps(self.profile)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def to_entity(self) -> DatasetEntity:
        d = self.to_dict()
        return DatasetEntity(
            d["name"], d["digest"], d["source_type"], d["source"], d.get("schema"), d.get("profile")
        )

    _to_mlflow_entity = to_entity  # MLflow's name, used by code that logs inputs itself

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} digest={self.digest!r}>"


def _schema_dict(schema: Any) -> Any:
    if isinstance(schema, TensorDatasetSchema):
        return schema.to_dict()
    return {"mlflow_colspec": schema.to_dict()}


class TensorDatasetSchema:
    """The features (and targets) tensor schemas of an array dataset."""

    def __init__(self, features: Any, targets: Any = None):
        self.features = features
        self.targets = targets

    def to_dict(self) -> dict[str, Any]:
        return {
            "mlflow_tensorspec": {
                "features": self.features.to_json(),
                "targets": self.targets.to_json() if self.targets is not None else None,
            }
        }


class PandasDataset(Dataset):
    """A pandas DataFrame; `targets` (and `predictions`) name columns of it."""

    def __init__(
        self,
        df: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ):
        for label, column in (("targets", targets), ("predictions", predictions)):
            if column is not None and column not in df.columns:
                raise InvalidParameterError(
                    f"The {label} column {column!r} is not in the DataFrame (columns: "
                    f"{[str(c) for c in df.columns][:20]})"
                )
        self._df = df
        self._targets = targets
        self._predictions = predictions
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return pandas_digest(self._df)

    @property
    def df(self) -> Any:
        return self._df

    @property
    def targets(self) -> str | None:
        return self._targets

    @property
    def predictions(self) -> str | None:
        return self._predictions

    @property
    def profile(self) -> dict[str, Any]:
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}

    @cached_property
    def schema(self) -> Any:
        from flightlog.models.signature import infer_schema

        return infer_schema(self._df)


class NumpyDataset(Dataset):
    """Features (an array or a dict of arrays) and optional targets."""

    def __init__(
        self,
        features: Any,
        source: DatasetSource,
        targets: Any = None,
        name: str | None = None,
        digest: str | None = None,
    ):
        self._features = features
        self._targets = targets
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return numpy_digest(self._features, self._targets)

    @property
    def features(self) -> Any:
        return self._features

    @property
    def targets(self) -> Any:
        return self._targets

    @property
    def profile(self) -> dict[str, Any]:
        def attr(data: Any, name: str) -> Any:
            if isinstance(data, dict):
                return {k: _plain(getattr(v, name)) for k, v in data.items()}
            return _plain(getattr(data, name))

        out = {f"features_{a}": attr(self._features, a) for a in ("shape", "size", "nbytes")}
        if self._targets is not None:
            out.update(
                {f"targets_{a}": attr(self._targets, a) for a in ("shape", "size", "nbytes")}
            )
        return out

    @cached_property
    def schema(self) -> TensorDatasetSchema:
        from flightlog.models.signature import infer_schema

        targets = infer_schema(self._targets) if self._targets is not None else None
        return TensorDatasetSchema(infer_schema(self._features), targets)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else int(value)


def from_pandas(
    df: Any,
    source: Any = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """A dataset describing the DataFrame `df` (`source`: where it was read from, if anywhere)."""
    if type(df).__module__.split(".", 1)[0] != "pandas" or not hasattr(df, "columns"):
        raise InvalidParameterError(
            f"from_pandas needs a pandas DataFrame, got {type(df).__module__}.{type(df).__name__}"
        )
    return PandasDataset(df, resolve_source(source), targets, name, digest, predictions)


def from_numpy(
    features: Any,
    source: Any = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """A dataset describing numpy `features` (an array or a dict of arrays) and `targets`."""
    import numpy as np

    def check(label: str, value: Any) -> None:
        values = value.values() if isinstance(value, dict) else [value]
        for item in values:
            if not isinstance(item, np.ndarray):
                raise InvalidParameterError(
                    f"from_numpy needs numpy arrays for {label}, got {type(item).__name__}"
                )

    check("features", features)
    if targets is not None:
        check("targets", targets)
    return NumpyDataset(features, resolve_source(source), targets, name, digest)
