"""A sweep's parent run, found or created by key, and the trials (child runs) under it.

`open_sweep(client, key)` derives the parent's run id from the experiment and the key
(uuid5), and creates the run with that id through the store's idempotent `create_run(run_id=)`:
the database's primary key (or `flightlog server`, which passes the id on to its store) makes
N processes that open the same sweep at once end up with one parent; a terminated parent is
reopened, so later processes join it. See docs/sweeps.md.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from flightlog.entities import Metric, Param, RunStatus, RunTag
from flightlog.exceptions import (
    InvalidParameterError,
    ParamConflictError,
    RunNotActiveError,
)
from flightlog.sweeps import names, processes, summary

_log = logging.getLogger("flightlog")
_NAMESPACE = uuid.UUID("5b0d3a52-8f1e-4a53-9a59-0f0c1d2e7a61")
_member_numbers = itertools.count()
MAX_ERROR_CHARS = 4000
# How stale the other processes' share of the live summary may get (the final one is exact).
REFRESH_S = 2.0


def sweep_run_id(experiment_id: str, key: str) -> str:
    """The parent run id of sweep `key` in an experiment: the same in every process."""
    return uuid.uuid5(_NAMESPACE, f"flightlog-sweep\x00{experiment_id}\x00{key}").hex


def _as_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _objectives(
    objective: str | Sequence[str] | None, direction: str | Sequence[str] | None
) -> tuple[list[str], list[str]]:
    objectives = _as_list(objective)
    directions = _as_list(direction)
    if directions is not None:
        for d in directions:
            if d not in names.DIRECTIONS:
                raise InvalidParameterError(
                    f"Sweep direction must be 'minimize' or 'maximize', got {d!r}"
                )
    if objectives is None:
        count = len(directions) if directions else 1
        objectives = ["value"] if count == 1 else [f"value_{i}" for i in range(count)]
    if directions is None:
        directions = ["minimize"] * len(objectives)
    if len(directions) != len(objectives):
        raise InvalidParameterError(
            f"A sweep with {len(objectives)} objective(s) {objectives} needs as many directions, "
            f"got {directions}"
        )
    return objectives, directions


def open_sweep(
    client: Any,
    key: str,
    objective: str | Sequence[str] | None = None,
    direction: str | Sequence[str] | None = None,
    *,
    experiment_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    run_name: str | None = None,
) -> SweepHandle:
    """Open the sweep `key` (creating its parent run) or join it; returns this process's handle."""
    from flightlog import fluent
    from flightlog.context import system_tags

    if not isinstance(key, str) or not key.strip():
        raise InvalidParameterError(f"A sweep needs a non-empty name (its key), got {key!r}")
    exp_id = (
        str(experiment_id) if experiment_id is not None else fluent._resolve_experiment_id(None)
    )
    objectives, directions = _objectives(objective, direction)
    parent_id = sweep_run_id(exp_id, key)
    all_tags = system_tags()
    all_tags.update({k: str(v) for k, v in (tags or {}).items()})
    all_tags.update(
        {
            names.SWEEP_KEY_TAG: key,
            names.OBJECTIVE_TAG: ",".join(objectives),
            names.DIRECTION_TAG: ",".join(directions),
            names.STATUS_TAG: "running",
        }
    )
    run = client.create_run(exp_id, tags=all_tags, run_name=run_name or key[:250], run_id=parent_id)
    if run.info.lifecycle_stage != "active":
        raise RunNotActiveError(
            f"The parent run {parent_id} of sweep {key!r} in experiment {exp_id} is deleted; "
            "restore it, or give the sweep another name"
        )
    existing = run.data.tags
    if existing.get(names.SWEEP_KEY_TAG) != key:
        raise InvalidParameterError(
            f"Run {parent_id} exists but is not the parent of sweep {key!r}"
        )
    if objective is not None or direction is not None:
        for tag, wanted in ((names.OBJECTIVE_TAG, objectives), (names.DIRECTION_TAG, directions)):
            have = existing.get(tag)
            if (
                have is not None
                and have != ",".join(wanted)
                and (tag == names.DIRECTION_TAG or objective is not None)
            ):
                raise InvalidParameterError(
                    f"Sweep {key!r} already exists with {tag}={have!r}; this process asked for "
                    f"{','.join(wanted)!r}"
                )
    objectives = existing.get(names.OBJECTIVE_TAG, ",".join(objectives)).split(",")
    directions = existing.get(names.DIRECTION_TAG, ",".join(directions)).split(",")
    if run.info.status != RunStatus.RUNNING:
        client.reopen_run(parent_id)  # a later process joins a sweep that had finished
        client.set_tag(parent_id, names.STATUS_TAG, "running")
    handle = SweepHandle(client, run, key, objectives, directions)
    if params:
        handle.log_params(params)
    return handle


