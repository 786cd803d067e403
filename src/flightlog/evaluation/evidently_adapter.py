"""Log an Evidently report's drift results into a run under flightlog's own names.

    from evidently import Report                   # Evidently >= 0.7
    from evidently.presets import DataDriftPreset
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    flightlog.evaluation.log_evidently_report(snapshot)

Works with Evidently's two result shapes: the 0.7+ snapshot (`snapshot.dict()`: a list of
metrics such as `ValueDrift(column=x)` with a value, and `DriftedColumnsCount` with count and
share) and the legacy 0.4-0.6 Report (`report.as_dict()`: a `DataDriftTable` result with
`drift_by_columns`). The metrics are the same keys log_drift writes (`drift/<column>/score`,
`drift/<column>/drifted` where the report says, `drift/share_of_drifted_columns`,
`drift/dataset_drifted`), and the report's own HTML and JSON go to `evidently/`.

Evidently is not installed in flightlog's test environment (0.7.23 does not import with
pandas 3.1), so this adapter is exercised by tests only where evidently installs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flightlog.evaluation.errors import EvaluationInputError

_VALUE_DRIFT = re.compile(r"^ValueDrift\((?P<args>.*)\)$")


def report_dict(report: Any) -> dict[str, Any]:
    """The report's results as a dict (either Evidently API), or a dict given directly."""
    if isinstance(report, dict):
        return report
    for name in ("dict", "as_dict"):
        method = getattr(report, name, None)
        if callable(method):
            try:
                return method()
            except Exception as exc:  # noqa: BLE001 - an un-run legacy Report raises here
                raise EvaluationInputError(
                    f"Could not read the Evidently report's results ({exc}); run it first"
                ) from exc
    raise EvaluationInputError(
        f"Expected an Evidently Report/Snapshot or its dict, got {type(report).__name__}"
    )


def _args(text: str) -> dict[str, str]:
    out = {}
    for part in re.split(r",\s*", text):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def drift_metrics(results: dict[str, Any]) -> dict[str, float]:
    """flightlog's drift metric names from an Evidently results dict."""
    from flightlog.evaluation.drift_report import metric_key

    out: dict[str, float] = {}
    for item in results.get("metrics", []):
        # Legacy: {"metric": "DataDriftTable" | "DatasetDriftMetric", "result": {...}}
        result = item.get("result")
        if isinstance(result, dict):
            for name, col in (result.get("drift_by_columns") or {}).items():
                key = metric_key(col.get("column_name", name))
                out[f"drift/{key}/score"] = float(col["drift_score"])
                out[f"drift/{key}/drifted"] = float(bool(col["drift_detected"]))
            if "share_of_drifted_columns" in result:
                out["drift/share_of_drifted_columns"] = float(result["share_of_drifted_columns"])
                out["drift/number_of_drifted_columns"] = float(result["number_of_drifted_columns"])
                out["drift/number_of_columns"] = float(result["number_of_columns"])
                out["drift/dataset_drifted"] = float(bool(result["dataset_drift"]))
            continue
        # 0.7+: {"metric_id": "ValueDrift(column=x,method=...,threshold=...)", "value": 0.12}
        metric_id = str(item.get("metric_id") or item.get("metric_name") or "")
        value = item.get("value")
        match = _VALUE_DRIFT.match(metric_id)
        if match and isinstance(value, (int, float)):
            args = _args(match["args"])
            column = args.get("column")
            if column is not None:
                out[f"drift/{metric_key(column)}/score"] = float(value)
        elif metric_id.startswith("DriftedColumnsCount") and isinstance(value, dict):
            share = float(value.get("share", 0.0))
            out["drift/number_of_drifted_columns"] = float(value.get("count", 0))
            out["drift/share_of_drifted_columns"] = share
            args = _args(metric_id[metric_id.find("(") + 1 : -1])
            drift_share = float(args.get("drift_share", 0.5))
            out["drift/dataset_drifted"] = float(share >= drift_share)
    if not out:
        raise EvaluationInputError(
            "The Evidently report has no data drift results (add DataDriftPreset or "
            "DataDriftTable/ValueDrift metrics)"
        )
    return out


def log_evidently_report(
    report: Any, run_id: str | None = None, artifact_path: str = "evidently"
) -> dict[str, float]:
    """Log the report's drift metrics, its JSON and (where it can render it) its HTML into
    `run_id`, the active run, or a new run. Returns the metrics logged."""
    import os
    import tempfile

    from flightlog.evaluation.drift_report import DRIFT_TAG, finite
    from flightlog.evaluation.recording import target_run

    results = report_dict(report)
    metrics = drift_metrics(results)
    with (
        tempfile.TemporaryDirectory(prefix="flightlog-evidently-") as tmp,
        target_run(run_id) as writer,
    ):
        json_path = os.path.join(tmp, "report.json")
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump(finite(results), fh, indent=1, default=str)
        writer.log_artifact(json_path, artifact_path)
        save_html = getattr(report, "save_html", None)
        if callable(save_html):
            html_path = os.path.join(tmp, "report.html")
            save_html(html_path)
            writer.log_artifact(html_path, artifact_path)
        writer.log_metrics(metrics)
        writer.set_tags({DRIFT_TAG + ".evidently": artifact_path})
    return metrics
