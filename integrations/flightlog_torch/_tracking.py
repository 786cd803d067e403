"""Where an integration's records go: one run, opened lazily, written through the async queue.

Both the plain-PyTorch loop tracker and the Lightning recorder use `RunTarget`: it logs into the
run the user started (unless `exclusive`), or starts one tagged as autologged and remembers to end
it. Params are sanitized here (keys made legal, values shortened) and a param that conflicts with
a value already in the run is skipped with one warning instead of losing the whole batch.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Mapping
from typing import Any

from flightlog.validation import MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH

AUTOLOGGING_TAG = "mlflow.autologging"
_ILLEGAL_KEY_CHARS = re.compile(r"[^/\w.\- :]")


def clean_key(key: object) -> str:
    """A legal metric/param name for `key`: illegal characters become '_', '//' and a leading
    or trailing '/' are squeezed out, and it is cut to the store's length limit."""
    text = _ILLEGAL_KEY_CHARS.sub("_", str(key))
    parts = [p for p in text.split("/") if p not in ("", ".", "..")]
    text = "/".join(parts) or "_"
    return text[:MAX_KEY_LENGTH]


def param_text(value: Any) -> str:
    """How a param value is stored: its str(), shortened to the store's limit."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        text = text[: MAX_PARAM_VALUE_LENGTH - 3] + "..."
    return text


def flatten(params: Mapping[str, Any], prefix: str = "", sep: str = "/") -> dict[str, Any]:
    """Nested mappings (and argparse Namespaces) become 'outer/inner' keys, as Lightning's own
    loggers name hyperparameters."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if hasattr(value, "__dict__") and type(value).__name__ == "Namespace":
            value = vars(value)
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name, sep))
        else:
            out[name] = value
    return out


