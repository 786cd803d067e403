"""Real `flightlog server` processes on free 127.0.0.1 ports, stopped by PID after use."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from flightlog.server.process import ServerProcess

POSTGRES_ENV = "FLIGHTLOG_TEST_POSTGRES_URI"
POSTGRES_DEFAULT = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    """One server per test module (SQLite store, local artifact folder)."""
    proc = ServerProcess.flightlog(tmp_path_factory.mktemp("server"))
    proc.start(timeout=120)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def api(server):
    """Call the server's JSON API with `requests`: api(method, endpoint, json|params) -> response."""
    import requests

    session = requests.Session()

    def call(method: str, endpoint: str, body=None, **kwargs):
        url = server.url + endpoint
        if method == "GET":
            return session.get(url, params=body, timeout=30, **kwargs)
        return session.request(method, url, json=body, timeout=30, **kwargs)

    yield call
    session.close()


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped afterwards); skipped if none can be reached,
    except under CI=true."""
    import sqlalchemy as sa

    admin_uri = os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)
    name = f"flightlog_server_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(admin_uri, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any failure means "no server to test against"
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL not reachable at {admin_uri}: {exc}")
    url = sa.engine.make_url(admin_uri).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