class SweepHandle:
    """This process's view of one sweep: starts trials, keeps the parent's summary current."""

    def __init__(
        self, client: Any, run: Any, key: str, objectives: list[str], directions: list[str]
    ) -> None:
        self.client = client
        self.run = run
        self.key = key
        self.objectives = objectives
        self.directions = directions
        self._lock = threading.RLock()
        self._numbers = itertools.count()
        self._open_trials: dict[str, Any] = {}
        self._best_params: dict[str, Any] = {}
        self._closed = False
        self._others_cache: dict[str, summary.Member] | None = None
        self._others_read_at = 0.0
        me = processes.identity()
        host = re.sub(r"[^\w.\-]", "_", str(me["host"]))[:100]
        self._member_key = f"{names.MEMBER_TAG_PREFIX}{host}-{me['pid']}-{next(_member_numbers)}"
        self._member = summary.Member(str(me["host"]), int(me["pid"]), str(me["start"]))
        self._member.counts = dict.fromkeys(names.STATES, 0)
        client.set_tag(self.run_id, self._member_key, self._member.to_json(), synchronous=True)

    # --- identity ---------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.run.info.run_id

    @property
    def experiment_id(self) -> str:
        return self.run.info.experiment_id

    @property
    def objective(self) -> str:
        return self.objectives[0]

    @property
    def direction(self) -> str | None:
        """The direction of a single-objective sweep; None for multi-objective ones."""
        return self.directions[0] if len(self.directions) == 1 else None

    def child_env(self) -> dict[str, str]:
        """Environment for a process that should log its runs as children of this sweep."""
        from flightlog.config import get_tracking_uri

        return {
            names.PARENT_RUN_ENV: self.run_id,
            names.SWEEP_KEY_ENV: self.key,
            "FLIGHTLOG_TRACKING_URI": self.client.tracking_uri or get_tracking_uri(),
            "FLIGHTLOG_EXPERIMENT_ID": self.experiment_id,
        }

    # --- the parent ---------------------------------------------------------------------------
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Sweep-level params (sampler, search space...); every process may log the same ones."""
        batch = [Param(str(k), _param_text(v)) for k, v in params.items()]
        for start in range(0, len(batch), 100):
            self.client.log_batch(self.run_id, params=batch[start : start + 100])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    # --- trials -------------------------------------------------------------------------------
    def trial(
        self,
        number: int | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        start_time: int | None = None,
        run_id: str | None = None,
    ) -> Any:
        """Start a trial: a child run tagged with its number and owner process (`run_id`: a
        32-hex id agreed with another process that may create the same child). Use it as a
        context manager to make it this thread's active run (fluent calls and autolog log
        into it) and to end it: normally COMPLETE, TrialPruned PRUNED, any other error
        FAILED."""
        from flightlog.context import system_tags
        from flightlog.sweeps.trial import Trial

        if self._closed:
            raise RunNotActiveError(f"Sweep {self.key!r} was closed in this process")
        if number is None:
            number = next(self._numbers)
        all_tags = system_tags()
        all_tags.update({k: str(v) for k, v in (tags or {}).items()})
        all_tags.update(
            {
                names.PARENT_RUN_TAG: self.run_id,
                names.TRIAL_NUMBER_TAG: str(number),
                names.TRIAL_OWNER_TAG: json.dumps(processes.identity(), separators=(",", ":")),
            }
        )
        if params:
            all_tags[names.TRIAL_PARAMS_TAG] = json.dumps(sorted(str(k) for k in params))[:7900]
        run = self.client.create_run(
            self.experiment_id,
            start_time=start_time,
            tags=all_tags,
            run_name=run_name or f"{self.key[:200]}-trial-{number}",
            run_id=run_id,
        )
        trial = Trial(run, self, number, dict(params or {}))
        if params:
            batch = [Param(str(k), _param_text(v)) for k, v in params.items()]
            for start in range(0, len(batch), 100):
                self.client.log_batch(trial.info.run_id, params=batch[start : start + 100])
        with self._lock:
            self._open_trials[trial.info.run_id] = trial
        return trial

    def _trial_ended(self, trial: Any, state: str, values: list[float] | None) -> None:
        with self._lock:
            self._open_trials.pop(trial.info.run_id, None)
            self._member.counts[state] = self._member.counts.get(state, 0) + 1
            direction = self.direction
            if state == names.COMPLETE and direction and values:
                candidate = summary.Best(float(values[0]), trial.info.run_id, trial.number)
                if summary.beats(candidate, self._member.best, direction):
                    self._member.best = candidate
                    self._best_params = dict(trial.params)
            self._publish(trial.number)

    def _others(self) -> dict[str, summary.Member]:
        """The other members' tallies, read from the parent at most every REFRESH_S seconds
        (this member's own tally is always current in memory)."""
        now = time.monotonic()
        if self._others_cache is None or now - self._others_read_at >= REFRESH_S:
            try:
                tags_now = self.client._store.get_run(self.run_id).data.tags
                found = summary.members(tags_now)
                found.pop(self._member_key, None)
                self._others_cache = found
            except Exception as exc:  # noqa: BLE001 - the summary must never fail a trial
                _log.warning("flightlog: could not read sweep %r's summary: %s", self.key, exc)
                self._others_cache = self._others_cache or {}
            self._others_read_at = now
        return dict(self._others_cache)

    def _publish(self, step: int | None) -> None:
        """Write this member's tally and the totals over every member to the parent."""
        everyone = self._others()
        everyone[self._member_key] = self._member
        tags = {self._member_key: self._member.to_json()}
        tags.update(summary.count_tags(summary.totals(everyone.values())))
        metrics = []
        direction = self.direction
        if direction:
            best = summary.best_of((m.best for m in everyone.values()), direction)
            tags.update(summary.best_tags(best))
            if best is not None:
                now = time.time_ns() // 1_000_000
                metrics.append(Metric(names.BEST_VALUE_METRIC, best.value, now, step or 0))
        try:
            self.client.log_batch(
                self.run_id, metrics=metrics, tags=[RunTag(k, v) for k, v in tags.items()]
            )
        except RunNotActiveError:
            # Another process finished the sweep meanwhile: write through the store directly.
            self.client._store.log_batch(
                self.run_id,
                metrics=metrics,
                params=[],
                tags=[RunTag(k, v) for k, v in tags.items()],
            )

    # --- closing ------------------------------------------------------------------------------
    def close(self, status: str | None = None) -> bool:
        """Leave the sweep. The last member to leave reaps trials whose process died, writes
        the final summary (counts and best from the children, `best_<param>` params) and ends
        the parent (FINISHED, or `status`). Returns True when this call ended the parent."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            for trial in list(self._open_trials.values()):
                trial.end(
                    names.KILLED, error=RuntimeError("the sweep closed before the trial ended")
                )
            self._member.open = False
            self.client.set_tag(
                self.run_id, self._member_key, self._member.to_json(), synchronous=True
            )
        parent = self.client.get_run(self.run_id)
        for key, member in summary.members(parent.data.tags).items():
            if (
                key != self._member_key
                and member.open
                and processes.is_alive(member.host, member.pid, member.start)
            ):
                return False  # someone is still working; they end it
        self._finalize(status or RunStatus.FINISHED)
        return True

    def children(self) -> list[Any]:
        """Every child run of the sweep (all pages)."""
        out: list[Any] = []
        token = None
        query = f"tags.`{names.PARENT_RUN_TAG}` = '{self.run_id}'"
        while True:
            page = self.client.search_runs(
                [self.experiment_id], query, max_results=1000, page_token=token
            )
            out.extend(page)
            token = page.token
            if not token:
                return out

    def _reap(self, children: list[Any]) -> list[Any]:
        """End RUNNING trials whose owner process is gone (SIGKILL, OOM, a lost machine that
        later closed its membership): KILLED, tagged with why."""
        reaped = []
        for run in children:
            if run.info.status != RunStatus.RUNNING:
                continue
            raw = run.data.tags.get(names.TRIAL_OWNER_TAG)
            try:
                owner = json.loads(raw) if raw else None
                alive = owner is None or processes.is_alive(
                    str(owner["host"]), int(owner["pid"]), str(owner.get("start", ""))
                )
            except (ValueError, TypeError, KeyError):
                alive = True
            if alive:
                continue  # not a trial we can vouch for (or its process still runs)
            reason = (
                f"process {owner['pid']} on {owner['host']} ended without ending this trial; "
                f"reaped when sweep {self.key!r} closed"
            )
            tags = [
                RunTag(names.TRIAL_STATE_TAG, names.KILLED),
                RunTag(names.TRIAL_ERROR_TYPE_TAG, "ProcessLost"),
                RunTag(names.TRIAL_ERROR_TAG, reason),
            ]
            self.client._store.log_batch(run.info.run_id, metrics=[], params=[], tags=tags)
            self.client.set_terminated(run.info.run_id, RunStatus.KILLED)
            run.data.tags[names.TRIAL_STATE_TAG] = names.KILLED
            run.info.status = RunStatus.KILLED
            reaped.append(run)
        return reaped

    def _finalize(self, status: str) -> None:
        children = self.children()
        self._reap(children)
        counts, best = summary.recount(children, self.objective, self.direction)
        tags = summary.count_tags(counts)
        tags.update(summary.best_tags(best))
        tags[names.STATUS_TAG] = "finished"
        params: list[Param] = []
        if best is not None:
            best_run = next((r for r in children if r.info.run_id == best.run_id), None)
            if best_run is not None:
                keys_raw = best_run.data.tags.get(names.TRIAL_PARAMS_TAG)
                keys = json.loads(keys_raw) if keys_raw else list(best_run.data.params)
                chosen = {k: best_run.data.params[k] for k in keys if k in best_run.data.params}
                tags["flightlog.sweep.best_params"] = json.dumps(chosen)[:7900]
                params = [Param(f"best_{k}", v) for k, v in chosen.items()]
        metrics = []
        numbers = [n for n in map(summary.trial_number, children) if n is not None]
        if best is not None:
            # The last point of best_value is the final best (trials end out of order).
            now = time.time_ns() // 1_000_000
            metrics.append(
                Metric(names.BEST_VALUE_METRIC, best.value, now, max(numbers, default=0))
            )
        self.client.log_batch(
            self.run_id, metrics=metrics, tags=[RunTag(k, v) for k, v in tags.items()]
        )
        for start in range(0, len(params), 100):
            try:
                self.client.log_batch(
                    self.run_id, params=params[start : start + 100], synchronous=True
                )
            except ParamConflictError:
                # A sweep rejoined after it finished found a new best: params cannot change, the
                # tag flightlog.sweep.best_params holds the current best.
                _log.warning(
                    "flightlog: sweep %r has a new best trial; best_<param> params keep the "
                    "earlier values, see tag flightlog.sweep.best_params",
                    self.key,
                )
                break
        self.client.set_terminated(self.run_id, status)


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[:6000]


def error_tags(error: BaseException) -> dict[str, str]:
    message = f"{type(error).__name__}: {error}"
    return {
        names.TRIAL_ERROR_TYPE_TAG: type(error).__name__,
        names.TRIAL_ERROR_TAG: message[:MAX_ERROR_CHARS],
    }
