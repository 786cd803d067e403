"""`flightlog.data`: datasets described as run inputs, with MLflow's names.

    dataset = flightlog.data.from_pandas(df, source="data/train.csv", targets="label", name="train")
    flightlog.log_input(dataset, context="training")
    dataset.digest, dataset.schema, dataset.profile      # what is stored: no rows, only a summary

The digest follows MLflow's recipe (md5 of the first 10,000 rows' hashes and the shape), so the
same data gets the same digest under MLflow and flightlog. pandas/numpy load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Dataset": "flightlog.data.dataset",
    "PandasDataset": "flightlog.data.dataset",
    "NumpyDataset": "flightlog.data.dataset",
    "from_pandas": "flightlog.data.dataset",
    "from_numpy": "flightlog.data.dataset",
    "DatasetSource": "flightlog.data.sources",
    "CodeDatasetSource": "flightlog.data.sources",
    "UriDatasetSource": "flightlog.data.sources",
    "get_source": "flightlog.data.sources",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flightlog.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = sorted(_EXPORTS)
