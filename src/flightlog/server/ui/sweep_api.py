"""The sweep panel of a parent run's page: its trials, and per-parameter importance.

- GET /ui-api/sweep?run_id=…             the sweep's summary and one row per trial (state,
                                         value, params, duration), the data of the trials
                                         table, the optimization-history chart and the
                                         parallel-coordinates chart;
- GET /ui-api/sweep/importance?run_id=…  per-parameter importance (sweep_importance.py), kept
                                         apart because Optuna's evaluator can take a while.

A trial's value is its child's latest value of the sweep's objective metric; its state is the
child's `flightlog.trial.state` tag, or what its run status implies.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from flightlog.entities import ViewType
from flightlog.exceptions import InvalidParameterError
from flightlog.server.deps import StoreDep
from flightlog.server.ui import sweep_importance
from flightlog.server.ui.summaries import json_number
from flightlog.server.wire import MlflowJSONResponse
from flightlog.validation import validate_run_id

router = APIRouter(include_in_schema=False)
UI_API = "/ui-api"
MAX_TRIALS = 5000
SWEEP_PREFIX = "flightlog.sweep."
_STATE_OF_STATUS = {"FINISHED": "COMPLETE", "FAILED": "FAILED", "KILLED": "KILLED"}


def _children(store: Any, parent: Any) -> list[Any]:
    out: list[Any] = []
    token = None
    query = f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    while len(out) < MAX_TRIALS:
        page = store.search_runs(
            [parent.info.experiment_id],
            query,
            ViewType.ACTIVE_ONLY,
            min(1000, MAX_TRIALS - len(out)),
            None,
            token,
        )
        out.extend(page)
        token = page.token
        if not token:
            break
    return out


def _trial_row(run: Any, objective: str, with_distributions: bool) -> dict[str, Any]:
    tags, info = run.data.tags, run.info
    state = tags.get("flightlog.trial.state") or _STATE_OF_STATUS.get(info.status, "RUNNING")
    number = tags.get("flightlog.trial.number")
    keys_raw = tags.get("flightlog.trial.param_keys")
    try:
        keys = json.loads(keys_raw) if keys_raw else None
    except ValueError:
        keys = None
    params = dict(run.data.params)
    if keys:
        params = {k: params[k] for k in keys if k in params}
    duration = run.data.metrics.get("trial_duration_s")
    if duration is None and info.end_time and info.start_time:
        duration = (info.end_time - info.start_time) / 1000
    row = {
        "id": info.run_id,
        "name": info.run_name or "",
        "number": int(number) if number and number.lstrip("-").isdigit() else None,
        "state": state,
        "status": info.status,
        "value": json_number(run.data.metrics[objective])
        if objective in run.data.metrics
        else None,
        "params": params,
        "duration_s": json_number(duration) if duration is not None else None,
        "error": tags.get("flightlog.trial.error"),
    }
    if with_distributions:
        row["distributions"] = sweep_importance.distributions_of(tags)
    return row


def sweep_data(store: Any, run_id: str, with_distributions: bool = False) -> dict[str, Any]:
    parent = store.get_run(validate_run_id(run_id))
    tags = parent.data.tags
    if "flightlog.sweep.key" not in tags:
        raise InvalidParameterError(f"Run {run_id} is not the parent run of a sweep")
    objective = (tags.get("flightlog.sweep.objective") or "value").split(",")[0]
    directions = (tags.get("flightlog.sweep.direction") or "minimize").split(",")
    trials = [_trial_row(r, objective, with_distributions) for r in _children(store, parent)]
    trials.sort(key=lambda t: (t["number"] is None, t["number"] or 0, t["id"]))
    return {
        "run_id": parent.info.run_id,
        "experiment_id": parent.info.experiment_id,
        "key": tags["flightlog.sweep.key"],
        "objective": objective,
        "direction": directions[0] if len(directions) == 1 else None,
        "summary": {
            k[len(SWEEP_PREFIX) :]: v
            for k, v in tags.items()
            if k.startswith(SWEEP_PREFIX) and not k.startswith(SWEEP_PREFIX + "member.")
        },
        "param_names": sorted({k for t in trials for k in t["params"]}),
        "trials": trials,
    }


@router.get(f"{UI_API}/sweep")
async def sweep(store: StoreDep, run_id: Annotated[str, Query(max_length=64)]) -> Response:
    return MlflowJSONResponse(await run_in_threadpool(sweep_data, store, run_id))


@router.get(f"{UI_API}/sweep/importance")
async def sweep_param_importance(
    store: StoreDep, run_id: Annotated[str, Query(max_length=64)]
) -> Response:
    def compute() -> dict[str, Any]:
        data = sweep_data(store, run_id, with_distributions=True)
        return sweep_importance.importance(data["trials"], data["direction"])

    return MlflowJSONResponse(await run_in_threadpool(compute))
