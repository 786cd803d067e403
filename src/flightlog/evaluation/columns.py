"""One column pair prepared once for every test, the quality checks and the charts.

Numeric columns are sorted once (the costly step on large data): distinct values, min/max,
histograms, out-of-range counts, the most common value's share and the Wasserstein distance
then all come from the sorted arrays. Categorical columns become integer codes over the union
of both columns' values, so counts are a bincount whatever the values' type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flightlog.evaluation.errors import EvaluationInputError


@dataclass
class Prepared:
    name: str
    kind: str  # "numeric" | "categorical"
    ref: Any  # numeric: sorted floats; categorical: codes
    cur: Any
    distinct: int
    ref_missing: int
    cur_missing: int
    # categorical only
    uniques: Any = None
    ref_counts: Any = None
    cur_counts: Any = None
    # numeric only: both columns sorted together
    merged: Any = None
    merged_is_ref: Any = None  # per merged value: from the reference?


def prepare(name: str, kind: str, reference: Any, current: Any) -> Prepared:
    import numpy as np
    import pandas as pd

    if kind == "numeric":
        try:
            ref = reference.to_numpy(dtype=float, na_value=np.nan)
            cur = current.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise EvaluationInputError(
                f"Column {name!r} is treated as numeric but has non-numeric values; declare it "
                "in column_mapping['categorical_features']"
            ) from exc
        ref_ok, cur_ok = ~np.isnan(ref), ~np.isnan(cur)
        ref_sorted = np.sort(ref[ref_ok])
        cur_sorted = np.sort(cur[cur_ok])
        # Two sorted runs: the stable sort (timsort) merges them in about linear time.
        both = np.concatenate([ref_sorted, cur_sorted])
        order = np.argsort(both, kind="stable")
        merged = both[order]
        distinct = int(np.count_nonzero(np.diff(merged))) + 1 if len(merged) else 0
        return Prepared(
            name,
            kind,
            ref_sorted,
            cur_sorted,
            distinct,
            int(len(ref) - len(ref_sorted)),
            int(len(cur) - len(cur_sorted)),
            merged=merged,
            merged_is_ref=order < len(ref_sorted),
        )
    ref_na = reference.isna().to_numpy()
    cur_na = current.isna().to_numpy()
    both = pd.concat([reference[~ref_na], current[~cur_na]], ignore_index=True)
    try:
        codes, uniques = pd.factorize(both, sort=True)
    except TypeError:  # values of types that do not compare (1 and "a"): order as text
        codes, uniques = pd.factorize(both.astype(str), sort=True)
    n_ref = int((~ref_na).sum())
    ref_codes, cur_codes = codes[:n_ref], codes[n_ref:]
    k = len(uniques)
    return Prepared(
        name,
        kind,
        ref_codes,
        cur_codes,
        k,
        int(ref_na.sum()),
        int(cur_na.sum()),
        uniques=np.asarray(uniques, dtype=object),
        ref_counts=np.bincount(ref_codes, minlength=k),
        cur_counts=np.bincount(cur_codes, minlength=k),
    )


def wasserstein_sorted(p: Prepared) -> float:
    """The first Wasserstein distance from the sorted columns (scipy's definition: the area
    between the two empirical CDFs), without sorting again."""
    import numpy as np

    # Walking the merged values, each CDF steps up where its own values are. At tied values
    # the running counts are off by the tie's order, but the width there is 0.
    u_cdf = np.cumsum(p.merged_is_ref) / len(p.ref)
    v_cdf = np.cumsum(~p.merged_is_ref) / len(p.cur)
    return float(np.sum(np.abs(u_cdf - v_cdf)[:-1] * np.diff(p.merged)))


def histogram_sorted(sorted_values: Any, edges: Any) -> Any:
    """np.histogram's counts for sorted values (last bin closed, as numpy's)."""
    import numpy as np

    positions = np.searchsorted(sorted_values, edges, "left")
    positions[-1] = np.searchsorted(sorted_values, edges[-1], "right")
    return np.diff(positions)


def most_common_share_sorted(sorted_values: Any) -> float:
    import numpy as np

    if len(sorted_values) == 0:
        return 0.0
    change = np.flatnonzero(np.diff(sorted_values)) + 1
    bounds = np.concatenate([[0], change, [len(sorted_values)]])
    return float(np.max(np.diff(bounds)) / len(sorted_values))
