"""The fluent API: module-level functions that act on the active run (MLflow's names).

The active-run stack is process-wide, not per thread: a data-loader thread or a callback running
on another thread logs into the run the user started, which is what users of W&B and Lightning
expect. `nested=True` pushes a child run; `end_run()` pops one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from flightlog import context_runs as _context_runs
from flightlog import lifecycle as _lifecycle
from flightlog.client import TrackingClient
from flightlog.entities import Experiment, Metric, Param, Run, RunStatus, RunTag, ViewType
from flightlog.exceptions import (
    ExperimentNotActiveError,
    ExperimentNotFoundError,
    InvalidParameterError,
)
from flightlog.models import logged as _logged_models

_lock = threading.RLock()
_active_runs: list[ActiveRun] = []
_last_active_run_id: str | None = None
_active_experiment_id: str | None = None
_client_cache: tuple[str, TrackingClient] | None = None

PARENT_RUN_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
NOTE_TAG = "mlflow.note.content"


class ActiveRun(Run):
    """The run returned by `start_run`; a context manager that ends it on exit.

    Leaving the block normally marks the run FINISHED, an exception FAILED, and Ctrl-C KILLED.
    """

    def __init__(self, run: Run):
        super().__init__(run.info, run.data, run.inputs)

    @property
    def _info(self):
        # MLflow's private name for `info`; MLflow's own examples read `run._info.run_id`.
        return self.info

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt) or _lifecycle.killed():
            status = RunStatus.KILLED  # Ctrl-C, or a SIGTERM handler that raised SystemExit
        else:
            status = RunStatus.FAILED
        if _end_context_run(self.info.run_id, status):
            return False
        # End this run (and any child left open inside the block), not just the top of stack.
        with _lock:
            while _active_runs and any(r.info.run_id == self.info.run_id for r in _active_runs):
                end_run(status)
        return False


def _client() -> TrackingClient:
    """One client per tracking URI; rebuilt when the user points somewhere else."""
    global _client_cache
    from flightlog.config import get_tracking_uri

    uri = get_tracking_uri()
    cached = _client_cache
    if cached is None or cached[0] != uri:
        cached = (uri, TrackingClient(uri))
        _client_cache = cached
    return cached[1]


# --- tracking URI -------------------------------------------------------------------------
def set_tracking_uri(uri: str | os.PathLike | None) -> None:
    """Point this process at a store: sqlite:///x.db, postgresql://..., http://host:port."""
    from flightlog import config

    global _active_experiment_id
    config.set_tracking_uri(uri)
    _active_experiment_id = None  # ids are per store


def get_tracking_uri() -> str:
    from flightlog import config

    return config.get_tracking_uri()


# --- experiments --------------------------------------------------------------------------
def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment active for new runs, creating it by name if needed."""
    global _active_experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameterError(
            "set_experiment needs exactly one of experiment_name or experiment_id"
        )
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        experiment = client.get_experiment_by_name(experiment_name)  # type: ignore[arg-type]
        if experiment is None:
            try:
                new_id = client.create_experiment(experiment_name)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - another process may have created it meanwhile
                experiment = client.get_experiment_by_name(experiment_name)  # type: ignore[arg-type]
                if experiment is None:
                    raise
            else:
                experiment = client.get_experiment(new_id)
    if experiment.lifecycle_stage != "active":
        raise ExperimentNotActiveError(
            f"Cannot set the deleted experiment {experiment.name!r} (id {experiment.experiment_id}) "
            "as the active experiment; restore it first with restore_experiment()"
        )
    _active_experiment_id = experiment.experiment_id
    return experiment


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def search_experiments(
    view_type: int | str = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every matching experiment (all pages), or the first `max_results`."""
    client = _client()
    out: list[Experiment] = []
    token = None
    while True:
        page_size = 1000 if max_results is None else min(1000, max_results - len(out))
        page = client.search_experiments(view_type, page_size, filter_string, order_by, token)
        out.extend(page)
        token = page.token
        if not token or (max_results is not None and len(out) >= max_results):
            return out


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    _client().restore_experiment(experiment_id)


