"""search_runs results as a pandas DataFrame with MLflow's column names."""

from __future__ import annotations

from collections.abc import Sequence

from flightlog.entities import Run


def runs_to_dataframe(runs: Sequence[Run]):
    import pandas as pd

    base_cols = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
    metric_keys = sorted({k for r in runs for k in r.data.metrics})
    param_keys = sorted({k for r in runs for k in r.data.params})
    tag_keys = sorted({k for r in runs for k in r.data.tags})

    columns: dict[str, list] = {c: [] for c in base_cols}
    columns.update({f"metrics.{k}": [] for k in metric_keys})
    columns.update({f"params.{k}": [] for k in param_keys})
    columns.update({f"tags.{k}": [] for k in tag_keys})
    for r in runs:
        info = r.info
        columns["run_id"].append(info.run_id)
        columns["experiment_id"].append(info.experiment_id)
        columns["status"].append(info.status)
        columns["artifact_uri"].append(info.artifact_uri)
        columns["start_time"].append(info.start_time)
        columns["end_time"].append(info.end_time)
        for k in metric_keys:
            columns[f"metrics.{k}"].append(r.data.metrics.get(k))
        for k in param_keys:
            columns[f"params.{k}"].append(r.data.params.get(k))
        for k in tag_keys:
            columns[f"tags.{k}"].append(r.data.tags.get(k))

    frame = pd.DataFrame(columns)
    # MLflow returns times as timezone-aware datetimes.
    for col in ("start_time", "end_time"):
        frame[col] = pd.to_datetime(frame[col], unit="ms", utc=True)
    for k in metric_keys:
        frame[f"metrics.{k}"] = frame[f"metrics.{k}"].astype("float64")
    return frame
