"""SqlStore plumbing: migrations, re-opening, concurrent first opens, SQLite settings, error
translation, fork safety, URIs."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest
import sqlalchemy as sa

from flightlog.entities import Metric, Param, RunTag
from flightlog.exceptions import FlightlogError, StoreUnavailableError
from flightlog.store import dbschema as db
from flightlog.store import migrations
from flightlog.store import sql as sql_module
from flightlog.store.sql import SqlStore, is_transient_error


def _sqlite_store(tmp_path, name="store/flightlog.db"):
    return SqlStore(f"sqlite:///{tmp_path / name}", default_artifact_root=(tmp_path / "a").as_uri())


# --- migrations -----------------------------------------------------------------------------


def test_head_revision_is_found_from_the_files():
    heads = migrations.head_revisions()
    assert len(heads) == 1
    assert "0001" in migrations.known_revisions()
    assert heads <= migrations.known_revisions()


def test_fresh_store_is_at_head(store):
    store.get_experiment("0")
    with store.engine.connect() as conn:
        assert migrations.current_revisions(conn) == migrations.head_revisions()
        tables = set(sa.inspect(conn).get_table_names())
    assert {t.name for t in db.TRACKING_TABLES} <= tables


def test_migrations_match_the_declared_schema(store):
    """dbschema (what queries use) and the migrations (what creates tables) must agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store.get_experiment("0")
    ours = {t.name for t in db.TRACKING_TABLES}
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, db.metadata)

    def table_of(diff):
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if name in ours:
                return name
        return item[2] if len(item) > 2 and isinstance(item[2], str) else None

    def declared_elsewhere(diff):
        # An index declared for other kinds of database only (dbschema.index_applies).
        item = diff[0] if isinstance(diff, list) else diff
        index = item[1] if len(item) > 1 else None
        return isinstance(index, sa.Index) and not db.index_applies(index, store.dialect_name)

    relevant = [d for d in diffs if table_of(d) in ours and not declared_elsewhere(d)]
    assert relevant == []

    # and the comparison does see a difference when there is one
    changed = sa.MetaData()
    for table in db.TRACKING_TABLES:
        table.to_metadata(changed)
    sa.Table("runs", changed, sa.Column("bogus", sa.Integer), extend_existing=True)
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, changed)
    found = [d[:3] for d in diffs if table_of(d) in ours and not declared_elsewhere(d)]
    assert found == [("add_column", None, "runs")]


