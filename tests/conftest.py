"""Fixtures shared by the whole suite.

Every test gets its own embedded store (a SQLite file under tmp_path) and a clean fluent state,
so tests never see each other's runs and never write into the working directory.

SQL store fixtures: `store` runs a test once per backend (SQLite, PostgreSQL, MySQL/MariaDB).
SQLite gets a new file per test; each server gets one randomly named database per test session
(created on first use, dropped at the end) whose tables are emptied before every test.
Servers come from FLIGHTLOG_TEST_POSTGRES_URI and FLIGHTLOG_TEST_MYSQL_URI; when one cannot be
reached its tests are skipped, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

# Integration bugs must fail tests instead of hiding behind warnings (see flightlog.autolog).
os.environ.setdefault("FLIGHTLOG_AUTOLOG_TESTING", "1")
# Spools and journals of this test session (and its subprocesses) stay out of ~/.cache.
os.environ.setdefault("FLIGHTLOG_SPOOL_DIR", tempfile.mkdtemp(prefix="flightlog-test-spool-"))


def _reset_fluent_state() -> None:
    from flightlog import config

    # Only a test that used the fluent API has fluent state to reset; store tests never import it.
    fluent = sys.modules.get("flightlog.fluent")
    if fluent is not None:
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


# --- SQL store backends --------------------------------------------------------------------------

SQL_BACKENDS = ("sqlite", "postgresql", "mysql")

_SERVER_ENV = {
    "postgresql": (
        "FLIGHTLOG_TEST_POSTGRES_URI",
        "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
    ),
    "mysql": ("FLIGHTLOG_TEST_MYSQL_URI", "mysql+pymysql://root@127.0.0.1:3306/"),
}


def pytest_configure(config):
    for backend in SQL_BACKENDS:
        config.addinivalue_line("markers", f"{backend}: runs against the {backend} SQL store")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _unavailable(message: str):
    """Skip, or fail under CI: CI must never go green without its databases."""
    if _in_ci():
        pytest.fail(f"{message} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


@dataclass
class _ServerDatabase:
    """One throwaway database on a server, created on first use."""

    backend: str
    url: object = None  # sqlalchemy URL of the test database
    admin_url: object = None
    error: str | None = None
    store: object = None  # the shared SqlStore on it
    tables: list = field(default_factory=list)  # every table but the version table, children first

    @property
    def env_var(self) -> str:
        return _SERVER_ENV[self.backend][0]

    def create(self) -> None:
        """Find a server that answers (trying the fallback user) and make the session's database."""
        from sqlalchemy.engine import make_url

        env_var, default = _SERVER_ENV[self.backend]
        base = make_url(os.environ.get(env_var) or default)
        candidates = [base]
        if self.backend == "postgresql" and base.username == "postgres":
            candidates.append(base.set(username="root"))  # some hosts only have a root role
        errors = []
        for url in candidates:
            self.admin_url = url
            try:
                self.url = self.create_database()
                return
            except Exception as exc:  # noqa: BLE001 - any failure means "no server to test on"
                errors.append(f"{url.render_as_string(hide_password=True)}: {exc}".splitlines()[0])
        self.admin_url = None
        self.error = (
            f"no {self.backend} server for the SQL store tests ({'; '.join(errors)}); "
            f"set {env_var} to a reachable server URI"
        )

    def _admin(self, statement: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(
            self.admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def create_database(self):
        """A new, empty database on the server; returns its URL."""
        name = f"flightlog_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "mysql":
            self._admin(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        else:
            self._admin(f"CREATE DATABASE {name}")
        return self.admin_url.set(database=name)

    def drop_database(self, url) -> None:
        force = " WITH (FORCE)" if self.backend == "postgresql" else ""
        self._admin(f"DROP DATABASE IF EXISTS {url.database}{force}")

    def shared_store(self, artifact_root: str):
        from flightlog.store.sql import SqlStore

        if self.store is None:
            import sqlalchemy as sa

            self.store = SqlStore(
                self.url.render_as_string(hide_password=False), default_artifact_root=artifact_root
            )
            metadata = sa.MetaData()
            metadata.reflect(self.store.engine)
            # Children first, so deleting never trips a foreign key. Later migrations' tables
            # (the model registry) are found here too.
            self.tables = [
                t for t in reversed(metadata.sorted_tables) if t.name != "alembic_version"
            ]
        return self.store

    def wipe(self, artifact_root: str) -> None:
        """Empty every table and put the Default experiment back, as in a new store."""
        from flightlog.entities import LifecycleStage
        from flightlog.store.sql import insert_experiment_zero

        store = self.store
        with store.engine.begin() as conn:
            for table in self.tables:
                conn.execute(table.delete())
            insert_experiment_zero(
                conn,
                {
                    "experiment_id": 0,
                    "name": "Default",
                    "artifact_location": f"{artifact_root}/0",
                    "lifecycle_stage": LifecycleStage.ACTIVE,
                    "creation_time": 0,
                    "last_update_time": 0,
                },
            )
        store.default_artifact_root = artifact_root

    def drop(self) -> None:
        if self.store is not None:
            self.store.close()
        if self.url is not None:
            self.drop_database(self.url)


@pytest.fixture(scope="session")
def sql_servers() -> Iterator[dict[str, _ServerDatabase]]:
    servers = {backend: _ServerDatabase(backend) for backend in _SERVER_ENV}
    yield servers
    for server in servers.values():
        server.drop()


def _server(sql_servers, backend: str) -> _ServerDatabase:
    server = sql_servers[backend]
    if server.url is None and server.error is None:
        server.create()
    if server.error is not None:
        _unavailable(server.error)
    return server


@dataclass
class StoreTarget:
    """Where a test's SQL store lives, so a test can open more stores on the same database."""

    backend: str
    uri: str
    artifact_root: str

    def open(self):
        from flightlog.store.sql import SqlStore

        return SqlStore(self.uri, default_artifact_root=self.artifact_root)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file without the Default experiment (each store adds its own, with its
    own artifact root): copying it is much cheaper than migrating a new file for every test.
    New-file migration has its own tests (`fresh_store_target`)."""
    from flightlog.store import dbschema
    from flightlog.store.sql import SqlStore

    path = tmp_path_factory.mktemp("sqlite-template") / "flightlog.db"
    template = SqlStore(f"sqlite:///{path}", default_artifact_root="file:///unused")
    with template.engine.begin() as conn:
        conn.execute(dbschema.experiments.delete())
    template.close()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(params=[pytest.param(b, marks=getattr(pytest.mark, b)) for b in SQL_BACKENDS])
def store_target(request, tmp_path, sql_servers) -> StoreTarget:
    backend = request.param
    artifact_root = (tmp_path / "artifacts").as_uri()
    if backend == "sqlite":
        path = tmp_path / "store" / "flightlog.db"
        path.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return StoreTarget(backend, f"sqlite:///{path}", artifact_root)
    server = _server(sql_servers, backend)
    server.shared_store(artifact_root)
    server.wipe(artifact_root)
    return StoreTarget(backend, server.url.render_as_string(hide_password=False), artifact_root)


@pytest.fixture
def store(store_target, sql_servers) -> Iterator[object]:
    """A SqlStore holding only the Default experiment, once per backend."""
    if store_target.backend == "sqlite":
        opened = store_target.open()
        yield opened
        opened.close()
    else:
        yield sql_servers[store_target.backend].store


@pytest.fixture(params=[pytest.param(b, marks=getattr(pytest.mark, b)) for b in SQL_BACKENDS])
def fresh_store_target(request, tmp_path, sql_servers) -> Iterator[StoreTarget]:
    """A database no store has opened yet (a new SQLite path, or a new server database that is
    dropped after the test), once per backend."""
    backend = request.param
    artifact_root = (tmp_path / "artifacts").as_uri()
    if backend == "sqlite":
        yield StoreTarget(
            backend, f"sqlite:///{tmp_path / 'fresh' / 'flightlog.db'}", artifact_root
        )
        return
    server = _server(sql_servers, backend)
    url = server.create_database()
    try:
        yield StoreTarget(backend, url.render_as_string(hide_password=False), artifact_root)
    finally:
        server.drop_database(url)


@pytest.fixture
def make_store(store_target) -> Iterator[Callable[[], object]]:
    """Opens more SqlStores on the test's database (closed after the test)."""
    opened = []

    def make():
        new = store_target.open()
        opened.append(new)
        return new

    yield make
    for item in opened:
        item.close()
