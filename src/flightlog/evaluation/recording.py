"""Writing results into a run: the given run, else the active run, else a new run that is
ended afterwards (as mlflow.evaluate does)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flightlog.entities import Metric, RunTag


class RunWriter:
    """Metrics, tags and artifacts for one run, written synchronously (a check() or the UI
    reading the run right after must see them)."""

    def __init__(self, run_id: str):
        from flightlog import fluent

        self.run_id = run_id
        self.client = fluent._client()

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        import math

        now = time.time_ns() // 1_000_000
        points = [
            Metric(key, float(value), now, 0)
            for key, value in metrics.items()
            if value is not None and not (isinstance(value, float) and math.isnan(value))
        ]
        for start in range(0, len(points), 900):
            self.client.log_batch(
                self.run_id, metrics=points[start : start + 900], synchronous=True
            )

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        batch = [RunTag(key, str(value)) for key, value in tags.items()]
        if batch:
            self.client.log_batch(self.run_id, tags=batch, synchronous=True)

    def log_artifact(self, local_path: str, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self.run_id, local_path, artifact_path)

    def artifact_uri(self, relative: str) -> str:
        import posixpath

        root = self.client.get_run(self.run_id).info.artifact_uri
        return posixpath.join(root, relative)


@contextmanager
def target_run(run_id: str | None = None) -> Iterator[RunWriter]:
    from flightlog import fluent

    if run_id is not None:
        yield RunWriter(run_id)
        return
    active = fluent.active_run()
    if active is not None:
        yield RunWriter(active.info.run_id)
        return
    with fluent.start_run() as run:
        yield RunWriter(run.info.run_id)


def set_tags_on_any_run(run_id: str, tags: Mapping[str, Any]) -> None:
    """Tags on a run that may have finished (check results annotate a finished run, as
    MLflow's set_tag does); refused only for deleted runs."""
    from flightlog import fluent
    from flightlog.exceptions import RunNotActiveError

    client = fluent._client()
    run = client.get_run(run_id)
    if run.info.lifecycle_stage != "active":
        raise RunNotActiveError(f"Run {run_id} is deleted; restore it before tagging it")
    batch = [RunTag(key, str(value)) for key, value in tags.items()]
    from flightlog.client import _checked_tag

    batch = [_checked_tag(tag) for tag in batch]
    client._queue.write_through(client._store, run_id, [], [], batch)