def _experiment_id(client: Any, name: str) -> str:
    """The id of the experiment called `name`, created if needed (without making it the
    process's active experiment)."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name)
    except Exception:  # noqa: BLE001 - another process created it meanwhile
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


class RunTarget:
    """One run that an integration logs into.

    `open()` picks the run: an explicit `run_id` (resumed if it was ended), else the active run
    (unless `exclusive`), else a new run that this target owns and `close()` ends. Writes go
    through a TrackingClient, so they are queued, never waited on.

    In a distributed job (flightlog.distributed) every rank binds to the job's one run, but only
    rank 0 writes params, tags, artifacts and plain metrics; with `log_every_rank` (or
    FLIGHTLOG_LOG_EVERY_RANK=1) every rank also writes its metrics as `rank<N>/<name>`.
    """

    def __init__(
        self,
        integration: str,
        *,
        run_id: str | None = None,
        exclusive: bool = False,
        tags: Mapping[str, str] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        tracking_uri: str | None = None,
        log_every_rank: bool | None = None,
    ):
        self.integration = integration
        self.log_every_rank = log_every_rank
        self._rank_view: tuple[int, bool] | None = None
        self.run_id = run_id
        self.exclusive = exclusive
        self.tags = dict(tags or {})
        self.run_name = run_name
        self.experiment_name = experiment_name
        self.tracking_uri = tracking_uri
        self.owned = False
        self.pushed = False  # the run is on flightlog's active-run stack because we put it there
        self.client: Any = None
        self._params: dict[str, str] = {}
        self._conflicts: set[str] = set()

    @property
    def is_open(self) -> bool:
        return self.client is not None

    def open(self) -> bool:
        """Bind to a run; False when `exclusive` forbids logging into the user's active run."""
        if self.client is not None:
            return True
        from flightlog import fluent

        if self.tracking_uri is not None:
            return self._open_with_client()
        if self.run_id is not None:
            active = fluent.active_run()
            if active is not None and active.info.run_id == self.run_id:
                self.client = fluent._client()
                return True
            if active is None:
                # Resuming makes it the active run, so the user's own log_* calls land there too.
                fluent.start_run(run_id=self.run_id)
                self.owned = self.pushed = True
            else:
                self.owned = self._resume_quietly(fluent._client())
            self.client = fluent._client()
            return True
        active = fluent.active_run()
        if active is not None:
            if self.exclusive:
                return False
            self.run_id = active.info.run_id
            self.client = fluent._client()
            return True
        experiment_id = None
        if self.experiment_name is not None:
            experiment_id = _experiment_id(fluent._client(), self.experiment_name)
        tags = {AUTOLOGGING_TAG: self.integration, **self.tags}
        run = fluent.start_run(experiment_id=experiment_id, run_name=self.run_name, tags=tags)
        self.run_id = run.info.run_id
        self.owned = self.pushed = True
        self.client = fluent._client()
        return True

    def _open_with_client(self) -> bool:
        from flightlog.client import TrackingClient

        client = TrackingClient(self.tracking_uri)
        if self.run_id is not None:
            self.owned = self._resume_quietly(client)
        else:
            experiment_id = "0"
            if self.experiment_name is not None:
                experiment_id = _experiment_id(client, self.experiment_name)
            tags = {AUTOLOGGING_TAG: self.integration, **self.tags}
            from flightlog.context import system_tags

            run = client.create_run(
                experiment_id, tags={**system_tags(), **tags}, run_name=self.run_name
            )
            self.run_id = run.info.run_id
            self.owned = True
        self.client = client
        return True

    def _resume_quietly(self, client: Any) -> bool:
        """Reopen an ended run without touching the active-run stack; True if we reopened it."""
        from flightlog.entities import RunStatus

        run = client.get_run(self.run_id)
        if RunStatus.is_terminated(run.info.status):
            client.reopen_run(self.run_id)
            return True
        return False

    def close(self, status: str = "FINISHED") -> None:
        """End the run if this target started (or reopened) it; forget the binding either way."""
        client, self.client = self.client, None
        if client is None or not self.owned:
            return
        self.owned = False
        if self.pushed:
            self.pushed = False
            from flightlog import fluent

            active = fluent.active_run()
            if active is not None and active.info.run_id == self.run_id:
                fluent.end_run(status)
                return
        client.set_terminated(self.run_id, status)

    # --- writing ------------------------------------------------------------------------
    def rank_view(self) -> tuple[int, bool]:
        """(this process's rank in its job, whether it writes per-rank series); (0, False)
        outside a distributed job. Read once: the rank of a process does not change."""
        if self._rank_view is None:
            from flightlog import distributed

            if distributed.is_distributed():
                per_rank = self.log_every_rank
                if per_rank is None:
                    per_rank = distributed.log_every_rank()
                self._rank_view = (distributed.rank(), bool(per_rank))
            else:
                self._rank_view = (0, False)
        return self._rank_view

    @property
    def is_rank_zero(self) -> bool:
        return self.rank_view()[0] == 0

    def metric_key(self, key: str) -> str | None:
        """The name this rank logs `key` under: the key itself on rank 0, `rank<N>/key` on
        other ranks with per-rank logging, None (not logged) otherwise."""
        rank, per_rank = self.rank_view()
        if rank == 0:
            return key
        return f"rank{rank}/{key}" if per_rank else None

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log params; keys already logged with the same value are skipped, and a key whose
        value conflicts with what the run holds is skipped with one warning."""
        if not self.is_rank_zero:
            return  # params once per job: rank 0's
        from flightlog.entities import Param
        from flightlog.exceptions import ParamConflictError

        fresh: dict[str, str] = {}
        for key, value in params.items():
            name, text = clean_key(key), param_text(value)
            if self._params.get(name) == text or name in self._conflicts:
                continue
            if name in self._params or name in fresh:
                self._conflict(name, self._params.get(name, fresh.get(name)), text)
                continue
            fresh[name] = text
        if not fresh:
            return
        try:
            self.client.log_batch(self.run_id, params=[Param(k, v) for k, v in fresh.items()])
        except ParamConflictError:
            # Some key is already in the run with another value (a resumed or user-made run):
            # keep every other param by logging them one at a time.
            for key, text in fresh.items():
                try:
                    self.client.log_batch(self.run_id, params=[Param(key, text)])
                except ParamConflictError:
                    self._conflict(key, None, text)
                    continue
                self._params[key] = text
            return
        self._params.update(fresh)

    def _conflict(self, key: str, old: str | None, new: str) -> None:
        self._conflicts.add(key)
        was = f" (it holds {old!r})" if old is not None else ""
        warnings.warn(
            f"flightlog {self.integration}: param {key!r} already has another value in run "
            f"{self.run_id}{was}; the new value {new!r} was not logged (params are immutable)",
            UserWarning,
            stacklevel=4,
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        if not metrics:
            return
        from flightlog.entities import Metric

        timestamp = time.time_ns() // 1_000_000
        rank, per_rank = self.rank_view()
        batch = []
        for key, value in metrics.items():
            name = clean_key(key)
            if rank == 0:
                batch.append(Metric(name, float(value), timestamp, int(step)))
            if per_rank:  # rank 0 too, so every rank's series sits side by side
                batch.append(Metric(f"rank{rank}/{name}", float(value), timestamp, int(step)))
        if batch:
            self.client.log_batch(self.run_id, metrics=batch)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if not self.is_rank_zero:
            return
        from flightlog.entities import RunTag

        self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_text(self, text: str, artifact_file: str) -> None:
        if not self.is_rank_zero:
            return
        self.client.log_text(self.run_id, text, artifact_file)
