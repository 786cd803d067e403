"""FlightlogCallback: a Ray Tune callback making a Tune run one sweep.

    tuner = tune.Tuner(train, param_space=space,
                       tune_config=tune.TuneConfig(metric="loss", mode="min"),
                       run_config=tune.RunConfig(callbacks=[FlightlogCallback(metric="loss",
                                                                              mode="min")]))

On the driver: the parent run is opened when the experiment starts; each trial gets a child run
(params = the trial's config, flattened), every reported result is logged with
step = training_iteration, and the trial ends COMPLETE (it returned), PRUNED (stopped early by
the scheduler or a stopper: its last result is not `done`; run KILLED) or FAILED (run FAILED,
with Ray's error). The child's id is derived from the parent and the trial id, so the trial's
worker process (with autolog, see _trainable) logs into the same child.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

from ray.tune import Callback

from flightlog.entities import Metric
from flightlog_ray._ids import child_run_id

_SKIP = {"training_iteration", "done", "trial_id", "pid", "hostname", "node_ip", "date", "config"}


class FlightlogCallback(Callback):
    """Record a Tune run as a flightlog sweep (parent + one child per trial)."""

    def __init__(
        self,
        sweep_name: str | None = None,
        metric: str | None = None,
        mode: str | None = None,
        tracking_uri: str | None = None,
        experiment_id: str | None = None,
    ) -> None:
        import uuid

        self.sweep_name = sweep_name or f"ray-tune-{uuid.uuid4().hex[:8]}"
        self.metric = metric
        self.mode = mode
        self.tracking_uri = tracking_uri
        self.experiment_id = experiment_id
        self.handle: Any = None
        self._children: dict[str, Any] = {}
        self._numbers: dict[str, int] = {}

    # --- the parent ---------------------------------------------------------------------------
    def open(self) -> Any:
        if self.handle is None:
            from flightlog import fluent
            from flightlog.client import TrackingClient
            from flightlog.sweeps.handle import open_sweep

            client = TrackingClient(self.tracking_uri) if self.tracking_uri else fluent._client()
            direction = {"min": "minimize", "max": "maximize"}.get(self.mode or "min")
            self.handle = open_sweep(
                client,
                self.sweep_name,
                self.metric or "value",
                direction,
                experiment_id=self.experiment_id,
                tags={"mlflow.autologging": "ray"},
            )
        return self.handle

    def setup(self, **info: Any) -> None:
        self.open()

    def close(self, status: str = "FINISHED") -> None:
        if self.handle is None:
            return
        for trial_id in list(self._children):
            self._end(trial_id, "KILLED", error=RuntimeError("the Tune run ended first"))
        self.handle.close(status)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        self.close()

    # --- trials -------------------------------------------------------------------------------
    def _child(self, trial: Any, trials: list | None = None) -> Any:
        child = self._children.get(trial.trial_id)
        if child is None:
            handle = self.open()
            number = self._numbers.setdefault(trial.trial_id, len(self._numbers))
            params = _flatten(getattr(trial, "config", {}) or {})
            child = handle.trial(
                number,
                {k: v for k, v in params.items()},
                run_name=str(trial),
                tags={"flightlog.ray.trial_id": trial.trial_id},
                run_id=child_run_id(handle.run_id, trial.trial_id),
            )
            self._children[trial.trial_id] = child
        return child

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._child(trial, trials)

    def on_trial_result(
        self, iteration: int, trials: list, trial: Any, result: dict, **info: Any
    ) -> None:
        child = self._child(trial, trials)
        step = int(result.get("training_iteration") or 0)
        now = time.time_ns() // 1_000_000
        metrics = []
        for key, value in _flatten(result).items():
            if key in _SKIP or key.startswith("config/"):
                continue
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                if key == child.handle.objective:
                    child.report(float(value), step)
                else:
                    metrics.append(Metric(key, float(value), now, step))
        if metrics:
            child.handle.client.log_batch(child.info.run_id, metrics=metrics[:1000])

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        last = getattr(trial, "last_result", None) or {}
        self._child(trial, trials)
        state = "COMPLETE" if last.get("done") else "PRUNED"
        value = last.get(self.handle.objective)
        ok = isinstance(value, numbers.Real) and not math.isnan(float(value))
        self._end(trial.trial_id, state, value=float(value) if ok and state == "COMPLETE" else None)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._child(trial, trials)
        message = _error_text(trial)
        self._end(trial.trial_id, "FAILED", error=_TrialError(message))

    def _end(self, trial_id: str, state: str, value: float | None = None, error=None) -> None:
        child = self._children.pop(trial_id, None)
        if child is not None:
            child.end(state, value=value, error=error)


class _TrialError(RuntimeError):
    """The error Ray reported for a trial (its worker's exception, as text)."""


def _error_text(trial: Any) -> str:
    for attr in ("error_msg", "error_message"):
        text = getattr(trial, attr, None)
        if text:
            return str(text)
    path = getattr(trial, "error_file", None)
    if path:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            pass
    return "the trial failed (Ray reported an error)"


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out
