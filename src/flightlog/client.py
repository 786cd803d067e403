"""TrackingClient: the explicit API over a store (MLflow's MlflowClient, same method names).

Writes of metrics, params and tags go through the logging queue unless asked to be synchronous;
everything else (experiments, runs, artifacts, reads) goes straight to the store. Reads flush
the run's queued data first, so a client always reads what it wrote.
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flightlog import validation as v
from flightlog.artifacts import get_artifact_repository
from flightlog.entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from flightlog.exceptions import InvalidParameterError, RunNotActiveError
from flightlog.history import MetricArrays, MetricHistory
from flightlog.models.registry_client import RegistryClientMixin
from flightlog.queue import get_logging_queue
from flightlog.store import get_store
from flightlog.store.base import AbstractStore

# Runs this process knows to be open for logging, per store: the hot path checks a set instead
# of asking the store on every call. Terminating or deleting a run through a client drops it.
_writable_runs: dict[int, set[str]] = {}
_writable_lock = threading.Lock()


_time_ns = time.time_ns
_valid_keys = v._valid_keys


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _async_default() -> bool:
    from flightlog.config import env_flag

    return env_flag("FLIGHTLOG_ASYNC_LOGGING", True)


class TrackingClient(RegistryClientMixin):
    """Explicit access to experiments, runs, metrics and artifacts in one tracking store."""

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None):
        from flightlog.config import get_tracking_uri

        self._tracking_uri = tracking_uri or get_tracking_uri()
        self._registry_uri = registry_uri or self._tracking_uri
        self._store_obj: AbstractStore | None = None
        self._queue = get_logging_queue()
        self._async = _async_default()

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def _store(self) -> AbstractStore:
        if self._store_obj is None:
            self._store_obj = get_store(self._tracking_uri)
        return self._store_obj

    def _writable(self) -> set[str]:
        key = id(self._store)
        runs = _writable_runs.get(key)
        if runs is None:
            with _writable_lock:
                runs = _writable_runs.setdefault(key, set())
        return runs

    # --- experiments ---------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        v.validate_experiment_name(name)
        return self._store.create_experiment(name, artifact_location, _tag_list(tags))

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._store.get_experiment(v.validate_experiment_id(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        return self._store.search_experiments(
            ViewType.from_any(view_type), max_results, filter_string, order_by, page_token
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self._store.delete_experiment(v.validate_experiment_id(experiment_id))
        # Its runs were deleted with it; forget them so logging to them is refused.
        self._writable().clear()

    def restore_experiment(self, experiment_id: str) -> None:
        self._store.restore_experiment(v.validate_experiment_id(experiment_id))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        v.validate_experiment_name(new_name)
        self._store.rename_experiment(v.validate_experiment_id(experiment_id), new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        v.validate_key(key, "Tag")
        tag = RunTag(key, v.validate_tag_value(key, value))
        self._store.set_experiment_tag(v.validate_experiment_id(experiment_id), tag)

    # --- runs ----------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        """A new run; with `run_id` (32 hex digits) idempotent: an existing run with that id is
        returned as it is (see AbstractStore.create_run)."""
        from flightlog.context import current_user

        if run_name is not None:
            v.validate_run_name(run_name)
        tag_list = _tag_list(tags)
        user = (tags or {}).get("mlflow.user") or current_user()
        extra = {} if run_id is None else {"run_id": run_id}
        run = self._store.create_run(
            v.validate_experiment_id(experiment_id),
            user_id=str(user),
            start_time=start_time if start_time is not None else _now_ms(),
            tags=tag_list,
            run_name=run_name,
            **extra,
        )
        if run.info.status == RunStatus.RUNNING:  # an existing run may have ended already
            self._writable().add(run.info.run_id)
        if run_id is None:  # brand new: no stored params to check later ones against
            self._queue.note_new_run(self._store, run.info.run_id)
        return run

    def create_runs(
        self,
        experiment_id: str,
        runs: int | Sequence[Mapping[str, Any]],
        *,
        tags: Mapping[str, Any] | None = None,
    ) -> list[Run]:
        """Open many RUNNING runs at once: `runs` is a count, or one mapping per run with any of
        `run_name`, `tags`, `start_time`, `run_id`. `tags` apply to every run. On a SQL store
        it is one transaction (thousands of runs a second); elsewhere one request per run.
        Every run's id is known when this returns."""
        from flightlog.context import current_user
        from flightlog.store.base import RunSpec

        if isinstance(runs, bool) or not isinstance(runs, int | Sequence) or isinstance(runs, str):
            raise InvalidParameterError(
                f"runs must be a count or a list of mappings, got {type(runs).__name__}"
            )
        if isinstance(runs, int):
            if runs < 0:
                raise InvalidParameterError(f"runs must not be negative, got {runs}")
            runs = [{}] * runs
        known = {"run_name", "tags", "start_time", "run_id"}
        specs = []
        now = _now_ms()
        for i, run in enumerate(runs):
            if not isinstance(run, Mapping) or set(run) - known:
                raise InvalidParameterError(
                    f"runs[{i}] must be a mapping with keys among {sorted(known)}, got {run!r}"
                )
            if run.get("run_name") is not None:
                v.validate_run_name(run["run_name"])
            merged = {**(tags or {}), **(run.get("tags") or {})}
            specs.append(
                RunSpec(
                    user_id=str(merged.get("mlflow.user") or current_user()),
                    start_time=run.get("start_time") or now,
                    tags=_tag_list(merged),
                    run_name=run.get("run_name"),
                    run_id=run.get("run_id"),
                )
            )
        made = self._store.create_runs(v.validate_experiment_id(experiment_id), specs)
        self._writable().update(r.info.run_id for r in made if r.info.status == RunStatus.RUNNING)
        return made

    def sweep(
        self,
        name: str,
        objective: str | Sequence[str] | None = None,
        direction: str | Sequence[str] | None = None,
        experiment_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Open or join the sweep `name` (flightlog.sweeps.SweepHandle: `.trial()`, `.close()`);
        unlike flightlog.sweep() its parent is not made the active run."""
        from flightlog.sweeps.handle import open_sweep

        return open_sweep(self, name, objective, direction, experiment_id=experiment_id, **kwargs)

    def get_run(self, run_id: str) -> Run:
        self._queue.flush(run_id)
        return self._store.get_run(v.validate_run_id(run_id))

    def get_parent_run(self, run_id: str) -> Run | None:
        parent_id = self.get_run(run_id).data.tags.get("mlflow.parentRunId")
        return self.get_run(parent_id) if parent_id else None

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        if isinstance(experiment_ids, str | int):
            experiment_ids = [str(experiment_ids)]
        self._queue.flush()
        return self._store.search_runs(
            [str(e) for e in experiment_ids],
            filter_string or "",
            ViewType.from_any(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        run = self.get_run(run_id)
        if status is not None and status not in RunStatus.ALL:
            raise InvalidParameterError(
                f"Unknown run status {status!r}; use one of {RunStatus.ALL}"
            )
        new_status = status or run.info.status
        if name is not None:
            v.validate_run_name(name)
        self._store.update_run_info(run_id, new_status, run.info.end_time, name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        """End a run: its queued data is stored first, then its status and end time are set."""
        status = status or RunStatus.FINISHED
        if status not in RunStatus.TERMINATED:
            raise InvalidParameterError(
                f"Run status {status!r} is not a terminal status; use one of {RunStatus.TERMINATED}"
            )
        self._queue.flush(run_id)
        self._writable().discard(run_id)
        self._queue.end_run(self._store, run_id, status, end_time or _now_ms())

    def reopen_run(self, run_id: str) -> RunInfo:
        """Mark a terminated run RUNNING again (what `start_run(run_id=...)` does to resume)."""
        info = self._store.update_run_info(run_id, RunStatus.RUNNING, None)
        self._writable().add(run_id)
        return info

    def delete_run(self, run_id: str) -> None:
        self._queue.flush(run_id)
        self._writable().discard(run_id)
        self._store.delete_run(v.validate_run_id(run_id))

    def restore_run(self, run_id: str) -> None:
        self._store.restore_run(v.validate_run_id(run_id))

    # --- metrics, params, tags -----------------------------------------------------------
    def _check_writable(self, run_id: str) -> None:
        """Refuse writes to runs that are terminated or deleted (one store read, then cached)."""
        writable = self._writable()
        if run_id in writable:
            return
        run = self._store.get_run(v.validate_run_id(run_id))
        if run.info.lifecycle_stage != "active":
            raise RunNotActiveError(f"Run {run_id} is deleted; restore it before logging to it")
        if RunStatus.is_terminated(run.info.status):
            raise RunNotActiveError(
                f"Run {run_id} is {run.info.status}; logging to a terminated run is refused. "
                f"Resume it with start_run(run_id={run_id!r}) to log more."
            )
        writable.add(run_id)

    def _sync(self, synchronous: bool | None) -> bool:
        return (not self._async) if synchronous is None else synchronous

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        # The training loop's hot path: cheap type checks first, full validation only when
        # they fail; no locks, no property calls once the run is known to be writable.
        if key not in _valid_keys:
            v.validate_key(key, "Metric")
        if value.__class__ is not float:
            value = v.validate_metric_value(key, value)
        if timestamp is None:
            timestamp = _time_ns() // 1_000_000
        elif timestamp.__class__ is not int:
            timestamp = v.validate_int(timestamp, "Timestamp", key)
        if step is None:
            step = 0
        elif step.__class__ is not int:
            step = v.validate_int(step, "Step", key)
        store = self._store_obj
        if store is None or run_id not in self._writable():
            self._check_writable(run_id)
            store = self._store
        if synchronous or (synchronous is None and not self._async):
            self._queue.write_through(store, run_id, [Metric(key, value, timestamp, step)])
        else:
            self._queue.submit_metric(store, run_id, key, value, timestamp, step)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        v.validate_key(key, "Param")
        self.log_batch(
            run_id, params=[Param(key, v.validate_param_value(key, value))], synchronous=synchronous
        )
        return value

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        v.validate_key(key, "Tag")
        self.log_batch(
            run_id, tags=[RunTag(key, v.validate_tag_value(key, value))], synchronous=synchronous
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        self._queue.flush(run_id)
        self._store.delete_tag(v.validate_run_id(run_id), key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        metrics = [_checked_metric(m) for m in metrics]
        params = [_checked_param(p) for p in params]
        tags = [_checked_tag(t) for t in tags]
        _check_unique_params(params)
        if not (metrics or params or tags):
            return
        self._check_writable(run_id)
        if self._sync(synchronous):
            self._queue.write_through(self._store, run_id, metrics, params, tags)
        else:
            self._queue.submit(self._store, run_id, metrics, params, tags)

    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        """Every point of `key`, as a read-only list-like sequence of Metric (built per item
        touched; the history itself is held as columns, 24 bytes a point)."""
        return MetricHistory(key, self.get_metric_history_arrays(run_id, key))

    def get_metric_history_arrays(
        self, run_id: str, key: str, *, numpy: bool = False
    ) -> MetricArrays:
        """The history as columns `(steps, timestamps, values)`, ordered by step, timestamp
        and insertion: typed arrays, or numpy arrays with `numpy=True`. Several times faster
        than building a Metric per point."""
        self._queue.flush(run_id)
        arrays = self._store.get_metric_history_arrays(run_id, key)
        return arrays.to_numpy() if numpy else arrays

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        self._check_writable(run_id)
        self._store.log_inputs(run_id, list(datasets))

    # --- artifacts -----------------------------------------------------------------------
    def _artifact_repo(self, run_id: str):
        uri = self._store.get_run(run_id).info.artifact_uri
        return get_artifact_repository(uri, self._tracking_uri)

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        repo = self._artifact_repo(run_id)
        if os.path.isdir(local_path):
            name = os.path.basename(os.path.normpath(local_path))
            repo.log_artifacts(local_path, posixpath.join(artifact_path or "", name))
        else:
            repo.log_artifact(local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        self._artifact_repo(run_id).log_artifacts(local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self._artifact_repo(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        return self._artifact_repo(run_id).download_artifacts(path, dst_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._artifact_repo(run_id).log_bytes(text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """JSON for .json files, YAML for .yaml/.yml (MLflow's rule), JSON otherwise."""
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml

            text = yaml.safe_dump(dictionary, sort_keys=False, default_flow_style=False)
        else:
            text = json.dumps(dictionary, indent=2, default=str)
        self.log_text(run_id, text, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str, *, save_kwargs=None) -> None:
        """Save a matplotlib (savefig) or plotly (write_html/write_image) figure as an artifact."""
        suffix = os.path.splitext(artifact_file)[1] or ".png"
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "figure" + suffix)
            if hasattr(figure, "savefig"):
                figure.savefig(local, **(save_kwargs or {}))
            elif hasattr(figure, "write_html") and suffix == ".html":
                figure.write_html(local, **(save_kwargs or {}))
            elif hasattr(figure, "write_image"):
                figure.write_image(local, **(save_kwargs or {}))
            else:
                raise InvalidParameterError(
                    f"log_figure needs a matplotlib or plotly figure, got {type(figure).__name__}"
                )
            with open(local, "rb") as f:
                self._artifact_repo(run_id).log_bytes(f.read(), artifact_file)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """A dict of columns or a pandas DataFrame, as MLflow's table JSON (columns + data)."""
        if not artifact_file.endswith(".json"):
            raise InvalidParameterError(
                f"log_table writes JSON; {artifact_file!r} must end in .json"
            )
        if hasattr(data, "to_dict") and hasattr(data, "columns"):
            columns = [str(c) for c in data.columns]
            rows = data.astype(object).where(data.notna(), None).values.tolist()
        elif isinstance(data, Mapping):
            columns = [str(c) for c in data]
            length = {len(col) for col in data.values()}
            if len(length) > 1:
                raise InvalidParameterError("log_table: every column must have the same length")
            rows = [list(r) for r in zip(*data.values(), strict=True)]
        else:
            raise InvalidParameterError(
                f"log_table needs a dict of columns or a pandas DataFrame, got {type(data).__name__}"
            )
        self.log_text(
            run_id, json.dumps({"columns": columns, "data": rows}, default=str), artifact_file
        )

    # --- queue ---------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        return self._queue.flush(timeout=timeout)


# Names MLflow users import.
MlflowClient = TrackingClient


def _tag_list(tags: Mapping[str, Any] | Iterable[RunTag] | None) -> list[RunTag]:
    if not tags:
        return []
    if isinstance(tags, Mapping):
        items = tags.items()
    else:
        items = ((t.key, t.value) for t in tags)
    out = []
    for key, value in items:
        v.validate_key(key, "Tag")
        out.append(RunTag(key, v.validate_tag_value(key, value)))
    return out


def _checked_metric(m: Metric) -> Metric:
    # log_metrics' hot path: a known key with a float value and int time and step passes as is.
    if (
        m.key in _valid_keys
        and m.value.__class__ is float
        and m.timestamp.__class__ is int
        and m.step.__class__ is int
    ):
        return m
    v.validate_key(m.key, "Metric")
    value = v.validate_metric_value(m.key, m.value)
    ts = v.validate_int(m.timestamp, "Timestamp", m.key)
    step = v.validate_int(m.step if m.step is not None else 0, "Step", m.key)
    if value is m.value and ts is m.timestamp and step is m.step:
        return m
    return Metric(m.key, value, ts, step)


def _checked_param(p: Param) -> Param:
    v.validate_key(p.key, "Param")
    return Param(p.key, v.validate_param_value(p.key, p.value))


def _checked_tag(t: RunTag) -> RunTag:
    v.validate_key(t.key, "Tag")
    return RunTag(t.key, v.validate_tag_value(t.key, t.value))


def _check_unique_params(params: Sequence[Param]) -> None:
    seen: dict[str, str] = {}
    for p in params:
        if p.key in seen and seen[p.key] != p.value:
            from flightlog.exceptions import ParamConflictError

            raise ParamConflictError(
                f"Param {p.key!r} appears twice in one batch with different values "
                f"({seen[p.key]!r} and {p.value!r})"
            )
        seen[p.key] = p.value
