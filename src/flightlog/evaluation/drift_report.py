"""flightlog.drift / flightlog.log_drift: per-column drift between a reference and a current
dataset, dataset drift, data quality, as metrics and a self-contained HTML + JSON report.

Test choice (Evidently's documented defaults), by the reference's row count and the number of
distinct values in both columns together:

    reference <= 1000 rows   numeric, > 5 values       Kolmogorov-Smirnov      drift: p < 0.05
                             2 values or fewer         proportion Z-test       drift: p < 0.05
                             otherwise                 chi-squared             drift: p < 0.05
    reference  > 1000 rows   numeric, > 5 values       Wasserstein / ref std   drift: >= 0.1
                             otherwise                 Jensen-Shannon          drift: >= 0.1

The dataset drifts when at least `drift_share` (0.5) of the columns drift. `tests` overrides
the choice: one name for every column, or {column: name or (name, threshold)}; names are
ks, chisquare, z, wasserstein, jensenshannon, psi.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from flightlog.evaluation.errors import EvaluationInputError
from flightlog.evaluation.quality import ColumnQuality

if TYPE_CHECKING:
    from flightlog.evaluation.columns import Prepared

SMALL_REFERENCE_ROWS = 1000
DEFAULT_DRIFT_SHARE = 0.5
REPORT_FOLDER = "drift"
DRIFT_TAG = "flightlog.drift"
_HIST_BINS = 20
_TOP_CATEGORIES = 15
_KEY_UNSAFE = re.compile(r"[^/\w.\- :]")


@dataclass
class ColumnDrift:
    column: str
    kind: str  # "numeric" | "categorical"
    test: str
    test_title: str
    score: float | None
    threshold: float
    drifted: bool
    statistic: float | None
    reference_rows: int
    current_rows: int
    distinct_values: int
    distribution: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DriftReport:
    columns: list[ColumnDrift]
    quality: list[ColumnQuality]
    quality_summary: dict[str, float]
    drift_share: float
    reference_rows: int
    current_rows: int
    run_id: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)

    @property
    def number_of_columns(self) -> int:
        return len(self.columns)

    @property
    def number_of_drifted_columns(self) -> int:
        return sum(c.drifted for c in self.columns)

    @property
    def share_of_drifted_columns(self) -> float:
        return self.number_of_drifted_columns / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drifted(self) -> bool:
        return bool(self.columns) and self.share_of_drifted_columns >= self.drift_share

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(name)

    def metrics(self) -> dict[str, float]:
        from flightlog.evaluation.quality import column_metrics

        out: dict[str, float] = {}
        for c in self.columns:
            key = metric_key(c.column)
            if c.score is not None:
                out[f"drift/{key}/score"] = c.score
            out[f"drift/{key}/drifted"] = float(c.drifted)
        out["drift/number_of_columns"] = float(self.number_of_columns)
        out["drift/number_of_drifted_columns"] = float(self.number_of_drifted_columns)
        out["drift/share_of_drifted_columns"] = self.share_of_drifted_columns
        out["drift/dataset_drifted"] = float(self.dataset_drifted)
        for q in self.quality:
            out.update(column_metrics(q, metric_key(q.column)))
        out.update({f"quality/{k}": v for k, v in self.quality_summary.items()})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "flightlog.drift",
            "version": 1,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "drift_share": self.drift_share,
            "number_of_columns": self.number_of_columns,
            "number_of_drifted_columns": self.number_of_drifted_columns,
            "share_of_drifted_columns": self.share_of_drifted_columns,
            "dataset_drifted": self.dataset_drifted,
            "columns": [c.to_dict() for c in self.columns],
            "quality": {
                "summary": self.quality_summary,
                "columns": [q.to_dict() for q in self.quality],
            },
        }

    def to_json(self) -> str:
        return json.dumps(finite(self.to_dict()), indent=1, default=_plain, allow_nan=False)

    def to_html(self, title: str = "Data drift report") -> str:
        from flightlog.evaluation.report import render_html

        return render_html(self.to_dict(), title)

    def save_html(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_html())


def metric_key(column: str) -> str:
    """A column name as a metric-key segment (characters MLflow refuses become '_')."""
    return _KEY_UNSAFE.sub("_", str(column))[:200]


def _plain(value: Any) -> Any:
    import math

    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def finite(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return _plain(value)


def _mapping_get(mapping: Any, key: str) -> Any:
    if mapping is None:
        return None
    if isinstance(mapping, Mapping):
        return mapping.get(key)
    return getattr(mapping, key, None)  # an Evidently ColumnMapping or similar object


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def select_columns(reference: Any, current: Any, column_mapping: Any) -> list[tuple[str, str]]:
    """[(column, "numeric"|"categorical")] to test."""
    import pandas as pd

    numeric = _as_list(_mapping_get(column_mapping, "numerical_features"))
    categorical = _as_list(_mapping_get(column_mapping, "categorical_features"))
    skip = set(_as_list(_mapping_get(column_mapping, "id"))) | set(
        _as_list(_mapping_get(column_mapping, "datetime"))
    )
    extra = [
        c
        for c in _as_list(_mapping_get(column_mapping, "target"))
        + _as_list(_mapping_get(column_mapping, "prediction"))
    ]
    if numeric or categorical:
        names = [*numeric, *categorical, *[c for c in extra if c not in numeric + categorical]]
    else:
        names = [c for c in reference.columns if c not in skip]
    missing_ref = [c for c in names if c not in reference.columns]
    missing_cur = [c for c in names if c not in current.columns]
    if missing_ref or missing_cur:
        raise EvaluationInputError(
            "Columns missing: "
            + "; ".join(
                part
                for part in (
                    f"not in reference: {missing_ref}" if missing_ref else "",
                    f"not in current: {missing_cur}" if missing_cur else "",
                )
                if part
            )
        )
    out = []
    for name in names:
        if name in numeric:
            kind = "numeric"
        elif name in categorical:
            kind = "categorical"
        else:
            dtype = reference[name].dtype
            is_num = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
            kind = "numeric" if is_num else "categorical"
        out.append((name, kind))
    if not out:
        raise EvaluationInputError("No columns to compare")
    return out


def choose_test(kind: str, reference_rows: int, distinct_values: int) -> str:
    """Evidently's default test for one column (see the module docstring)."""
    if reference_rows <= SMALL_REFERENCE_ROWS:
        if kind == "numeric" and distinct_values > 5:
            return "ks"
        return "z" if distinct_values <= 2 else "chisquare"
    if kind == "numeric" and distinct_values > 5:
        return "wasserstein"
    return "jensenshannon"


