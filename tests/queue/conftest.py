"""Fixtures for the logging-queue tests: a private spool folder, a private queue over a real
SQLite store, a way to lock that database from another connection, and script runners."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from queue_helpers import DbLock

from flightlog.queue import LoggingQueue
from flightlog.store import get_store


@pytest.fixture(autouse=True)
def spool_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "spool"
    monkeypatch.setenv("FLIGHTLOG_SPOOL_DIR", str(path))
    return path


@pytest.fixture
def store(isolated_tracking):
    return get_store(isolated_tracking)


@pytest.fixture
def db_path(isolated_tracking) -> str:
    return isolated_tracking[len("sqlite:///") :]


@pytest.fixture
def run_id(store) -> str:
    return store.create_run("0", "tester", 0, [], None).info.run_id


@pytest.fixture
def make_queue():
    """Private LoggingQueue instances (fault tests must not leave state in the global one)."""
    queues: list[LoggingQueue] = []

    def make(**env: str) -> LoggingQueue:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            q = LoggingQueue()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        queues.append(q)
        return q

    yield make
    for q in queues:
        q.close(timeout=10)


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """Make SQLite give up on a lock after 50 ms (stores created from now on)."""
    from flightlog.store import sql

    monkeypatch.setattr(sql, "SQLITE_BUSY_TIMEOUT_S", 0.05)


@pytest.fixture
def db_lock(db_path, store):
    store.engine  # noqa: B018 - create the database (schema) before anyone locks it
    lock = DbLock(db_path)
    yield lock
    lock.close()