def test_reopen_does_not_run_or_import_alembic(store_target):
    first = store_target.open()
    first.create_experiment("kept")
    first.close()
    script = textwrap.dedent(
        f"""
        import sys
        from flightlog.store.sql import SqlStore
        store = SqlStore({store_target.uri!r}, default_artifact_root="file:///tmp/x")
        assert store.get_experiment_by_name("kept") is not None
        assert "alembic" not in sys.modules, "alembic was imported for an up-to-date store"
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_downgrade_and_upgrade_again(tmp_path):
    from alembic import command

    store = _sqlite_store(tmp_path)
    store.create_experiment("exp")
    engine = store.engine
    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "base")
    with engine.connect() as conn:
        assert migrations.current_revisions(conn) == frozenset()
        assert not sa.inspect(conn).has_table("experiments")
    store.close()
    reopened = _sqlite_store(tmp_path)
    assert reopened.get_experiment("0").name == "Default"
    assert reopened.get_experiment_by_name("exp") is None
    reopened.close()


def test_database_from_another_tool_is_refused(tmp_path):
    path = tmp_path / "mlflow.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.execute("INSERT INTO alembic_version VALUES ('bff5b0c4a5f8')")
    conn.commit()
    conn.close()
    store = SqlStore(f"sqlite:///{path}", default_artifact_root="file:///tmp/x")
    with pytest.raises(FlightlogError, match="bff5b0c4a5f8.*MLflow"):
        store.get_experiment("0")


def _open_and_log(uri, barrier, index, results):
    try:
        barrier.wait(timeout=60)
        store = SqlStore(uri, default_artifact_root="file:///tmp/x")
        experiment_id = store.create_experiment(f"proc-{index}")
        run_id = store.create_run(experiment_id, "u", 1, [], None).info.run_id
        store.log_batch(run_id, [Metric("m", 1.0, 1, 0)], [Param("p", "1")], [RunTag("t", "v")])
        store.close()
        results.put((index, "ok"))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        results.put((index, f"{type(exc).__name__}: {exc}"))


@pytest.mark.slow
def test_processes_opening_a_new_store_at_once(fresh_store_target):
    """Processes racing to create the schema of one new database: none fails, it is migrated
    once, and the Default experiment exists once."""
    processes = 4
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=_open_and_log, args=(fresh_store_target.uri, barrier, i, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    outcomes = dict(results.get(timeout=10) for _ in workers)
    assert outcomes == {i: "ok" for i in range(processes)}
    store = fresh_store_target.open()
    names = sorted(e.name for e in store.search_experiments())
    assert names == ["Default"] + [f"proc-{i}" for i in range(processes)]
    with store.engine.connect() as conn:
        assert migrations.current_revisions(conn) == migrations.head_revisions()
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(db.metrics)).scalar() == processes
        )
    store.close()


def test_fresh_store_migrates_to_head(fresh_store_target):
    store = fresh_store_target.open()
    assert store.get_experiment("0").artifact_location == f"{fresh_store_target.artifact_root}/0"
    with store.engine.connect() as conn:
        assert migrations.current_revisions(conn) == migrations.head_revisions()
    store.close()


def test_threads_opening_one_store_at_once(tmp_path):
    store = _sqlite_store(tmp_path)
    errors = []

    def use():
        try:
            store.get_experiment("0")
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store.close()


# --- SQLite settings --------------------------------------------------------------------------


def test_sqlite_settings(tmp_path):
    store = _sqlite_store(tmp_path, "deep/er/dir/flightlog.db")
    store.get_experiment("0")
    assert (tmp_path / "deep/er/dir/flightlog.db").exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    store.close()


def test_in_memory_sqlite(tmp_path):
    store = SqlStore("sqlite://", default_artifact_root="file:///tmp/mem")
    experiment_id = store.create_experiment("exp")
    run_id = store.create_run(experiment_id, "u", 1, [], None).info.run_id

    def log(worker):
        for i in range(10):
            store.log_batch(run_id, metrics=[Metric("m", float(i), i, worker * 10 + i)])

    threads = [threading.Thread(target=log, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.get_metric_history(run_id, "m")) == 30
    store.close()


# --- errors ------------------------------------------------------------------------------------


def test_locked_sqlite_is_store_unavailable(tmp_path, monkeypatch):
    monkeypatch.setattr(sql_module, "SQLITE_BUSY_TIMEOUT_S", 0.05)
    store = _sqlite_store(tmp_path)
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    blocker = sqlite3.connect(tmp_path / "store/flightlog.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailableError, match="database is locked"):
            store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
        # reads still work in WAL mode while another connection writes
        assert store.get_run(run_id).data.metrics == {}
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    assert store.get_run(run_id).data.metrics == {"m": 1.0}
    store.close()


@pytest.mark.parametrize(
    "uri",
    [
        "postgresql+psycopg2://postgres@127.0.0.1:9/flightlog",
        "mysql+pymysql://root@127.0.0.1:9/flightlog",
    ],
)
def test_unreachable_server_is_store_unavailable(uri):
    store = SqlStore(uri, default_artifact_root="file:///tmp/x")
    with pytest.raises(StoreUnavailableError, match="temporarily unavailable"):
        store.get_experiment("0")
    # and again: the failed open left nothing half-made behind
    with pytest.raises(StoreUnavailableError):
        store.create_experiment("x")


def test_unreadable_sqlite_path_keeps_its_class(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    store = SqlStore(f"sqlite:///{tmp_path / 'file' / 'x.db'}", default_artifact_root="file:///x")
    with pytest.raises(Exception) as info:
        store.get_experiment("0")
    assert not isinstance(info.value, StoreUnavailableError)


class _FakeOrig(Exception):
    def __init__(self, *args, pgcode=None):
        super().__init__(*args)
        self.pgcode = pgcode


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (sa.exc.OperationalError("x", {}, _FakeOrig("database is locked")), True),
        (sa.exc.OperationalError("x", {}, _FakeOrig("database is busy")), True),
        (sa.exc.OperationalError("x", {}, _FakeOrig("Connection refused")), True),
        (sa.exc.OperationalError("x", {}, _FakeOrig(2006, "MySQL server has gone away")), True),
        (sa.exc.OperationalError("x", {}, _FakeOrig(1213, "Deadlock found")), True),
        (sa.exc.DBAPIError("x", {}, _FakeOrig("serialization", pgcode="40001")), True),
        (sa.exc.InterfaceError("x", {}, _FakeOrig("connection already closed")), True),
        (sa.exc.TimeoutError("QueuePool limit reached"), True),
        (sa.exc.OperationalError("x", {}, _FakeOrig("no such table: runs")), False),
        (sa.exc.IntegrityError("x", {}, _FakeOrig("UNIQUE constraint failed")), False),
        (sa.exc.ProgrammingError("x", {}, _FakeOrig("syntax error")), False),
        (ValueError("database is locked"), False),
    ],
)
def test_transient_error_classification(error, transient):
    assert is_transient_error(error) is transient


def test_store_unavailable_is_retryable_class():
    assert StoreUnavailableError("x").error_code == "TEMPORARILY_UNAVAILABLE"


# --- fork safety, URIs, get_store ---------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_reset_after_fork(store):
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])  # the parent holds connections
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's connections
        code = 1
        try:
            store.reset_after_fork()
            store.log_batch(run_id, metrics=[Metric("m", 2.0, 2, 1)])
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # the parent's pool still works
    assert [m.value for m in store.get_metric_history(run_id, "m")] == [1.0, 2.0]


def test_uri_spellings(monkeypatch):
    assert SqlStore("postgres://u@h/db", "file:///x").db_uri == "postgresql://u@h/db"
    monkeypatch.setitem(sys.modules, "MySQLdb", None)  # not installed
    assert SqlStore("mysql://u@h/db", "file:///x").db_uri == "mysql+pymysql://u@h/db"
    assert SqlStore("mysql+pymysql://u@h/db", "file:///x").db_uri == "mysql+pymysql://u@h/db"


def test_malformed_uri_fails_fast():
    with pytest.raises(sa.exc.ArgumentError):
        SqlStore("not a uri", "file:///x")


def test_get_store_builds_a_sql_store(tmp_path):
    from flightlog.store import get_store

    uri = f"sqlite:///{tmp_path / 'gs' / 'flightlog.db'}"
    store = get_store(uri)
    assert isinstance(store, SqlStore)
    assert get_store(uri) is store
    assert store.default_artifact_root == (tmp_path / "gs" / "artifacts").as_uri()
    experiment = store.get_experiment("0")
    assert experiment.artifact_location == (tmp_path / "gs" / "artifacts" / "0").as_uri()


def test_close_then_use_reopens(tmp_path):
    store = _sqlite_store(tmp_path)
    store.create_experiment("exp")
    store.close()
    store.close()  # twice is fine
    assert store.get_experiment_by_name("exp") is not None
    store.close()