def _test_override(tests: Any, column: str) -> tuple[str | None, float | None]:
    if tests is None:
        return None, None
    if isinstance(tests, str):
        return tests, None
    if not isinstance(tests, Mapping):
        raise EvaluationInputError(
            "tests must be a test name or a dict {column: name or (name, threshold)}"
        )
    rule = tests.get(column)
    if rule is None:
        return None, None
    if isinstance(rule, str):
        return rule, None
    if isinstance(rule, Mapping):
        return rule.get("test"), rule.get("threshold")
    name, threshold = rule
    return name, threshold


def _distribution(p: Prepared) -> dict[str, Any]:
    """Shares per bin (numeric) or per category (top ones + other), for the report and UI."""
    import numpy as np

    from flightlog.evaluation.columns import histogram_sorted

    if len(p.ref) == 0 or len(p.cur) == 0:
        return {}
    if p.kind == "numeric":
        low, high = float(p.merged[0]), float(p.merged[-1])
        if low == high:
            high = low + 1.0
        edges = np.linspace(low, high, _HIST_BINS + 1)
        return {
            "type": "histogram",
            "edges": edges.tolist(),
            "reference": (histogram_sorted(p.ref, edges) / len(p.ref)).tolist(),
            "current": (histogram_sorted(p.cur, edges) / len(p.cur)).tolist(),
        }
    order = np.argsort(-(p.ref_counts + p.cur_counts), kind="stable")
    top = order[:_TOP_CATEGORIES]
    labels = [str(_plain(v)) for v in p.uniques[top]]
    ref_share = (p.ref_counts[top] / len(p.ref)).tolist()
    cur_share = (p.cur_counts[top] / len(p.cur)).tolist()
    if len(order) > len(top):
        labels.append("(other)")
        ref_share.append(max(0.0, 1 - sum(ref_share)))
        cur_share.append(max(0.0, 1 - sum(cur_share)))
    return {"type": "categories", "labels": labels, "reference": ref_share, "current": cur_share}


