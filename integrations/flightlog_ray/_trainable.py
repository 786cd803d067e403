"""Inside a trial's worker process: the trial's child run as the active run of the trainable.

Autolog wraps a function trainable so that, in the worker, it first creates (or finds) the
trial's child run (id derived from the parent and the Tune trial id, see _ids) and makes it the
context-local active run (flightlog.context_runs) of the thread Tune runs the function on:
`flightlog.log_*` calls and autologged training inside the trainable land in the trial's child.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flightlog_ray._ids import child_run_id


def wrap_function(func: Callable[..., Any], target: dict[str, str]) -> Callable[..., Any]:
    """`func` run inside its trial's child run; `target` holds tracking_uri, experiment_id
    and parent_run_id (plain strings: the wrapper is pickled to the workers)."""

    @functools.wraps(func)
    def trainable(config: dict) -> Any:
        bound = _bind(target)
        try:
            return func(config)
        finally:
            _release(bound)

    trainable._flightlog_wrapped = True  # type: ignore[attr-defined]
    return trainable


def _bind(target: dict[str, str]) -> Any:
    try:
        from ray import tune

        from flightlog import context_runs
        from flightlog.client import TrackingClient
        from flightlog.context import system_tags
        from flightlog.fluent import ActiveRun

        trial_id = tune.get_context().get_trial_id()
        if not trial_id:
            return None
        client = TrackingClient(target["tracking_uri"])
        tags = system_tags()
        tags["mlflow.parentRunId"] = target["parent_run_id"]
        tags["flightlog.ray.trial_id"] = trial_id
        run = client.create_run(
            target["experiment_id"],
            tags=tags,
            run_name=tune.get_context().get_trial_name() or None,
            run_id=child_run_id(target["parent_run_id"], trial_id),
        )
        active = ActiveRun(run)
        active._client = client
        context_runs.push(active)
        return active
    except Exception as exc:  # noqa: BLE001 - tracking trouble never fails a trial
        import logging

        logging.getLogger("flightlog").warning(
            "flightlog: could not open the trial's run in the worker: %s", exc
        )
        return None


def _release(active: Any) -> None:
    if active is None:
        return
    import flightlog
    from flightlog import context_runs

    context_runs.remove(active.info.run_id)
    flightlog.flush(timeout=60)  # the worker may be torn down as soon as the function returns
