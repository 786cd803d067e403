"""Reading a sweep back in the sweep tests (imported by module name, like queue_helpers)."""

from __future__ import annotations


def sweep_runs(client, experiment_id: str = "0"):
    """(parents, children, top-level runs) of an experiment."""
    runs = []
    token = None
    while True:
        page = client.search_runs([experiment_id], "", max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    parents = [r for r in runs if "flightlog.sweep.key" in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    top = [r for r in runs if not r.data.tags.get("mlflow.parentRunId")]
    return parents, children, top
