"""The logging queue between the training thread and the store.

PLACEHOLDER: writes through synchronously. The batched asynchronous implementation (writer
thread, spool, journal) replaces this module while keeping its interface:

- ``submit_metric(store, run_id, key, value, timestamp, step)``: the hot path, a tuple append;
- ``submit(store, run_id, metrics, params, tags)``: anything else (raises ParamConflictError
  synchronously when a param conflicts with a value already queued or stored);
- ``flush(run_id=None, timeout=None) -> bool``: wait until what was queued is stored;
- ``stats() -> dict``.
"""

from __future__ import annotations

from collections.abc import Sequence

from flightlog.entities import Metric, Param, RunTag
from flightlog.store.base import AbstractStore


class LoggingQueue:
    def submit_metric(
        self, store: AbstractStore, run_id: str, key: str, value: float, timestamp: int, step: int
    ) -> None:
        store.log_batch(run_id, metrics=[Metric(key, value, timestamp, step)])

    def submit(
        self,
        store: AbstractStore,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        store.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def flush(self, run_id: str | None = None, timeout: float | None = None) -> bool:
        return True

    def stats(self) -> dict[str, int]:
        return {"queued": 0, "written": 0, "retried": 0, "spooled": 0, "failed": 0}


_queue = LoggingQueue()


def get_logging_queue() -> LoggingQueue:
    return _queue
