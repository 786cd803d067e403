"""Metric histories held as columns, not as one object per point.

A million-point history as `Metric` objects costs ~150-290 bytes a point and seconds to build;
as three typed arrays (step int64, timestamp int64, value float64) it is 24 bytes a point and
is read in chunks straight from the database cursor. `MetricHistory` is the list-like view the
client returns from `get_metric_history`: it builds a `Metric` only for the items a caller
touches, so iterating, indexing and `len()` work as on MLflow's list while memory stays flat.

No numpy at import: `MetricArrays.to_numpy()` imports it when asked.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, overload

from flightlog.entities import Metric

# Points read per round trip when paging a history (store cursor or REST `max_results`).
HISTORY_PAGE = 25_000


class MetricArrays(NamedTuple):
    """One metric's history as columns, ordered by (step, timestamp, insertion)."""

    steps: Sequence[int]
    timestamps: Sequence[int]
    values: Sequence[float]

    def __len__(self) -> int:  # type: ignore[override] - the number of points, not of columns
        return len(self.values)

    def to_numpy(self) -> MetricArrays:
        """The same columns as numpy arrays (int64, int64, float64), without copying where
        the buffers allow it."""
        import numpy as np

        return MetricArrays(
            np.asarray(self.steps, dtype=np.int64),
            np.asarray(self.timestamps, dtype=np.int64),
            np.asarray(self.values, dtype=np.float64),
        )


class ArrayBuilder:
    """Accumulates (value, timestamp, step, is_nan) rows, page by page, into typed arrays."""

    def __init__(self) -> None:
        self.steps = array("q")
        self.timestamps = array("q")
        self.values = array("d")

    def add_rows(self, rows: Sequence[tuple]) -> None:
        """Rows of (id, value, timestamp, step, is_nan), as the SQL store reads them."""
        if not rows:
            return
        _ids, values, timestamps, steps, nans = zip(*rows, strict=True)
        start = len(self.values)
        self.values.extend(values)
        self.timestamps.extend(timestamps)
        self.steps.extend(steps)
        if any(nans):
            for i, flag in enumerate(nans):
                if flag:
                    self.values[start + i] = math.nan

    def add_metrics(self, metrics: Sequence[Metric]) -> None:
        for m in metrics:
            self.steps.append(m.step)
            self.timestamps.append(m.timestamp)
            self.values.append(m.value)

    def build(self) -> MetricArrays:
        return MetricArrays(self.steps, self.timestamps, self.values)


def arrays_from_pages(store: Any, run_id: str, key: str) -> MetricArrays:
    """Any store's history as columns, read in pages of HISTORY_PAGE points."""
    builder = ArrayBuilder()
    token = None
    while True:
        page = store.get_metric_history(run_id, key, max_results=HISTORY_PAGE, page_token=token)
        builder.add_metrics(page)
        token = getattr(page, "token", None)
        if not token:
            return builder.build()


class MetricHistory(Sequence[Metric]):
    """A read-only, list-like history of one metric; a `Metric` is made per item touched."""

    __slots__ = ("key", "arrays")

    def __init__(self, key: str, arrays: MetricArrays):
        self.key = key
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays.values)

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> list[Metric]: ...

    def __getitem__(self, index):
        steps, timestamps, values = self.arrays
        if isinstance(index, slice):
            return [
                Metric(self.key, values[i], timestamps[i], steps[i])
                for i in range(*index.indices(len(values)))
            ]
        return Metric(self.key, values[index], timestamps[index], steps[index])

    def __iter__(self) -> Iterator[Metric]:
        key = self.key
        steps, timestamps, values = self.arrays
        for i in range(len(values)):
            yield Metric(key, values[i], timestamps[i], steps[i])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (MetricHistory, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        shown = ", ".join(repr(m) for m in self[:3])
        more = f", ... ({len(self)} points)" if len(self) > 3 else ""
        return f"MetricHistory([{shown}{more}])"
