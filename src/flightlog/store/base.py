"""The interface every tracking backend implements.

SqlStore (SQLite, PostgreSQL, MySQL) and RestStore (any MLflow-REST server) both implement it;
the client, the logging queue and the server only ever talk to this interface. Method names and
arguments follow MLflow's AbstractStore so MLflow users can read them without a map.

Contract for implementers:
- ids are strings; times are milliseconds since the epoch;
- unknown ids raise ExperimentNotFoundError / RunNotFoundError, duplicates raise
  ResourceAlreadyExistsError, transient backend trouble raises StoreUnavailableError (the queue
  retries only that class);
- `log_batch` is atomic: either every metric/param/tag in the call is stored or none is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from flightlog.entities import (
    DatasetInput,
    Experiment,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from flightlog.history import MetricArrays


@dataclass(frozen=True)
class RunSpec:
    """One run for `create_runs`."""

    user_id: str
    start_time: int
    tags: Sequence[RunTag] = ()
    run_name: str | None = None
    run_id: str | None = None


class AbstractStore(ABC):
    """A tracking backend: experiments, runs and their metrics, params and tags."""

    # Largest batch the backend takes in one log_batch call (the queue chunks to fit).
    max_metrics_per_batch: int = 100_000
    max_params_per_batch: int = 10_000
    max_tags_per_batch: int = 10_000

    # --- experiments ---------------------------------------------------------------------
    @abstractmethod
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str: ...

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abstractmethod
    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]: ...

    @abstractmethod
    def delete_experiment(self, experiment_id: str) -> None: ...

    @abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, tag: RunTag) -> None: ...

    # --- runs ----------------------------------------------------------------------------
    @abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
        run_id: str | None = None,
    ) -> Run:
        """A new RUNNING run. With `run_id` (a 32-hex-digit id chosen by the caller) creating is
        idempotent: when a run with that id exists already, that run is returned unchanged (a
        retried request whose answer was lost, or N processes deriving the same sweep parent
        id); one in another experiment is an InvalidParameterError."""

    def create_runs(self, experiment_id: str, specs: Sequence[RunSpec]) -> list[Run]:
        """Several new runs at once, in `specs` order; stores with a bulk path (one transaction)
        override this loop."""
        return [
            self.create_run(
                experiment_id, s.user_id, s.start_time, s.tags, s.run_name, run_id=s.run_id
            )
            for s in specs
        ]

    @abstractmethod
    def get_run(self, run_id: str) -> Run: ...

    @abstractmethod
    def update_run_info(
        self, run_id: str, run_status: str, end_time: int | None, run_name: str | None = None
    ) -> RunInfo: ...

    @abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Store all of it atomically. A param already stored with another value raises
        ParamConflictError and stores nothing; the same value again is accepted."""

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of one metric, ordered by (step, timestamp, insertion)."""

    def get_metric_history_arrays(self, run_id: str, metric_key: str) -> MetricArrays:
        """The whole history as columns; stores with a faster path than paging override it."""
        from flightlog.history import arrays_from_pages

        return arrays_from_pages(self, run_id, metric_key)

    @abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]: ...

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not record dataset inputs")

    # --- convenience built on the primitives ---------------------------------------------
    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, tags=[tag])

    def close(self) -> None:
        """Release connections; the store may not be used afterwards."""

    def reset_after_fork(self) -> None:
        """Drop connections inherited from a parent process (called in a forked child)."""


def check_client_run_id(run_id: str) -> str:
    """A caller-chosen run id must look like a generated one: 32 lowercase hex digits."""
    import re

    from flightlog.exceptions import InvalidParameterError

    if not isinstance(run_id, str) or not re.fullmatch(r"[0-9a-f]{32}", run_id):
        raise InvalidParameterError(
            f"A run id chosen by the client must be 32 lowercase hex digits, got {run_id!r}"
        )
    return run_id
