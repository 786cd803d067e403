"""A trial: one child run of a sweep, and the state it ends in."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from typing import Any

from flightlog import context_runs
from flightlog.entities import Metric, RunTag
from flightlog.exceptions import FlightlogError, RunNotActiveError
from flightlog.fluent import ActiveRun
from flightlog.sweeps import names


class TrialPruned(FlightlogError):
    """Raised by `Trial.prune()`: the trial ends PRUNED (run KILLED + tag) and the `with` block
    swallows it. Any exception class named TrialPruned (Optuna's, for instance) is a prune too,
    but only flightlog's own is swallowed."""

    error_code = "TRIAL_PRUNED"


def state_for(error: BaseException | None) -> str:
    if error is None:
        return names.COMPLETE
    if type(error).__name__ == "TrialPruned":
        return names.PRUNED
    if isinstance(error, KeyboardInterrupt):
        return names.KILLED
    return names.FAILED


class Trial(ActiveRun):
    """A sweep's child run. `with sweep.trial(...) as trial:` makes it this thread's active run."""

    def __init__(self, run: Any, handle: Any, number: int, params: dict[str, Any]) -> None:
        super().__init__(run)
        self._client = handle.client
        self.handle = handle
        self.number = number
        self.params = params
        self._values: list[float] | None = None
        self._last_step: int | None = None
        self._started = time.monotonic()
        self._ended = False

    # --- recording --------------------------------------------------------------------------
    def report(self, value: float, step: int, key: str | None = None) -> None:
        """An intermediate value, as metric history (key: the sweep's objective) at `step`."""
        self._client.log_metric(
            self.info.run_id, key or self.handle.objective, float(value), step=step
        )
        if key is None:
            self._last_step = step if self._last_step is None else max(self._last_step, step)
            self._values = [float(value)]

    def set_value(self, value: float | Sequence[float]) -> None:
        """The trial's final objective value(s), logged under the objective name(s)."""
        values = [float(v) for v in value] if isinstance(value, Sequence) else [float(value)]
        if len(values) != len(self.handle.objectives):
            raise ValueError(
                f"Sweep {self.handle.key!r} has {len(self.handle.objectives)} objective(s), "
                f"got {len(values)} value(s)"
            )
        step = 0 if self._last_step is None else self._last_step + 1
        now = time.time_ns() // 1_000_000
        # A value equal to the last reported intermediate one is that point: not logged twice.
        if not (self._last_step is not None and self._values == values):
            metrics = [
                Metric(name, v, now, step)
                for name, v in zip(self.handle.objectives, values, strict=True)
            ]
            self._client.log_batch(self.info.run_id, metrics=metrics)
        self._values = values

    @property
    def values(self) -> list[float] | None:
        return self._values

    def prune(self) -> None:
        raise TrialPruned(f"trial {self.number} of sweep {self.handle.key!r} was pruned")

    # --- ending -----------------------------------------------------------------------------
    def __enter__(self) -> Trial:
        context_runs.push(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        context_runs.remove(self.info.run_id)
        self.end(state_for(exc), error=exc)
        return isinstance(exc, TrialPruned)

    def end(
        self,
        state: str = names.COMPLETE,
        value: float | Sequence[float] | None = None,
        error: BaseException | None = None,
        extra_tags: dict[str, str] | None = None,
        duration_s: float | None = None,
    ) -> None:
        """End the trial in `state` (COMPLETE, PRUNED, FAILED or KILLED) and update the parent."""
        from flightlog.sweeps.handle import error_tags

        if self._ended:
            return
        self._ended = True
        if state not in names.STATES:
            raise ValueError(f"Unknown trial state {state!r}; use one of {names.STATES}")
        run_id = self.info.run_id
        context_runs.forget(run_id)
        try:
            if value is not None:
                self.set_value(value)
            values = self._values if state == names.COMPLETE else None
            if values is None and state == names.COMPLETE:
                values = self._values_from_run()
            tags = {names.TRIAL_STATE_TAG: state, **(extra_tags or {})}
            if error is not None and state in (names.FAILED, names.KILLED):
                tags.update(error_tags(error))
            if self.params and names.TRIAL_PARAMS_TAG not in self.data.tags:
                tags[names.TRIAL_PARAMS_TAG] = json.dumps(sorted(map(str, self.params)))[:7900]
            now = time.time_ns() // 1_000_000
            if duration_s is None:
                duration_s = time.monotonic() - self._started
            duration = Metric(names.TRIAL_DURATION_METRIC, duration_s, now, 0)
            self._client.log_batch(
                run_id, metrics=[duration], tags=[RunTag(k, v) for k, v in tags.items()]
            )
            self._client.set_terminated(run_id, names.RUN_STATUS[state])
        except RunNotActiveError:
            values = self._values  # ended already (end_run() inside the block): keep its status
        if values is not None and any(math.isnan(v) for v in values):
            values = None
        self.handle._trial_ended(self, state, values)

    def _values_from_run(self) -> list[float] | None:
        """The latest value of each objective metric the trial logged itself."""
        metrics = self._client.get_run(self.info.run_id).data.metrics
        found = [metrics.get(name) for name in self.handle.objectives]
        if any(v is None for v in found):
            return None
        return [float(v) for v in found]
