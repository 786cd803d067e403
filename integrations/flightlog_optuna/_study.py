"""One Optuna study as one flightlog sweep: the parent run, and a child run per trial.

The sweep's key is the study's name, so every process running the same study over a shared
Optuna RDB storage joins the same parent. A trial's child run is created when the objective
starts (so anything logged or autologged inside the objective lands in it, even with
`n_jobs>1`: the child is this worker thread's context-local run) and ended when Optuna has
told the trial's outcome: COMPLETE, PRUNED (run KILLED + tag), FAIL (run FAILED + the
exception, or the reason Optuna rejected the returned value).

Only public flightlog names are used, apart from `flightlog.context_runs` (binding a run to
the objective's thread), so this module moves to the plugin API unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from flightlog import context_runs
from flightlog.entities import Metric, Param, RunTag
from flightlog.exceptions import ParamConflictError
from flightlog.sweeps import names
from flightlog.sweeps.handle import SweepHandle, open_sweep

INTERMEDIATE_METRIC = "intermediate_value"
DISTRIBUTION_TAG = "flightlog.optuna.distribution.{}"
OPTUNA_STATE_TAG = "flightlog.optuna.state"
ENQUEUED_TAG = "flightlog.optuna.enqueued"
TRIAL_ID_TAG = "flightlog.optuna.trial_id"
USER_ATTR_TAG = "flightlog.optuna.user_attr.{}"
PARETO_TAG = "flightlog.optuna.pareto_trials"

_STATES = {"COMPLETE": names.COMPLETE, "PRUNED": names.PRUNED, "FAIL": names.FAILED}


def objective_names(study: Any, metric_name: str | list[str] | None = None) -> list[str]:
    count = len(study.directions)
    if metric_name is not None:
        chosen = [metric_name] if isinstance(metric_name, str) else list(metric_name)
        if len(chosen) != count:
            raise ValueError(f"metric_name needs {count} name(s) for this study, got {chosen}")
        return chosen
    study_names = getattr(study, "metric_names", None)
    if study_names:
        return list(study_names)
    return ["value"] if count == 1 else [f"value_{i}" for i in range(count)]


def _direction_names(study: Any) -> list[str]:
    return [d.name.lower() for d in study.directions]


class StudyTracker:
    """The sweep of one study in this process; thread-safe (Optuna's n_jobs threads share it)."""

    def __init__(
        self,
        study: Any,
        *,
        metric_name: str | list[str] | None = None,
        tracking_uri: str | None = None,
        experiment_id: str | None = None,
        tags: dict[str, Any] | None = None,
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        import flightlog

        self.study = study
        self._on_error = on_error
        self.objectives = objective_names(study, metric_name)
        client = flightlog.TrackingClient(tracking_uri) if tracking_uri else None
        if client is None:
            from flightlog import fluent

            client = fluent._client()
        parent_tags = dict(tags or {})
        active = flightlog.active_run()
        if active is not None and names.SWEEP_KEY_TAG not in active.data.tags:
            # A study optimized inside the user's own run: the sweep nests under it.
            parent_tags.setdefault(names.PARENT_RUN_TAG, active.info.run_id)
            experiment_id = experiment_id or active.info.experiment_id
        parent_tags["flightlog.optuna.storage"] = type(study._storage).__name__
        self.handle: SweepHandle = open_sweep(
            client,
            study.study_name,
            self.objectives,
            _direction_names(study),
            experiment_id=experiment_id,
            tags=parent_tags,
        )
        self._lock = threading.Lock()
        self._children: dict[int, Any] = {}
        self._errors: dict[int, BaseException] = {}
        self._closed = False
        self.handle.log_params(self.study_params(study))

    @staticmethod
    def study_params(study: Any) -> dict[str, str]:
        """What identifies the search, the same in every process of the study."""
        directions = _direction_names(study)
        params = {
            "study_name": study.study_name,
            "sampler": type(study.sampler).__name__,
            "pruner": type(getattr(study, "pruner", None)).__name__,
        }
        if len(directions) == 1:
            params["direction"] = directions[0]
        else:
            params["directions"] = ",".join(directions)
        return params

    # --- one trial ------------------------------------------------------------------------------
    def begin(self, trial: Any) -> Any:
        """The trial's child run (created now), bound to the calling thread's context."""
        child = self.handle.trial(
            trial.number,
            tags={TRIAL_ID_TAG: str(trial._trial_id)},
            run_name=f"trial-{trial.number}",
        )
        with self._lock:
            self._children[trial.number] = child
        context_runs.push(child)
        return child

    def release(self, trial: Any, error: BaseException | None, catch: tuple) -> None:
        """After the objective returned or raised (on its thread): unbind the child; a failure
        Optuna will re-raise (so no callback runs) ends the child now."""
        with self._lock:
            child = self._children.get(trial.number)
        if child is None:
            return
        context_runs.remove(child.info.run_id)
        if error is None:
            return
        with self._lock:
            self._errors[trial.number] = error
        pruned = type(error).__name__ == "TrialPruned"
        if not pruned and not isinstance(error, catch):
            state = names.KILLED if isinstance(error, KeyboardInterrupt) else names.FAILED
            self._end_child(trial.number, state, trial=trial, error=error)

    def finish(self, frozen: Any) -> None:
        """Optuna's verdict on a trial (the callback): record it in the child, end the child."""
        state = _STATES.get(frozen.state.name, names.KILLED)
        error = None
        with self._lock:
            error = self._errors.pop(frozen.number, None)
        if state == names.FAILED and error is None:
            reason = frozen.system_attrs.get("fail_reason") or (
                f"the objective returned {frozen.values!r}, which Optuna rejected"
            )
            error = ValueError(str(reason))
        self._end_child(frozen.number, state, frozen=frozen, error=error)

    def _end_child(
        self,
        number: int,
        state: str,
        *,
        frozen: Any = None,
        trial: Any = None,
        error: BaseException | None = None,
    ) -> None:
        with self._lock:
            child = self._children.pop(number, None)
        if child is None:
            if frozen is None:
                return
            # FlightlogCallback without track_in_flightlog(): the child is made after the fact.
            start = frozen.datetime_start
            child = self.handle.trial(
                number,
                tags={TRIAL_ID_TAG: str(frozen._trial_id)},
                run_name=f"trial-{number}",
                start_time=int(start.timestamp() * 1000) if start else None,
            )
        source = frozen if frozen is not None else trial
        params = dict(source.params)
        distributions = dict(source.distributions)
        child.params = params
        client = self.handle.client
        run_id = child.info.run_id
        _log_params(client, run_id, params)
        tags = {OPTUNA_STATE_TAG: frozen.state.name if frozen is not None else "FAIL"}
        for name, dist in distributions.items():
            tags[DISTRIBUTION_TAG.format(name)] = _distribution_json(dist)[:7900]
        metrics = []
        duration = None
        if frozen is not None:
            if "fixed_params" in frozen.system_attrs:
                tags[ENQUEUED_TAG] = "true"
            for key, value in frozen.user_attrs.items():
                tags[USER_ATTR_TAG.format(key)] = str(value)[:7900]
            now = _now_ms()
            for step, value in sorted(frozen.intermediate_values.items()):
                metrics.append(Metric(INTERMEDIATE_METRIC, float(value), now, int(step)))
            if frozen.duration is not None:
                duration = frozen.duration.total_seconds()
        for start in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[start : start + 1000])
        values = None
        if frozen is not None and state == names.COMPLETE and frozen.values is not None:
            values = [float(v) for v in frozen.values]
        child.end(state, value=values, error=error, extra_tags=tags, duration_s=duration)

    # --- the whole optimize() -------------------------------------------------------------------
    def wrap(self, func: Callable[[Any], Any], catch: tuple) -> Callable[[Any], Any]:
        """The objective, run inside its trial's child run."""

        def objective(trial: Any) -> Any:
            try:
                self.begin(trial)
            except Exception as exc:  # noqa: BLE001 - tracking trouble never fails a trial
                self._fault("starting the trial's run", exc)
                return func(trial)
            try:
                result = func(trial)
            except BaseException as exc:
                self._guarded("ending the trial's run", self.release, trial, exc, catch)
                raise
            self._guarded("ending the trial's run", self.release, trial, None, catch)
            return result

        objective.__wrapped__ = func  # type: ignore[attr-defined]
        return objective

    def finish_callback(self, study: Any, frozen: Any) -> None:
        """The callback optimize() gets: Optuna's verdict on each trial."""
        self._guarded("recording the trial", self.finish, frozen)

    def _guarded(self, what: str, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - reported (raised in test mode), never fatal
            self._fault(what, exc)

    def _fault(self, what: str, exc: BaseException) -> None:
        if self._on_error is None:
            raise exc
        self._on_error(what, exc)

    def close(self, status: str = "FINISHED") -> bool:
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            leftover = list(self._children)
        for number in leftover:
            self._end_child(number, names.KILLED, error=RuntimeError("optimize() ended first"))
        if len(self.study.directions) > 1:
            try:
                pareto = [t.number for t in self.study.best_trials]
                self.handle.set_tags({PARETO_TAG: json.dumps(pareto)[:7900]})
            except Exception:  # noqa: BLE001 - a study with no complete trial has no front
                pass
        return self.handle.close(status)


def _log_params(client: Any, run_id: str, params: dict[str, Any]) -> None:
    batch = [Param(str(k), str(v)[:6000]) for k, v in params.items()]
    try:
        client.log_batch(run_id, params=batch)
    except ParamConflictError:
        # The objective (or an autologged fit) logged one of these names with another value:
        # keep theirs, log the rest one by one, and keep the trial's value as a tag.
        for param in batch:
            try:
                client.log_batch(run_id, params=[param])
            except ParamConflictError:
                client.log_batch(
                    run_id, tags=[RunTag(f"flightlog.optuna.param.{param.key}", param.value)]
                )


def _distribution_json(dist: Any) -> str:
    try:
        from optuna.distributions import distribution_to_json

        return distribution_to_json(dist)
    except Exception:  # noqa: BLE001 - a custom distribution: its repr says enough
        return repr(dist)


def _now_ms() -> int:
    import time

    return time.time_ns() // 1_000_000
