"""Sweep tests leave no context-local run behind (helpers: sweep_helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_context_runs_left():
    yield
    from flightlog import context_runs

    for run in context_runs.open_runs():
        context_runs.forget(run.info.run_id)