def _resolve_experiment_id(experiment_id: str | None) -> str:
    if experiment_id is not None:
        return str(experiment_id)
    if _active_experiment_id is not None:
        return _active_experiment_id
    name = os.environ.get("FLIGHTLOG_EXPERIMENT_NAME") or os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        return set_experiment(experiment_name=name).experiment_id
    env_id = os.environ.get("FLIGHTLOG_EXPERIMENT_ID") or os.environ.get("MLFLOW_EXPERIMENT_ID")
    if env_id:
        return env_id
    return "0"


# --- runs ---------------------------------------------------------------------------------
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run (or resume `run_id`) and make it the active run."""
    global _last_active_run_id
    from flightlog.context import system_tags

    client = _client()
    with _lock:
        local, nested, parent_run_id, experiment_id = _placement(
            client, run_id, experiment_id, nested, parent_run_id
        )
        if _active_runs and not nested and not local:
            current = _active_runs[-1].info.run_id
            raise InvalidParameterError(
                f"Run with UUID {current} is already active. End it with end_run() first, "
                "or call start_run(nested=True) to start a nested run"
            )
        if parent_run_id is None and nested and _active_runs:
            parent_run_id = _active_runs[-1].info.run_id

        created_here = run_id is None
        if run_id is None and not nested and parent_run_id is None:
            # One run per distributed job: every rank gets the job's run (flightlog.distributed).
            joined = _distributed_start(client, experiment_id, tags, run_name)
            if joined is not None:
                run_id, created_here = joined
        if run_id is not None:
            run = client.get_run(run_id)
            if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
                raise InvalidParameterError(
                    f"Run {run_id} belongs to experiment {run.info.experiment_id}, "
                    f"not {experiment_id}"
                )
            if run.info.lifecycle_stage != "active":
                raise InvalidParameterError(f"Cannot resume run {run_id}: it is deleted")
            if run.info.status != RunStatus.RUNNING:
                client.reopen_run(run_id)
            if tags:
                client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])
            if run_name:
                client.update_run(run_id, name=run_name)
            run = client.get_run(run_id)
        else:
            exp_id = _resolve_experiment_id(experiment_id)
            all_tags = system_tags()
            all_tags.update({k: str(v) for k, v in (tags or {}).items()})
            if parent_run_id is not None:
                _check_parent(client, parent_run_id, exp_id)
                all_tags[PARENT_RUN_TAG] = parent_run_id
            if description is not None:
                all_tags[NOTE_TAG] = description
            try:
                run = client.create_run(exp_id, tags=all_tags, run_name=run_name)
            except ExperimentNotFoundError:
                if experiment_id is None and exp_id == _active_experiment_id:
                    raise ExperimentNotFoundError(
                        f"The active experiment {exp_id} no longer exists; call set_experiment() again"
                    ) from None
                raise
        active = ActiveRun(run)
        # log_* calls reach the run's own store without resolving the tracking URI each time.
        active._client = client
        active._thread = threading.get_ident()
        if local:
            _context_runs.push(active)
        else:
            _active_runs.append(active)
        _last_active_run_id = active.info.run_id
        _run_started(active, client, log_system_metrics, tags, created_here, nested)
        return active


SWEEP_KEY_TAG = "flightlog.sweep.key"
PARENT_RUN_ENV = "FLIGHTLOG_PARENT_RUN_ID"


def _placement(
    client: TrackingClient,
    run_id: str | None,
    experiment_id: str | None,
    nested: bool,
    parent_run_id: str | None,
) -> tuple[bool, bool, str | None, str | None]:
    """Where a new run goes: (on this context's stack?, nested?, parent id, experiment id).

    The process-wide stack, as MLflow does, unless (docs/sweeps.md, "Threads"):
    - this context already has a run (a sweep trial on a worker thread): the new run nests
      under it, on the same context stack;
    - the top of the process-wide stack belongs to another thread (or was inherited through
      fork) and the new run names a parent, asks to be nested, or the top is a sweep parent:
      the new run is a child on this context's stack, so threads never nest into each other;
    - the top is a sweep parent on this thread: start_run() makes a child of it.
    With no active run at all, FLIGHTLOG_PARENT_RUN_ID (exported by a sweep to the processes
    it starts) names the parent, and the parent's experiment is the default.
    """
    local = _context_runs.top()
    if local is not None:
        if not nested and parent_run_id is None:
            raise InvalidParameterError(
                f"Run with UUID {local.info.run_id} is already active in this thread. End it "
                "first, or call start_run(nested=True) to start a nested run"
            )
        return True, True, parent_run_id or local.info.run_id, experiment_id
    if not _active_runs:
        if run_id is None and parent_run_id is None and not nested:
            env_parent = os.environ.get(PARENT_RUN_ENV) or None
            if env_parent is not None:
                parent_run_id = env_parent
                if experiment_id is None:
                    experiment_id = client.get_run(env_parent).info.experiment_id
        return False, nested, parent_run_id, experiment_id
    top = _active_runs[-1]
    sweep_top = SWEEP_KEY_TAG in top.data.tags
    owner = getattr(top, "_thread", None)
    foreign = (owner is not None and owner != threading.get_ident()) or (
        top.info.run_id in _lifecycle._inherited_runs
    )
    wants_child = nested or parent_run_id is not None or sweep_top
    if foreign and wants_child:
        return True, True, parent_run_id or top.info.run_id, experiment_id
    if sweep_top and run_id is None:
        return False, True, parent_run_id or top.info.run_id, experiment_id
    return False, nested, parent_run_id, experiment_id


def _end_context_run(run_id: str, status: str) -> bool:
    """End a run pushed on a context stack (and runs above it there); False if it is not one."""
    if _context_runs.contains(run_id):
        while _context_runs.contains(run_id):
            end_run(status)
        return True
    stray = next((r for r in _context_runs.open_runs() if r.info.run_id == run_id), None)
    if stray is None:
        return False
    # Pushed in another context (its `with` block ended elsewhere): end it directly.
    _context_runs.forget(run_id)
    _run_ending(stray, status)
    return True


def _check_parent(client: TrackingClient, parent_run_id: str, experiment_id: str) -> None:
    parent = client.get_run(parent_run_id)
    if parent.info.experiment_id != experiment_id:
        raise InvalidParameterError(
            f"Parent run {parent_run_id} is in experiment {parent.info.experiment_id}; a nested "
            f"run must be in the same experiment (got {experiment_id})"
        )


def _distributed_start(
    client: TrackingClient,
    experiment_id: str | None,
    tags: Mapping[str, Any] | None,
    run_name: str | None,
) -> tuple[str, bool] | None:
    from flightlog import distributed

    if not distributed.is_distributed():
        return None
    return distributed.start_run_hook(client, experiment_id, tags, run_name)


def _run_started(
    active: ActiveRun,
    client: TrackingClient,
    log_system_metrics: bool | None,
    tags: Mapping[str, Any] | None,
    created_here: bool,
    nested: bool,
) -> None:
    """Distributed bookkeeping and system metrics for a run that just became active."""
    from flightlog import distributed, system_metrics

    active._created_here = created_here
    if not nested:
        distributed.publish(active.info.run_id)  # for the ranks this process launches
    autologged = bool(tags) and "mlflow.autologging" in tags
    try:
        if system_metrics.wanted(log_system_metrics, autologged):
            system_metrics.start_for_run(active.info.run_id, client, resumed=not created_here)
    except Exception as exc:  # noqa: BLE001 - sampling must never stop a run from starting
        import warnings

        warnings.warn(f"flightlog: system metrics are not recorded: {exc}", stacklevel=3)


def _run_ending(run: Run, status: str) -> None:
    """Stop the run's sampler, then mark it ended, unless another rank of its job owns it."""
    import sys

    from flightlog import distributed

    run_id = run.info.run_id
    sampling = sys.modules.get("flightlog.system_metrics")
    if sampling is not None:
        sampling.stop_for_run(run_id)
    if os.environ.get(distributed.JOB_RUN_ID_ENV) == run_id:
        distributed.publish(None)
    client = getattr(run, "_client", None) or _client()
    if distributed.ends_runs(getattr(run, "_created_here", True)):
        client.set_terminated(run_id, status)
    else:
        client._queue.flush(run_id)  # rank 0 ends the job's run; this rank's points are in


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the active run: its queued data is stored, then it is marked `status`."""
    global _last_active_run_id
    run = _context_runs.pop()  # this context's own run first (flightlog.context_runs)
    if run is None:
        with _lock:
            if not _active_runs:
                return
            run = _active_runs.pop()
    _last_active_run_id = run.info.run_id
    on_end = getattr(run, "_on_end", None)
    if on_end is not None:  # a sweep parent: leaving the sweep ends it only for the last process
        on_end(status)
        return
    _run_ending(run, status)


def _end_all_runs(status: str) -> None:
    """End every open run, innermost first (used at exit and on signals)."""
    while True:
        with _lock:
            if not _active_runs:
                break
        end_run(status)
    for run in _context_runs.open_runs():  # trials still open on other threads
        _end_context_run(run.info.run_id, status)


def active_run() -> ActiveRun | None:
    local = _context_runs.top()
    if local is not None:
        return local
    with _lock:
        return _active_runs[-1] if _active_runs else None


def last_active_run() -> Run | None:
    """The active run, else the run most recently ended in this process (fresh from the store)."""
    current = active_run()
    run_id = current.info.run_id if current else _last_active_run_id
    return _client().get_run(run_id) if run_id else None


def get_run(run_id: str) -> Run:
    return _client().get_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    return _client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    _client().restore_run(run_id)


def _run_id_or_active(run_id: str | None = None) -> str:
    if run_id is not None:
        return run_id
    active = _context_runs.top() or (_active_runs[-1] if _active_runs else None)
    if active is not None:
        return active.info.run_id
    # MLflow starts a run implicitly on the first log call; keep that behaviour.
    return start_run().info.run_id


def _active_run_id() -> str | None:
    active = _context_runs.top() or (_active_runs[-1] if _active_runs else None)
    return active.info.run_id if active is not None else None


# --- logging ------------------------------------------------------------------------------
def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Append one point; in async mode this only validates and queues (microseconds).
    With `model_id` (or right after log_model, at its step) the point is the model's too."""
    linked = model_id is not None or dataset is not None or _logged_models.has_linked_models()
    if linked and _logged_models.log_metrics_for_models(
        {key: value}, step, synchronous, timestamp, run_id, model_id, dataset
    ):
        return
    active = _context_runs.top() if run_id is None else None
    if active is None and run_id is None and _active_runs:
        active = _active_runs[-1]
    if active is not None:
        client = getattr(active, "_client", None) or _client()
        client.log_metric(active.info.run_id, key, value, timestamp, step, synchronous)
        return
    _client().log_metric(_run_id_or_active(run_id), key, value, timestamp, step, synchronous)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    from flightlog.client import _now_ms

    linked = model_id is not None or dataset is not None or _logged_models.has_linked_models()
    if linked and _logged_models.log_metrics_for_models(
        metrics, step, synchronous, timestamp, run_id, model_id, dataset
    ):
        return
    run_id = _run_id_or_active(run_id)
    ts = _now_ms() if timestamp is None else timestamp
    batch = [Metric(k, val, ts, 0 if step is None else step) for k, val in metrics.items()]
    _client().log_batch(run_id, metrics=batch, synchronous=synchronous)


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    return _client().log_param(_run_id_or_active(), key, value, synchronous)


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    batch = [Param(k, val) for k, val in params.items()]
    _client().log_batch(_run_id_or_active(run_id), params=batch, synchronous=synchronous)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _client().set_tag(_run_id_or_active(), key, value, synchronous)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> None:
    batch = [RunTag(k, val) for k, val in tags.items()]
    _client().log_batch(_run_id_or_active(), tags=batch, synchronous=synchronous)


def delete_tag(key: str) -> None:
    _client().delete_tag(_run_id_or_active(), key)


def log_artifact(
    local_path: str, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    _client().log_artifact(_run_id_or_active(run_id), local_path, artifact_path)


def log_artifacts(
    local_dir: str, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    _client().log_artifacts(_run_id_or_active(run_id), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_text(_run_id_or_active(run_id), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_dict(_run_id_or_active(run_id), dictionary, artifact_file)


def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: dict | None = None, run_id: str | None = None
) -> None:
    _client().log_figure(_run_id_or_active(run_id), figure, artifact_file, save_kwargs=save_kwargs)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_table(_run_id_or_active(run_id), data, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    from flightlog.artifacts.base import clean_artifact_path

    base = _client().get_run(_run_id_or_active()).info.artifact_uri
    rel = clean_artifact_path(artifact_path)
    return f"{base.rstrip('/')}/{rel}" if rel else base


def log_input(
    dataset: Any, context: str | None = None, tags: Mapping[str, str] | None = None
) -> None:
    """Record a dataset as a run input (name, digest, schema, rows — not the data)."""
    from flightlog.entities import DatasetInput

    all_tags = dict(tags or {})
    if context:
        all_tags["mlflow.data.context"] = context
    if hasattr(dataset, "to_entity"):
        inner = dataset.to_entity()  # a flightlog.data dataset
    elif hasattr(dataset, "_to_mlflow_entity"):  # an mlflow.data dataset: same fields
        from flightlog.entities import Dataset

        inner = Dataset.from_dict(dataset._to_mlflow_entity().to_dictionary())
    else:
        inner = dataset
    _client().log_inputs(_run_id_or_active(), [DatasetInput(inner, all_tags)])


def flush(timeout: float | None = None) -> bool:
    """Wait until everything logged so far is stored; False if `timeout` ran out first."""
    import sys
    import time

    from flightlog.queue import get_logging_queue

    # Autolog draws its plots on a background thread, and they log too: wait for them first
    # (only if autolog ever loaded that module).
    deadline = None if timeout is None else time.monotonic() + timeout
    background = sys.modules.get("flightlog.autolog.background")
    drawn = background.wait_for_background(timeout) if background is not None else True
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    return get_logging_queue().flush(timeout=remaining) and drawn


def queue_stats() -> dict[str, int]:
    from flightlog.queue import get_logging_queue

    return get_logging_queue().stats()


# --- search -------------------------------------------------------------------------------
def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: int | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
):
    """Runs matching an MLflow filter, as a pandas DataFrame (or a list with output_format="list")."""
    client = _client()
    if experiment_names:
        ids = []
        for name in experiment_names:
            exp = client.get_experiment_by_name(name)
            if exp is not None:
                ids.append(exp.experiment_id)
        experiment_ids = list(experiment_ids or []) + ids
    elif not experiment_ids:
        if search_all_experiments:
            experiment_ids = [e.experiment_id for e in search_experiments(view_type=ViewType.ALL)]
        else:
            experiment_ids = [_resolve_experiment_id(None)]
    if isinstance(experiment_ids, str | int):
        experiment_ids = [str(experiment_ids)]

    runs: list[Run] = []
    token = None
    while len(runs) < max_results:
        page = client.search_runs(
            experiment_ids,
            filter_string,
            run_view_type,
            min(50_000, max_results - len(runs)),
            order_by,
            token,
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs
    if output_format != "pandas":
        raise InvalidParameterError(
            f"output_format must be 'pandas' or 'list', got {output_format!r}"
        )
    try:
        import pandas  # noqa: F401
    except ImportError:
        return runs
    from flightlog._dataframe import runs_to_dataframe

    return runs_to_dataframe(runs)


def _register_exit_handler() -> None:
    # Exit, uncaught exceptions and SIGTERM flush the logging queue and end open runs
    # (FINISHED / FAILED / KILLED); see flightlog.lifecycle.
    _lifecycle.install()


_register_exit_handler()
