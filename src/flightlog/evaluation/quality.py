"""Data quality of the current data against the reference: missing values, constant and
almost-constant columns, numeric values outside the reference's range, categories the
reference never had."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flightlog.evaluation.columns import Prepared

ALMOST_CONSTANT_SHARE = 0.95  # one value in >= 95% of rows
_MAX_LISTED_CATEGORIES = 20


@dataclass
class ColumnQuality:
    column: str
    kind: str  # "numeric" | "categorical"
    missing_share: float
    reference_missing_share: float
    constant: bool
    almost_constant: bool
    most_common_share: float
    out_of_range_share: float | None = None  # numeric
    reference_min: float | None = None
    reference_max: float | None = None
    new_category_share: float | None = None  # categorical
    new_categories: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def column_quality(p: Prepared) -> ColumnQuality:
    """Quality of one prepared column pair (see columns.prepare)."""
    import numpy as np

    from flightlog.evaluation.columns import most_common_share_sorted

    ref_total = len(p.ref) + p.ref_missing
    cur_total = len(p.cur) + p.cur_missing
    if p.kind == "numeric":
        top_share = most_common_share_sorted(p.cur)
        present = len(p.cur) > 0 and p.cur[0] != p.cur[-1]
        constant = not present
    else:
        cur_counts = p.cur_counts
        top_share = float(cur_counts.max() / len(p.cur)) if len(p.cur) else 0.0
        constant = int(np.count_nonzero(cur_counts)) <= 1
    out = ColumnQuality(
        column=p.name,
        kind=p.kind,
        missing_share=float(p.cur_missing / cur_total) if cur_total else 0.0,
        reference_missing_share=float(p.ref_missing / ref_total) if ref_total else 0.0,
        constant=bool(constant),
        almost_constant=bool(not constant and top_share >= ALMOST_CONSTANT_SHARE),
        most_common_share=top_share,
    )
    if p.kind == "numeric":
        if len(p.ref) and len(p.cur):
            low, high = float(p.ref[0]), float(p.ref[-1])
            out.reference_min, out.reference_max = low, high
            below = np.searchsorted(p.cur, low, "left")
            above = len(p.cur) - np.searchsorted(p.cur, high, "right")
            out.out_of_range_share = float((below + above) / len(p.cur))
        elif len(p.ref):
            out.reference_min, out.reference_max = float(p.ref[0]), float(p.ref[-1])
            out.out_of_range_share = 0.0
    else:
        new = np.flatnonzero((p.ref_counts == 0) & (p.cur_counts > 0))
        new = new[np.argsort(-p.cur_counts[new], kind="stable")]
        out.new_categories = [_plain(v) for v in p.uniques[new[:_MAX_LISTED_CATEGORIES]]]
        out.new_category_share = float(p.cur_counts[new].sum() / len(p.cur)) if len(p.cur) else 0.0
    return out


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def dataset_quality(columns: list[ColumnQuality], current: Any) -> dict[str, float]:
    cells = current.shape[0] * max(current.shape[1], 1)
    return {
        "share_of_missing_values": float(current.isna().to_numpy().sum() / cells) if cells else 0.0,
        "number_of_columns_with_missing_values": float(sum(c.missing_share > 0 for c in columns)),
        "number_of_constant_columns": float(sum(c.constant for c in columns)),
        "number_of_almost_constant_columns": float(sum(c.almost_constant for c in columns)),
        "number_of_columns_out_of_range": float(
            sum((c.out_of_range_share or 0) > 0 for c in columns)
        ),
        "number_of_columns_with_new_categories": float(
            sum((c.new_category_share or 0) > 0 for c in columns)
        ),
    }


def column_metrics(q: ColumnQuality, key: str) -> dict[str, float]:
    # Per column only the shares; constant/almost-constant are counted dataset-wide (a
    # metric per column and finding would swamp the run's metrics on wide data).
    out = {f"quality/{key}/missing_share": q.missing_share}
    if q.out_of_range_share is not None:
        out[f"quality/{key}/out_of_range_share"] = q.out_of_range_share
    if q.new_category_share is not None:
        out[f"quality/{key}/new_category_share"] = q.new_category_share
    return out
