"""Sweeps: a hyperparameter search is one parent run with one child run per trial.

    with flightlog.sweep("lr-search", objective="val_loss", direction="minimize") as sweep:
        for lr in (0.1, 0.01, 0.001):
            with sweep.trial(params={"lr": lr}) as trial:
                for epoch in range(10):
                    trial.report(train(lr, epoch), step=epoch)

The parent is found or created by the sweep's key in the active experiment, so every process
that opens the same sweep joins the same parent (threads, multiprocessing pools, several
machines on one tracking server). Trials are child runs that end COMPLETE (FINISHED), PRUNED
(KILLED + tag) or FAILED (+ the exception); the parent keeps a live summary. Details, and how
the context-local run of a trial relates to the process-wide active-run stack: docs/sweeps.md.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from flightlog import context_runs, fluent
from flightlog.entities import RunStatus
from flightlog.sweeps import names
from flightlog.sweeps.handle import SweepHandle, open_sweep, sweep_run_id
from flightlog.sweeps.trial import Trial, TrialPruned

_env_lock = threading.Lock()


class SweepRun(fluent.ActiveRun):
    """The parent run of a sweep, made the active run; `with` leaves the sweep on exit."""

    def __init__(self, handle: SweepHandle) -> None:
        super().__init__(handle.run)
        self.handle = handle
        self._client = handle.client
        self._thread = threading.get_ident()
        self._saved_env: dict[str, tuple[str | None, str]] | None = None

    @property
    def key(self) -> str:
        return self.handle.key

    def trial(
        self, number: int | None = None, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Trial:
        """A new trial (child run); see SweepHandle.trial."""
        return self.handle.trial(number, params, **kwargs)

    def child_env(self) -> dict[str, str]:
        return self.handle.child_env()

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.handle.log_params(params)

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        self._leave_stack()
        self._on_end(status)
        return False

    def close(self, status: str = RunStatus.FINISHED) -> bool:
        """Leave the sweep (the plain-call form's end); True when this ended the parent."""
        self._leave_stack()
        return self._on_end(status)

    def _leave_stack(self) -> None:
        run_id = self.info.run_id
        context_runs.remove(run_id)
        with fluent._lock:
            fluent._active_runs[:] = [r for r in fluent._active_runs if r is not self]

    def _on_end(self, status: str) -> bool:
        """Called instead of ending the run when fluent.end_run() pops this run."""
        self._restore_env()
        fluent._last_active_run_id = self.info.run_id
        return self.handle.close(status)

    def _export_env(self) -> None:
        """Processes started inside the sweep log their runs as its children."""
        values = {
            names.PARENT_RUN_ENV: self.info.run_id,
            names.SWEEP_KEY_ENV: self.handle.key,
        }
        if not (os.environ.get("FLIGHTLOG_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI")):
            values["FLIGHTLOG_TRACKING_URI"] = self.handle.client.tracking_uri
        with _env_lock:
            self._saved_env = {k: (os.environ.get(k), v) for k, v in values.items()}
            os.environ.update(values)

    def _restore_env(self) -> None:
        with _env_lock:
            saved, self._saved_env = self._saved_env, None
            for key, (old, ours) in (saved or {}).items():
                if os.environ.get(key) != ours:
                    continue  # changed by someone else since: leave theirs
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old


def sweep(
    name: str,
    objective: str | Sequence[str] | None = None,
    direction: str | Sequence[str] | None = None,
    *,
    experiment_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> SweepRun:
    """Open (or join) the sweep `name` in the active experiment and make its parent the active
    run. A context manager; as a plain call, end it with `.close()` or `flightlog.end_run()`.

    `objective` names the metric(s) a trial's value is logged as (default "value"), `direction`
    is "minimize" (default) or "maximize" (a list of both for multi-objective sweeps).
    """
    handle = open_sweep(
        fluent._client(),
        name,
        objective,
        direction,
        experiment_id=experiment_id,
        params=params,
        tags=tags,
    )
    run = SweepRun(handle)
    with fluent._lock:
        top = fluent._active_runs[-1] if fluent._active_runs else None
        foreign = top is not None and getattr(top, "_thread", None) not in (
            None,
            threading.get_ident(),
        )
        if context_runs.top() is not None or foreign:
            context_runs.push(run)
        else:
            fluent._active_runs.append(run)
        fluent._last_active_run_id = run.info.run_id
    run._export_env()
    return run


__all__ = [
    "SweepHandle",
    "SweepRun",
    "Trial",
    "TrialPruned",
    "names",
    "open_sweep",
    "sweep",
    "sweep_run_id",
]
