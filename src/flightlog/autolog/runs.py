"""Which run an autologged call logs into, and ending the runs autolog started.

MLflow's rules: with no active run, autolog starts one (tagged `mlflow.autologging=<name>` plus
`extra_tags`) and ends it when the outermost patched call returns; with an active run, it logs
into it, unless `exclusive=True` and that run was created by the user.

The fluent active-run stack is process-wide, so a run autolog started in one thread is visible
to others. A call in a second thread that finds another thread's autolog run active gets its own
run instead, created through the client and not put on the stack.

Sweeps (flightlog.sweeps): `fluent.active_run()` answers this thread's context-local run first,
so a `fit` inside a trial running on a worker thread logs into that trial's child run. A call
that finds a sweep *parent* active (a loop of fits inside `with flightlog.sweep(...)`, no trial
opened) starts a child of it rather than logging into the parent, so the parent only ever
holds the sweep's summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flightlog.entities import Metric, RunStatus

AUTOLOGGING_TAG = "mlflow.autologging"
SWEEP_KEY_TAG = "flightlog.sweep.key"
PARENT_RUN_TAG = "mlflow.parentRunId"

# Runs started by autolog and still open: run id -> ident of the thread that owns it.
_autolog_runs: dict[str, int] = {}
_lock = threading.Lock()


@dataclass
class RunHandle:
    """The run one autologged call logs into."""

    run_id: str
    experiment_id: str
    created: bool  # started by autolog (so autolog ends it)
    on_stack: bool  # pushed on the fluent active-run stack
    start_time: int | None = None
    context_local: bool = False  # pushed on this context's stack (flightlog.context_runs)


def client():
    """The fluent API's client for the current tracking URI (shared store and queue)."""
    from flightlog import fluent

    return fluent._client()


def open_run(integration: str, config: Any) -> RunHandle | None:
    """The run to log into, starting one if needed; None when `exclusive` forbids logging."""
    from flightlog import fluent

    active = fluent.active_run()
    tags = {AUTOLOGGING_TAG: integration, **(config.extra_tags or {})}
    if active is not None and SWEEP_KEY_TAG in active.data.tags:
        return _start_sweep_child(active, tags)
    if active is not None:
        run_id = active.info.run_id
        with _lock:
            owner = _autolog_runs.get(run_id)
        if owner is None:
            if config.exclusive:
                return None
            return RunHandle(
                run_id, active.info.experiment_id, False, False, active.info.start_time
            )
        if owner == threading.get_ident():
            # Our own thread's autolog run (a second outermost call inside a user callback).
            return RunHandle(
                run_id, active.info.experiment_id, False, False, active.info.start_time
            )
        return _create_off_stack(integration, tags)
    try:
        run = fluent.start_run(tags=tags)
    except Exception:  # noqa: BLE001 - another thread started a run between our check and now
        if fluent.active_run() is None:
            raise
        return _create_off_stack(integration, tags)
    with _lock:
        _autolog_runs[run.info.run_id] = threading.get_ident()
    return RunHandle(run.info.run_id, run.info.experiment_id, True, True, run.info.start_time)


def _start_sweep_child(parent: Any, tags: dict[str, str]) -> RunHandle:
    """A child of the active sweep parent, started through fluent (its placement rules put it on
    this thread's context stack, or nested on the process-wide one on the parent's thread)."""
    from flightlog import context_runs, fluent

    run = fluent.start_run(tags=tags, parent_run_id=parent.info.run_id, nested=True)
    with _lock:
        _autolog_runs[run.info.run_id] = threading.get_ident()
    local = context_runs.contains(run.info.run_id)
    return RunHandle(
        run.info.run_id, run.info.experiment_id, True, True, run.info.start_time, local
    )


def _create_off_stack(integration: str, tags: dict[str, str]) -> RunHandle:
    from flightlog import fluent
    from flightlog.context import system_tags

    all_tags = {**system_tags(), **tags}
    run = client().create_run(fluent._resolve_experiment_id(None), tags=all_tags)
    with _lock:
        _autolog_runs[run.info.run_id] = threading.get_ident()
    return RunHandle(run.info.run_id, run.info.experiment_id, True, False, run.info.start_time)


def close_run(handle: RunHandle, status: str) -> list[str]:
    """End a run autolog started (FINISHED, FAILED or KILLED); runs it did not start stay open.

    Returns the ids of other runs it had to end: runs started inside the call and left open
    above ours on the active-run stack (test mode reports those as a bug)."""
    from flightlog import fluent

    if not handle.created:
        return []
    with _lock:
        _autolog_runs.pop(handle.run_id, None)
    if not handle.on_stack:
        client().set_terminated(handle.run_id, status)
        return []
    if handle.context_local:
        fluent._end_context_run(handle.run_id, status)
        return []
    with fluent._lock:
        on_stack = any(r.info.run_id == handle.run_id for r in fluent._active_runs)
    left_open: list[str] = []
    while on_stack:
        top = fluent.active_run()
        if top is None:
            break
        fluent.end_run(status)
        if top.info.run_id == handle.run_id:
            break
        left_open.append(top.info.run_id)
    return left_open


def active_run_ids() -> list[str]:
    from flightlog import fluent

    with fluent._lock:
        return [r.info.run_id for r in fluent._active_runs]


def status_for(exc: BaseException | None) -> str:
    if exc is None:
        return RunStatus.FINISHED
    if isinstance(exc, KeyboardInterrupt):
        return RunStatus.KILLED
    return RunStatus.FAILED


def create_child_run(
    parent: RunHandle,
    integration: str,
    tags: Mapping[str, Any],
    start_time: int | None = None,
) -> str:
    """A run nested under `parent` (tag mlflow.parentRunId), never put on the active-run stack."""
    from flightlog.context import system_tags

    all_tags = {
        **system_tags(),
        AUTOLOGGING_TAG: integration,
        **tags,
        PARENT_RUN_TAG: parent.run_id,
    }
    run = client().create_run(parent.experiment_id, start_time=start_time, tags=all_tags)
    return run.info.run_id


def log_to_run(
    run_id: str,
    metrics: Mapping[str, float] | None = None,
    step: int = 0,
    tracking_uri: str | None = None,
) -> None:
    """Log metrics to a run that may have ended already (post-training metrics).

    TrackingClient refuses writes to terminated runs (`_check_writable`), which is right for
    users; autolog's own late metrics (an `accuracy_score` on a model whose autolog run ended
    when `fit` returned, as MLflow does) go through the logging queue directly, validated the
    same way, so they are batched and never block the caller.
    """
    from flightlog import validation as v

    if not metrics:
        return
    now = time.time_ns() // 1_000_000
    points = []
    for key, value in metrics.items():
        v.validate_key(key, "Metric")
        points.append(Metric(key, v.validate_metric_value(key, value), now, step))
    target = client() if tracking_uri is None else _client_for(tracking_uri)
    target._queue.submit(target._store, run_id, metrics=points)


_clients: dict[str, Any] = {}


def _client_for(tracking_uri: str):
    from flightlog.client import TrackingClient

    found = _clients.get(tracking_uri)
    if found is None:
        found = _clients[tracking_uri] = TrackingClient(tracking_uri)
    return found


def current_tracking_uri() -> str:
    from flightlog.config import get_tracking_uri

    return get_tracking_uri()


def flush_runs(run_ids: Sequence[str]) -> None:
    queue = client()._queue
    for run_id in run_ids:
        queue.flush(run_id)
