"""Compact data for the UI's tables: experiment statistics, the keys an experiment's runs use,
and runs reduced to what a table row shows.

On the SQL store the statistics come from one aggregate query each; any other store is
answered from a bounded search instead (counts then say "at least").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flightlog.entities import Experiment, LifecycleStage, Run, ViewType

PARENT_TAG = "mlflow.parentRunId"
# Keys offered as table columns per experiment, most of any kind: a sweep over thousands of
# differently named metrics would otherwise produce a column chooser nobody can use.
MAX_KEYS = 500
_FALLBACK_RUN_SAMPLE = 1000


@dataclass
class ExperimentStats:
    run_count: int
    last_activity: int | None
    exact: bool = True


def _is_sql(store: Any) -> bool:
    from flightlog.store.sql import SqlStore

    return isinstance(store, SqlStore)


def experiment_stats(store: Any, experiments: Sequence[Experiment]) -> dict[str, ExperimentStats]:
    """Active run count and the latest start/end time of a run, per experiment id."""
    ids = [str(e.experiment_id) for e in experiments]
    out = {i: ExperimentStats(0, None) for i in ids}
    if _is_sql(store):
        import sqlalchemy as sa

        from flightlog.store import dbschema as db

        runs = db.runs
        query = (
            sa.select(
                runs.c.experiment_id,
                sa.func.count(),
                sa.func.max(runs.c.start_time),
                sa.func.max(runs.c.end_time),
            )
            .where(runs.c.lifecycle_stage == LifecycleStage.ACTIVE)
            .group_by(runs.c.experiment_id)
        )
        with store._read() as conn:
            for experiment_id, count, started, ended in conn.execute(query):
                stats = out.get(str(experiment_id))
                if stats is not None:
                    stats.run_count = int(count)
                    stats.last_activity = _latest(started, ended)
    else:
        for experiment_id in ids:
            page = store.search_runs([experiment_id], max_results=_FALLBACK_RUN_SAMPLE)
            stats = out[experiment_id]
            stats.run_count = len(page)
            stats.exact = not page.token
            for run in page:
                stats.last_activity = _latest(
                    stats.last_activity, run.info.start_time, run.info.end_time
                )
    for e in experiments:
        stats = out[str(e.experiment_id)]
        stats.last_activity = _latest(stats.last_activity, e.last_update_time)
    return out


def _latest(*values: int | None) -> int | None:
    present = [int(v) for v in values if v is not None]
    return max(present) if present else None


def experiment_keys(store: Any, experiment_id: str) -> tuple[list[str], list[str]]:
    """(param keys, metric keys) used by the experiment's active runs, sorted."""
    if not _is_sql(store):
        page = store.search_runs([experiment_id], max_results=_FALLBACK_RUN_SAMPLE)
        return keys_of_runs(page)
    import sqlalchemy as sa

    from flightlog.store import dbschema as db

    runs = db.runs
    try:
        experiment = int(experiment_id)
    except ValueError:
        return [], []
    of_experiment = (
        sa.select(runs.c.run_uuid)
        .where(runs.c.experiment_id == experiment)
        .where(runs.c.lifecycle_stage == LifecycleStage.ACTIVE)
    )
    found = []
    with store._read() as conn:
        for table in (db.params, db.latest_metrics):
            query = (
                sa.select(table.c.key)
                .where(table.c.run_uuid.in_(of_experiment))
                .distinct()
                .order_by(table.c.key)
                .limit(MAX_KEYS)
            )
            found.append([row[0] for row in conn.execute(query)])
    return found[0], found[1]


def keys_of_runs(runs: Iterable[Run]) -> tuple[list[str], list[str]]:
    params: set[str] = set()
    metrics: set[str] = set()
    for run in runs:
        params.update(run.data.params)
        metrics.update(run.data.metrics)
    return sorted(params)[:MAX_KEYS], sorted(metrics)[:MAX_KEYS]


def json_number(value: float) -> float | str:
    """A metric value JSON can carry: non-finite values as MLflow's strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def run_row(run: Run) -> dict[str, Any]:
    """A run as one row of the runs table (and the compare page)."""
    info, data = run.info, run.data
    return {
        "id": info.run_id,
        "name": info.run_name or "",
        "status": info.status,
        "start": info.start_time,
        "end": info.end_time,
        "user": info.user_id or "",
        "experiment_id": str(info.experiment_id),
        "parent": data.tags.get(PARENT_TAG) or None,
        "deleted": info.lifecycle_stage == LifecycleStage.DELETED,
        "params": dict(data.params),
        "metrics": {k: json_number(v) for k, v in data.metrics.items()},
    }


def runs_page(
    store: Any,
    experiment_id: str,
    filter_string: str = "",
    order_by: str | None = None,
    page_token: str | None = None,
    max_results: int = 100,
    view: str = "active",
) -> dict[str, Any]:
    view_type = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY}.get(
        view, ViewType.ALL
    )
    page = store.search_runs(
        [experiment_id],
        filter_string=filter_string,
        run_view_type=view_type,
        max_results=max_results,
        order_by=[order_by] if order_by else None,
        page_token=page_token or None,
    )
    return {"runs": [run_row(r) for r in page], "next_page_token": page.token}
