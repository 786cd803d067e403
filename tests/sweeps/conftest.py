"""Helpers for the sweep tests: reading a sweep back, and leaving no context-local run behind."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_context_runs_left():
    yield
    from flightlog import context_runs

    for run in context_runs.open_runs():
        context_runs.forget(run.info.run_id)


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
