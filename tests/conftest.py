"""Fixtures shared by the whole suite.

Every test gets its own embedded store (a SQLite file under tmp_path) and a clean fluent state,
so tests never see each other's runs and never write into the working directory.
"""

from __future__ import annotations

import os

import pytest

# Integration bugs must fail tests instead of hiding behind warnings (see flightlog.autolog).
os.environ.setdefault("FLIGHTLOG_AUTOLOG_TESTING", "1")


def _reset_fluent_state() -> None:
    from flightlog import config, fluent

    try:
        fluent.flush(timeout=10)
    except Exception:  # noqa: BLE001 - a broken store in one test must not break the next
        pass
    with fluent._lock:
        fluent._active_runs.clear()
    fluent._last_active_run_id = None
    fluent._active_experiment_id = None
    fluent._client_cache = None
    config.set_tracking_uri(None)


@pytest.fixture(autouse=True)
def isolated_tracking(tmp_path, monkeypatch):
    """A fresh embedded store per test; yields its tracking URI."""
    uri = f"sqlite:///{tmp_path / 'flightlog-runs' / 'flightlog.db'}"
    for name in (
        "FLIGHTLOG_TRACKING_URI",
        "MLFLOW_TRACKING_URI",
        "FLIGHTLOG_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_NAME",
        "FLIGHTLOG_EXPERIMENT_ID",
        "MLFLOW_EXPERIMENT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", uri)
    _reset_fluent_state()
    yield uri
    _reset_fluent_state()