def _one_column(name: str, kind: str, reference: Any, current: Any, tests: Any, quality: bool):
    from flightlog.evaluation import stattests
    from flightlog.evaluation.columns import prepare, wasserstein_sorted
    from flightlog.evaluation.quality import column_quality

    p = prepare(str(name), kind, reference[name], current[name])
    chosen, threshold = _test_override(tests, name)
    test = stattests.by_name(chosen or choose_test(kind, len(p.ref), p.distinct), kind == "numeric")
    outcome = None
    if len(p.ref) and len(p.cur):
        if test.name == "wasserstein":
            # Same value as stattests.WASSERSTEIN (scipy), from the already sorted columns.
            outcome = test.decide(
                wasserstein_sorted(p) / max(float(p.ref.std()), 0.001), None, threshold
            )
        else:
            outcome = test(p.ref, p.cur, threshold)
    column = ColumnDrift(
        column=str(name),
        kind=kind,
        test=test.name,
        test_title=test.title,
        score=outcome.score if outcome else None,
        threshold=outcome.threshold if outcome else float(threshold or test.default_threshold),
        drifted=outcome.drifted if outcome else False,
        statistic=outcome.statistic if outcome else None,
        reference_rows=int(len(p.ref)),
        current_rows=int(len(p.cur)),
        distinct_values=int(p.distinct),
        distribution=_distribution(p),
    )
    return column, (column_quality(p) if quality else None)


def drift(
    reference: Any,
    current: Any,
    column_mapping: Any = None,
    tests: Any = None,
    *,
    drift_share: float = DEFAULT_DRIFT_SHARE,
    quality: bool = True,
) -> DriftReport:
    """Drift and data quality of `current` against `reference` (DataFrames, dicts of columns
    or 2-D arrays with the same columns). Nothing is logged; see log_drift."""
    from flightlog.evaluation.data import as_frame, require
    from flightlog.evaluation.quality import dataset_quality

    require("numpy")
    require("pandas")
    require("scipy")
    if not 0 < drift_share <= 1:
        raise EvaluationInputError(f"drift_share must be in (0, 1], got {drift_share}")
    reference = as_frame(reference, "reference")
    current = as_frame(current, "current")
    selected = select_columns(reference, current, column_mapping)
    if isinstance(tests, Mapping):
        unknown = [c for c in tests if c not in {name for name, _ in selected}]
        if unknown:
            raise EvaluationInputError(f"tests names columns that are not compared: {unknown}")
    # Columns are independent and numpy's sorting releases the GIL: large inputs use threads.
    cells = (len(reference) + len(current)) * len(selected)
    workers = min(4, os.cpu_count() or 1, len(selected)) if cells > 2_000_000 else 1

    def work(item: tuple[str, str]):
        return _one_column(item[0], item[1], reference, current, tests, quality)

    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers, thread_name_prefix="flightlog-drift") as pool:
            results = list(pool.map(work, selected))
    else:
        results = [work(item) for item in selected]
    columns = [column for column, _ in results]
    qualities = [q for _, q in results if q is not None]
    summary = dataset_quality(qualities, current[[name for name, _ in selected]]) if quality else {}
    return DriftReport(
        columns, qualities, summary, drift_share, int(len(reference)), int(len(current))
    )


def log_drift(
    reference: Any,
    current: Any,
    column_mapping: Any = None,
    tests: Any = None,
    *,
    drift_share: float = DEFAULT_DRIFT_SHARE,
    quality: bool = True,
    run_id: str | None = None,
    artifact_path: str = REPORT_FOLDER,
) -> DriftReport:
    """drift(...), then its metrics, the tag `flightlog.drift`, and `drift/report.html` +
    `drift/report.json` logged into `run_id`, the active run, or a new run."""
    report = drift(
        reference, current, column_mapping, tests, drift_share=drift_share, quality=quality
    )
    log_report(report, run_id=run_id, artifact_path=artifact_path)
    return report


def log_report(
    report: DriftReport, run_id: str | None = None, artifact_path: str = REPORT_FOLDER
) -> None:
    import os
    import tempfile

    from flightlog.evaluation.recording import target_run

    with (
        tempfile.TemporaryDirectory(prefix="flightlog-drift-") as tmp,
        target_run(run_id) as writer,
    ):
        html_path = os.path.join(tmp, "report.html")
        json_path = os.path.join(tmp, "report.json")
        with open(html_path, "w", encoding="utf-8") as fh:
            fh.write(report.to_html())
        with open(json_path, "w", encoding="utf-8") as fh:
            fh.write(report.to_json())
        writer.log_metrics(report.metrics())
        writer.log_artifact(html_path, artifact_path)
        writer.log_artifact(json_path, artifact_path)
        writer.set_tags({DRIFT_TAG: artifact_path})
        report.run_id = writer.run_id
        report.artifacts = {
            "report_html": writer.artifact_uri(f"{artifact_path}/report.html"),
            "report_json": writer.artifact_uri(f"{artifact_path}/report.json"),
        }
