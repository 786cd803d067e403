"""SqlStore: the tracking store on SQLite, PostgreSQL or MySQL/MariaDB, over SQLAlchemy Core.

How it stays fast and safe:
- one engine per store, created on first use; the schema is checked with one cheap query and
  Alembic is imported only when the database needs migrating (see `flightlog.store.migrations`);
- SQLite runs in WAL mode with synchronous=NORMAL, a 30 s busy timeout and foreign keys on, and
  every write transaction starts with BEGIN IMMEDIATE, so concurrent writers queue on the busy
  timeout instead of failing with SQLITE_BUSY when a read lock cannot be upgraded;
- `log_batch` is one transaction. On SQLite the history goes in as a few large multi-row
  INSERTs that take (key, value, timestamp, step) tuples as they are (SQLite itself encodes NaN
  and clips infinities) and latest_metrics is refreshed from the history's index with one more
  statement; elsewhere the rows are built in Python and sent with COPY (PostgreSQL) or
  executemany, with one upsert per key computed in Python. `log_metric_points` is the logging
  queue's way in: the same, from tuples whose types the client already checked;
- a point identical to a stored one (run, key, step, timestamp, value; NaN equals NaN here) is
  the same point: the unique index ux_metrics_point makes re-sent points no-ops (ON CONFLICT DO
  NOTHING; MySQL's ON DUPLICATE KEY UPDATE id = id; on PostgreSQL, COPY in a savepoint and the
  conflict-skipping INSERT only when COPY meets a stored point). The latest point of a key is
  the greatest (step, timestamp, value), as in MLflow, whatever order points arrive in;
- search filters and order_by are compiled to SQL (`flightlog.store.sql_search`);
- transient database trouble (locked, busy, connection lost, deadlock, disk full) is raised as
  StoreUnavailableError so the logging queue retries it; other errors keep their class.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, starmap
from operator import itemgetter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from flightlog.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
    ViewType,
)
from flightlog.exceptions import (
    ExperimentAlreadyExistsError,
    ExperimentNotActiveError,
    ExperimentNotFoundError,
    FlightlogError,
    InvalidParameterError,
    ParamConflictError,
    PermissionDeniedError,
    ResourceNotFoundError,
    RunNotActiveError,
    RunNotFoundError,
    StoreUnavailableError,
)
from flightlog.history import MetricArrays
from flightlog.store import dbschema as db
from flightlog.store import migrations, sql_search
from flightlog.store.base import AbstractStore, RunSpec, check_client_run_id
from flightlog.store.run_names import generate_run_name
from flightlog.store.search import EXPERIMENTS, RUNS, parse_filter, parse_order_by_list
from flightlog.store.sql_registry import SqlRegistryMixin
from flightlog.validation import (
    validate_experiment_name,
    validate_key,
    validate_param_value,
    validate_run_name,
    validate_tag_value,
)

RUN_NAME_TAG = "mlflow.runName"
DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"
SEARCH_MAX_RESULTS = 50_000
SQLITE_BUSY_TIMEOUT_S = 30.0
# WAL pages (4 KiB each) after which a commit checkpoints by itself; SQLite's default is 1000.
# A checkpoint writes and fsyncs the database file: tens of ms for a few MB. The logging queue
# checkpoints whenever it runs out of work (SqlStore.checkpoint), so this bound only matters
# under sustained logging, and a flush rarely waits on checkpoint I/O.
SQLITE_WAL_AUTOCHECKPOINT = 10_000

# Execution option read by the SQLite "begin" hook: how to open the transaction.
_SQLITE_BEGIN = "flightlog_sqlite_begin"
# Rows per IN (...) list, well under every backend's bound-parameter limit.
_IN_CHUNK = 500
_FLOAT_MAX = sys.float_info.max
_MAX_INT32 = 2**31 - 1
_EXPERIMENT_ID = re.compile(r"^\d{1,10}$")

_METRIC_COLUMNS = ("run_uuid", "key", "value", "timestamp", "step", "is_nan")
# Rows per multi-row INSERT on SQLite: a batch goes in as pages of the most rows that the
# connection's bound-value limit allows (up to this many), the rest as one page of 16, 64, 256,
# 1024 or 4096 rows padded with NULL rows, which `LIMIT ?` leaves out. So a connection prepares
# a handful of statements (once, ~0.6 us a row) and hands the GIL over once per page.
_SQLITE_MAX_PAGE = 4096
_SQLITE_POINT_FIELDS = 4  # bound values per row: key, value, timestamp, step

# Lower-cased fragments of driver messages that mean "try again later".
_TRANSIENT_MESSAGES = (
    "database is locked",
    "database is busy",
    "database table is locked",
    "could not connect",
    "connection refused",
    "connection reset",
    "connection timed out",
    "timeout expired",
    "server closed the connection",
    "connection already closed",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "could not serialize access",
    "deadlock",
    "lock wait timeout",
    "lost connection",
    "server has gone away",
    "can't connect",
    "too many connections",
    "broken pipe",
    # A full disk (SQLITE_FULL, ENOSPC, EFBIG under RLIMIT_FSIZE, a quota) goes away when space
    # is freed: the data must wait in the queue's spool, never be dropped as refused. SQLite
    # reports a write that failed other than with ENOSPC (EFBIG, EIO) as "disk I/O error".
    "database or disk is full",
    "disk i/o error",
    "no space left on device",
    "file too large",
    "disk quota exceeded",
    "could not extend file",
)
# SQLite primary result codes (sqlite3.Error.sqlite_errorcode & 0xFF): SQLITE_BUSY, SQLITE_LOCKED,
# SQLITE_IOERR, SQLITE_FULL.
_TRANSIENT_SQLITE_CODES = (5, 6, 10, 13)
# PostgreSQL SQLSTATEs: serialization failure, deadlock, admin shutdown/crash/cannot connect now,
# too many connections, disk full, insufficient resources.
_TRANSIENT_PG_CODES = ("40001", "40P01", "57P01", "57P02", "57P03", "53300", "53100", "53000")
# MySQL error numbers: too many connections, lock wait timeout, deadlock, can't connect, gone away,
# lost connection, disk full, table full.
_TRANSIENT_MYSQL_CODES = (1040, 1205, 1213, 2002, 2003, 2006, 2013, 2055, 1021, 1114)


def _now_ms() -> int:
    return int(time.time() * 1000)


def is_transient_error(exc: BaseException) -> bool:
    """Whether a SQLAlchemy/driver error is the kind that goes away by itself."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if getattr(orig, "pgcode", None) in _TRANSIENT_PG_CODES:
        return True
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int) and sqlite_code & 0xFF in _TRANSIENT_SQLITE_CODES:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _TRANSIENT_MYSQL_CODES:
        return True
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        message = str(orig).lower()
        return any(fragment in message for fragment in _TRANSIENT_MESSAGES)
    return False


def _normalize_uri(db_uri: str) -> str:
    """Accept the URI spellings people paste from elsewhere."""
    if db_uri.startswith("postgres://"):  # Heroku & co.; SQLAlchemy wants postgresql://
        db_uri = "postgresql://" + db_uri[len("postgres://") :]
    for scheme in ("mysql://", "mariadb://"):
        if db_uri.startswith(scheme):
            # SQLAlchemy's default MySQL driver (mysqlclient) needs a C build; PyMySQL does not.
            try:
                import MySQLdb  # noqa: F401
            except ImportError:
                db_uri = scheme[:-3] + "+pymysql://" + db_uri[len(scheme) :]
    return db_uri


def _absolute_sqlite_path(url: sa.URL) -> sa.URL:
    """Pin a relative SQLite path to the current directory now: the engine is created lazily,
    and a chdir() in between must not move the store."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or url.query:
        return url
    return url.set(database=os.path.abspath(os.path.expanduser(database)))


def _encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


# Page token fields are bound as 64-bit integers: anything outside is not a token we made.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _decode_token(token: str | None, fields: Sequence[str]) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(payload, dict) or any(
            not isinstance(payload.get(f), int) or not _INT64_MIN <= payload[f] <= _INT64_MAX
            for f in fields
        ):
            raise ValueError("missing fields")
        if payload.get("offset", 0) < 0:
            raise ValueError("negative offset")
        return payload
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameterError(
            f"Invalid page token {token!r}: pass the token returned by the previous page"
        ) from None


def _decode_sort_token(token: str | None, n_keys: int) -> list[Any] | None:
    """The sort values a search_runs page token carries; a token of another query (or not
    ours) is a clear error, not a wrong page."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        after = payload.get("after") if isinstance(payload, dict) else None
        if not isinstance(after, list) or len(after) != n_keys:
            raise ValueError("not a search_runs token for this order")
        for value in after:
            if value is not None and not isinstance(value, str | int | float):
                raise ValueError("unexpected value")
            if isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX:
                raise ValueError("out of range")
        return after
    except (ValueError, binascii.Error, UnicodeDecodeError, AttributeError):
        raise InvalidParameterError(
            f"Invalid page token {token!r}: pass the token returned by the previous page of "
            "the same search"
        ) from None


def _check_max_results(max_results: int | None, what: str) -> int:
    if max_results is None:
        return SEARCH_MAX_RESULTS
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidParameterError(
            f"max_results for {what} must be a positive integer, got {max_results!r}"
        )
    if max_results > SEARCH_MAX_RESULTS:
        raise InvalidParameterError(
            f"max_results for {what} must be at most {SEARCH_MAX_RESULTS}, got {max_results}"
        )
    return max_results


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _copy_escape(text: str) -> str:
    """Escape a value for PostgreSQL's COPY text format."""
    if any(c in text for c in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        text = text.replace("\r", "\\r")
    return text


def _metric_value(value: float, is_nan: Any) -> float:
    """Undo the storage encoding of NaN. +/-inf stay clipped to +/-float max, as MLflow reads
    them back (and as JSON can carry them)."""
    return math.nan if is_nan else value


class _Statements:
    """The raw SQL of the hot paths, written once per dialect with its placeholder style."""

    def __init__(self, dialect: sa.Dialect):
        self.dialect = dialect.name
        self.family = "mysql" if dialect.name in ("mysql", "mariadb") else dialect.name
        # psycopg2's execute_values expands one "VALUES %s" into multi-row VALUES pages.
        self.values_template = self.family == "postgresql"
        # is_nan as the driver binds it cheapest: sqlite3 sends a bool through its adapter
        # lookup (slow, ~0.4 us a row); PostgreSQL's BOOLEAN column needs a real bool.
        self.false, self.true = (False, True) if self.family == "postgresql" else (0, 1)
        q = dialect.identifier_preparer.quote
        self.q = q
        ph = "?" if dialect.paramstyle == "qmark" else "%s"
        self.ph = ph
        cols = ", ".join(q(c) for c in _METRIC_COLUMNS)

        self.run_stage = f"SELECT lifecycle_stage FROM runs WHERE run_uuid = {ph}"
        value, ts, step, key, nan = q("value"), q("timestamp"), q("step"), q("key"), q("is_nan")
        self.history = (
            f"SELECT id, {value}, {ts}, {step}, {nan} FROM metrics"
            f" WHERE run_uuid = {ph} AND {key} = {ph}"
        )
        # "step >= ?" first: a range the (run_uuid, key, step, timestamp) index can seek to.
        self.history_after = (
            f" AND {step} >= {ph} AND ({step} > {ph} OR ({step} = {ph} AND ({ts} > {ph}"
            f" OR ({ts} = {ph} AND id > {ph}))))"
        )
        self.history_order = f" ORDER BY {step}, {ts}, id"
        # An identical point (the whole row but the id) is the same point: the unique index
        # ux_metrics_point turns a re-sent one into a no-op. MySQL's "update nothing" form, not
        # INSERT IGNORE, which would also turn bad values into warnings.
        skip = " ON CONFLICT DO NOTHING"
        if self.family == "mysql":
            skip = " ON DUPLICATE KEY UPDATE id = id"
        self.insert_metrics = self._insert("metrics", cols, 6) + skip
        self._page_sql: dict[tuple[str, int], str] = {}
        self._sqlite_pages: list[int] | None = None
        self.copy_metrics = f"COPY metrics ({cols}) FROM STDIN"
        self.insert_params = self._insert("params", f"run_uuid, {q('key')}, {q('value')}", 3)

        # The latest point of a key is the greatest (step, timestamp, value, is_nan), as in
        # MLflow (a NaN counts as its stored 0.0): an order-independent rule, so a re-sent or
        # reordered batch never changes which point is latest, on any backend.
        if self.family == "mysql":

            def newer(*names: str) -> str:
                new = ", ".join(f"VALUES({n})" for n in names)
                return f"({new}) >= ({', '.join(names)})"

            # MySQL applies the assignments left to right and later ones see earlier results.
            # So is_nan goes first (compared on the whole old point), then value, timestamp and
            # step, each compared on the columns not yet assigned: where a shorter comparison
            # differs from the whole one, the old and new values are equal and it does not
            # matter which is kept. GREATEST gives the right step either way.
            self.upsert_latest = self._insert("latest_metrics", cols, 6) + (
                f" ON DUPLICATE KEY UPDATE"
                f" {nan} = IF({newer(step, ts, value, nan)}, VALUES({nan}), {nan}),"
                f" {value} = IF({newer(step, ts, value)}, VALUES({value}), {value}),"
                f" {ts} = IF({newer(step, ts)}, VALUES({ts}), {ts}),"
                f" {step} = GREATEST({step}, VALUES({step}))"
            )
            self.upsert_tags = (
                self._insert("tags", f"run_uuid, {key}, {value}", 3)
                + f" ON DUPLICATE KEY UPDATE {value} = VALUES({value})"
            )
        else:
            self.latest_conflict = (
                f" ON CONFLICT (run_uuid, {key}) DO UPDATE SET {value} = excluded.{value},"
                f" {ts} = excluded.{ts}, {step} = excluded.{step}, {nan} = excluded.{nan}"
                f" WHERE (excluded.{step}, excluded.{ts}, excluded.{value}, excluded.{nan}) >="
                f" (latest_metrics.{step}, latest_metrics.{ts}, latest_metrics.{value},"
                f" latest_metrics.{nan})"
            )
            self.upsert_latest = self._insert("latest_metrics", cols, 6) + self.latest_conflict
            self.upsert_tags = (
                self._insert("tags", f"run_uuid, {key}, {value}", 3)
                + f" ON CONFLICT (run_uuid, {key}) DO UPDATE SET {value} = excluded.{value}"
            )

    def _insert(self, table: str, columns: str, n: int) -> str:
        values = "%s" if self.values_template else "(" + ", ".join([self.ph] * n) + ")"
        return f"INSERT INTO {table} ({columns}) VALUES {values}"

    def insert_points(self, conn: sa.Connection, run_id: str, points: Sequence[tuple]) -> None:
        """Append (key, value, timestamp, step) points to the run's history and bring
        latest_metrics up to date, inside the caller's transaction."""
        if self.family == "sqlite":
            self._insert_sqlite_points(conn, run_id, points)
            return
        rows, latest = _metric_rows(run_id, points, self.false, self.true)
        if self.family != "postgresql" or not self._copy_metric_rows(conn, rows):
            self.executemany(conn, self.insert_metrics, rows)
        # Sorted keys: concurrent batches lock rows in one order (no deadlock).
        self.executemany(conn, self.upsert_latest, sorted(latest.values(), key=itemgetter(1)))

    def _copy_metric_rows(self, conn: sa.Connection, rows: list[tuple]) -> bool:
        """Append history rows on PostgreSQL with COPY (2-3x execute_values), inside a
        savepoint; False, with nothing written, when a row is already stored (COPY has no
        "on conflict"): the caller then inserts them skipping the ones already there. Elsewhere
        (MySQL) executemany does it: PyMySQL rewrites it into multi-row VALUES."""
        from psycopg2.errors import UniqueViolation

        # COPY's text format: tab-separated, backslash escapes. Keys are validated (no tabs,
        # newlines or backslashes reach here) but escape anyway, once per distinct key.
        escaped: dict[str, str] = {}
        lines = []
        for run_uuid, key, value, timestamp, step, is_nan in rows:
            text = escaped.get(key)
            if text is None:
                text = escaped[key] = _copy_escape(key)
            lines.append(
                f"{run_uuid}\t{text}\t{value!r}\t{timestamp}\t{step}\t{'t' if is_nan else 'f'}\n"
            )
        cursor = conn.connection.cursor()
        try:
            cursor.execute("SAVEPOINT flightlog_copy")
            try:
                cursor.copy_expert(self.copy_metrics, io.StringIO("".join(lines)))
            except UniqueViolation:
                cursor.execute("ROLLBACK TO SAVEPOINT flightlog_copy")
                return False
            cursor.execute("RELEASE SAVEPOINT flightlog_copy")
            return True
        finally:
            cursor.close()

    def _insert_sqlite_points(
        self, conn: sa.Connection, run_id: str, points: Sequence[tuple]
    ) -> None:
        # The logging queue's writer runs this while the training thread runs Python code, and
        # every statement hands the GIL over: taking it back can cost a whole switch interval
        # (5 ms). So the points go in unconverted, in few large statements, and SQLite does the
        # per-row work (NaN and infinity encoding, the newest point per key) without the GIL.
        pages = self._sqlite_page_sizes(conn.connection.dbapi_connection)
        for chunk, size in _paged(points, pages):
            params: list[Any] = [run_id]
            params += chain.from_iterable(chunk)
            params += [None] * ((size - len(chunk)) * _SQLITE_POINT_FIELDS)
            params.append(len(chunk))
            conn.exec_driver_sql(self._sqlite_page_sql("points", size), tuple(params))
        keys = list(set(map(itemgetter(0), points)))
        for chunk, size in _paged(keys, pages):
            params = [run_id, *chunk, *[None] * (size - len(chunk))]
            conn.exec_driver_sql(self._sqlite_page_sql("latest", size), tuple(params))

    def _sqlite_page_sizes(self, dbapi_connection: Any) -> list[int]:
        """Page sizes, smallest first, within the connection's limit on bound values."""
        if self._sqlite_pages is None:
            import sqlite3

            getlimit = getattr(dbapi_connection, "getlimit", None)  # Python 3.11+
            if getlimit is not None:
                limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            else:  # the compiled-in default: 999 before SQLite 3.32
                limit = 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
            largest = min(_SQLITE_MAX_PAGE, (limit - 2) // _SQLITE_POINT_FIELDS)
            self._sqlite_pages = [n for n in (16, 64, 256, 1024, 4096) if n < largest]
            self._sqlite_pages.append(largest)
        return self._sqlite_pages

    def _sqlite_page_sql(self, kind: str, n_rows: int) -> str:
        sql = self._page_sql.get((kind, n_rows))
        if sql is None:
            sql = self._page_sql[(kind, n_rows)] = self._build_sqlite_page_sql(kind, n_rows)
        return sql

    def _build_sqlite_page_sql(self, kind: str, n_rows: int) -> str:
        q = self.q
        cols = ", ".join(q(c) for c in _METRIC_COLUMNS)
        if kind == "points":
            # ?1 is the run id, then (key, value, timestamp, step) rows, then how many of them
            # are real (the rest is padding). SQLite binds a NaN as NULL: it is stored as 0.0
            # with is_nan set. Infinities are clipped to +/-float max, as MLflow stores them.
            # (A WHERE clause would do for the padding, but makes preparing quadratic.)
            fmax = repr(_FLOAT_MAX)
            value = f"coalesce(max(min(column2, {fmax}), -{fmax}), 0.0)"
            rows = ", ".join(["(?, ?, ?, ?)"] * n_rows)
            # "WHERE true": SQLite's rule against reading the upsert's ON as a join's.
            return (
                f"INSERT INTO metrics ({cols}) SELECT ?1, column1, {value}, column3, column4,"
                f" column2 IS NULL FROM (VALUES {rows}) WHERE true LIMIT ?"
                " ON CONFLICT DO NOTHING"
            )
        # The latest point of each key (the greatest (step, timestamp, value, is_nan)), found at
        # the end of the unique history index.
        step, ts, key = q("step"), q("timestamp"), q("key")
        newest = (
            f"SELECT id FROM metrics WHERE run_uuid = ?1 AND {key} = k.column1 ORDER BY"
            f" {step} DESC, {ts} DESC, {q('value')} DESC, {q('is_nan')} DESC LIMIT 1"
        )
        keys = ", ".join(["(?)"] * n_rows)
        return (
            f"INSERT INTO latest_metrics ({cols}) SELECT {cols} FROM metrics"
            f" WHERE id IN (SELECT ({newest}) FROM (VALUES {keys}) AS k)" + self.latest_conflict
        )

    def executemany(self, conn: sa.Connection, sql: str, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.values_template:
            from psycopg2.extras import execute_values

            cursor = conn.connection.cursor()
            try:
                execute_values(cursor, sql, rows, page_size=1000)
            finally:
                cursor.close()
        else:
            conn.exec_driver_sql(sql, rows)


class SqlStore(SqlRegistryMixin, AbstractStore):
    """The tracking store on a SQL database. Thread-safe; one instance per URI per process
    (`flightlog.store.get_store`)."""

    # log_batch takes batch_id= (the logging queue and the server pass one; see migration 0004).
    accepts_batch_id = True

    def __init__(
        self,
        db_uri: str,
        default_artifact_root: str,
        *,
        statement_timeout_s: float | None = None,
    ):
        self.db_uri = _normalize_uri(db_uri)
        self.default_artifact_root = default_artifact_root
        # PostgreSQL/MySQL cancel a statement running longer than this (the server sets it: a
        # pathological search must not hold a connection and a CPU after its client gave up).
        self.statement_timeout_s = statement_timeout_s or None
        # True when the SQLite file cannot be written by this process: opened with mode=ro,
        # reads work and writes raise PermissionDeniedError.
        self.read_only = False
        # SQLAlchemy's default PostgreSQL driver (psycopg 3) may be missing where psycopg2 is
        # installed: every entry point (client, server, UI) connects through this URL.
        from flightlog.store import with_installed_driver

        connect_uri = with_installed_driver(self.db_uri)
        self._url = _absolute_sqlite_path(make_url(connect_uri))  # fails fast when malformed
        self._engine: sa.Engine | None = None
        self._writer: sa.Engine | None = None
        self._statements: _Statements | None = None
        self._engine_lock = threading.Lock()
        # Serializes access when every checkout shares one connection (SQLite :memory:).
        self._memory_lock: threading.RLock | None = None

    def __repr__(self) -> str:
        return f"SqlStore({self._url.render_as_string(hide_password=True)!r})"

    # --- engine & schema -------------------------------------------------------------------
    @property
    def engine(self) -> sa.Engine:
        """The engine, created and the schema migrated on first use."""
        engine = self._engine
        if engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._open()
                engine = self._engine
        return engine  # type: ignore[return-value]

    @property
    def dialect_name(self) -> str:
        return self._url.get_backend_name()

    def _open(self) -> None:
        engine = self._create_engine()
        try:
            with _translated(self):
                self._ensure_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        self._statements = _Statements(engine.dialect)
        self._writer = engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
        self._engine = engine

    def _create_engine(self) -> sa.Engine:
        url = self._url
        if url.get_backend_name() != "sqlite":
            # pre_ping: a server restart or an idle timeout must not fail the next call.
            return sa.create_engine(
                url,
                pool_pre_ping=True,
                pool_recycle=3600,
                connect_args=self._timeout_connect_args(url.get_backend_name()),
            )
        database = url.database or ""
        memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
        if not memory and not url.query.get("uri"):
            url = self._probe_sqlite_file(database)
        connect_args: dict[str, Any] = {
            "timeout": SQLITE_BUSY_TIMEOUT_S,
            "check_same_thread": False,
        }
        if memory:
            self._memory_lock = threading.RLock()
            engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.StaticPool)
        else:
            if not url.query.get("uri"):
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args=connect_args)
        _install_sqlite_hooks(engine, wal=not memory and not self.read_only)
        return engine

    def _timeout_connect_args(self, backend: str) -> dict[str, Any]:
        if not self.statement_timeout_s:
            return {}
        ms = max(1, int(self.statement_timeout_s * 1000))
        if backend == "postgresql":
            return {"options": f"-c statement_timeout={ms}"}
        # MySQL (max_execution_time, ms) and MariaDB (max_statement_time, s) name it
        # differently and refuse each other's: not set there until it is told which it is.
        return {}

    def _probe_sqlite_file(self, database: str) -> sa.URL:
        """Refuse a file that is not a usable flightlog database before anything writes to it
        (WAL mode, migrations); open one this process cannot write read-only."""
        from flightlog.store import sqlite_probe

        path = Path(database).expanduser()
        found = sqlite_probe.probe(path)
        if found.mlflow_schema or (
            found.revisions is not None and found.revisions != migrations.head_revisions()
        ):
            sqlite_probe.refuse_foreign_schema(
                str(path), found.revisions, migrations.known_revisions(), found.mlflow_schema
            )
        if not found.read_only:
            return self._url
        if not found.exists:
            raise sqlite_probe.UnusableDatabaseError(
                f"Cannot create the tracking database {path}: its folder is not writable"
            )
        self.read_only = True
        return make_url(sqlite_probe.read_only_uri(path.resolve(), immutable=found.immutable))

    def _ensure_schema(self, engine: sa.Engine) -> None:
        """Migrate to the head revision if needed, then make sure the Default experiment exists.
        The common case (an up-to-date store) costs two small queries and no Alembic import."""
        with engine.connect() as conn:
            revisions = migrations.current_revisions(conn)
            current = revisions == migrations.head_revisions()
            has_default = current and self._has_default_experiment(conn)
        if self.read_only:
            if not current:
                raise PermissionDeniedError(
                    f"The tracking database {self!r} is read-only and its schema needs "
                    "upgrading to this flightlog version: make it writable once, or use the "
                    "flightlog version that wrote it"
                )
            return  # nothing may be written: a missing Default experiment stays missing
        if not current:
            self._check_known_revisions(revisions)
            self._migrate(engine)
            has_default = False
        if not has_default:
            self._create_default_experiment(engine)

    @staticmethod
    def _has_default_experiment(conn: sa.Connection) -> bool:
        query = sa.select(db.experiments.c.experiment_id).where(
            db.experiments.c.experiment_id == DEFAULT_EXPERIMENT_ID
        )
        return conn.execute(query).first() is not None

    @staticmethod
    def _check_known_revisions(revisions: frozenset[str] | None) -> None:
        unknown = (revisions or frozenset()) - migrations.known_revisions()
        if unknown:
            raise FlightlogError(
                f"The database's schema revision {', '.join(sorted(unknown))} is unknown to this "
                "flightlog version: it was written by a newer flightlog, or by another tool "
                "(MLflow keeps its own alembic_version table). Use a newer flightlog or another "
                "database."
            )

    def _migrate(self, engine: sa.Engine) -> None:
        """Upgrade under a lock so that processes opening a new store at once take turns; the
        loser of a race re-checks and finds nothing to do."""
        for attempt in range(5):
            try:
                with _migration_lock(engine) as conn:
                    if self.statement_timeout_s and engine.dialect.name == "postgresql":
                        # A migration may rewrite big tables: no request timeout for it.
                        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
                    if migrations.is_current(conn):
                        return
                    migrations.upgrade(conn)
                return
            except DBAPIError as exc:
                # A backend without a usable lock (or a lock that timed out): someone else is
                # creating the same tables. Wait for them and look again.
                message = str(exc.orig).lower()
                racing = "already exists" in message or "duplicate" in message
                if attempt == 4 or not (racing or is_transient_error(exc)):
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _create_default_experiment(self, engine: sa.Engine) -> None:
        now = _now_ms()
        row = {
            "experiment_id": DEFAULT_EXPERIMENT_ID,
            "name": DEFAULT_EXPERIMENT_NAME,
            "artifact_location": self._artifact_location(DEFAULT_EXPERIMENT_ID),
            "lifecycle_stage": LifecycleStage.ACTIVE,
            "creation_time": now,
            "last_update_time": now,
        }
        try:
            with engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"}).begin() as conn:
                if self._has_default_experiment(conn):
                    return
                insert_experiment_zero(conn, row)
        except IntegrityError:
            pass  # another process created it first

    def checkpoint(self, final: bool = False) -> None:
        """Copy the pages the SQLite WAL holds into the database file, without waiting for
        other connections (PASSIVE); nothing for other databases. The logging queue calls it
        when it runs out of work, so that commits seldom pay for checkpoints.

        `final` (a clean exit): copy everything and empty the -wal file (TRUNCATE), so that
        the .db file alone holds every commit (copied or backed up by itself, it is complete).
        It waits at most a second for other processes' readers; then it does what it can."""
        if self._engine is None and final:
            return  # never opened in this process: nothing of ours in the WAL
        engine = self.engine
        if engine.dialect.name != "sqlite" or self._memory_lock is not None or self.read_only:
            return
        with _translated(self), engine.connect() as conn:
            if not final:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                return
            conn.exec_driver_sql("PRAGMA busy_timeout = 1000")
            try:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")

    def check_health(self) -> None:
        """Raise unless the database answers and holds this flightlog version's schema: what
        the server's /health reports (opening the store, on first use, validates much more)."""
        with self._read() as conn:
            revisions = migrations.current_revisions(conn)
            if revisions != migrations.head_revisions():
                raise StoreUnavailableError(
                    f"The tracking database {self!r} holds schema revision "
                    f"{', '.join(sorted(revisions or ())) or 'none'}, not this flightlog's"
                )
            conn.execute(sa.select(db.experiments.c.experiment_id).limit(1)).all()

    def close(self) -> None:
        with self._engine_lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = self._writer = None

    def reset_after_fork(self) -> None:
        # The child must not touch the parent's sockets/file handles: forget them without
        # closing (closing would disturb the parent's connections).
        engine = self._engine
        self._engine_lock = threading.Lock()
        if self._memory_lock is not None:
            self._memory_lock = threading.RLock()
        if engine is not None:
            engine.dispose(close=False)

    # --- transactions ----------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with _translated(self), self._locked(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on exit."""
        self.engine  # noqa: B018 - open the store first: the writer engine is made with it
        if self.read_only:
            raise PermissionDeniedError(
                f"The tracking database {self!r} is read-only for this process (it cannot write "
                "the file or its folder): nothing was written"
            )
        with _translated(self), self._locked(), self._writer.begin() as conn:  # type: ignore[union-attr]
            yield conn

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self._memory_lock
        if lock is None:
            yield
        else:
            with lock:
                yield

    @property
    def _sql(self) -> _Statements:
        self.engine  # noqa: B018 - make sure the engine (and its statements) exist
        return self._statements  # type: ignore[return-value]

    # --- experiments -----------------------------------------------------------------------
    def _artifact_location(self, experiment_id: int | str) -> str:
        return f"{self.default_artifact_root.rstrip('/')}/{experiment_id}"

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str:
        validate_experiment_name(name)
        tag_rows = _experiment_tag_rows(tags)
        now = _now_ms()
        try:
            with self._write() as conn:
                self._check_name_free(conn, name)
                result = conn.execute(
                    db.experiments.insert().values(
                        name=name,
                        artifact_location=artifact_location or "",
                        lifecycle_stage=LifecycleStage.ACTIVE,
                        creation_time=now,
                        last_update_time=now,
                    )
                )
                experiment_id = int(result.inserted_primary_key[0])
                if not artifact_location:
                    conn.execute(
                        db.experiments.update()
                        .where(db.experiments.c.experiment_id == experiment_id)
                        .values(artifact_location=self._artifact_location(experiment_id))
                    )
                if tag_rows:
                    conn.execute(
                        db.experiment_tags.insert(),
                        [{"experiment_id": experiment_id, **row} for row in tag_rows],
                    )
        except IntegrityError:
            # Lost a race with another creator of the same name.
            with self._read() as conn:
                self._check_name_free(conn, name)
            raise
        return str(experiment_id)

    @staticmethod
    def _check_name_free(conn: sa.Connection, name: str) -> None:
        query = sa.select(db.experiments.c.lifecycle_stage).where(db.experiments.c.name == name)
        stage = conn.execute(query).scalar()
        if stage == LifecycleStage.DELETED:
            raise ExperimentAlreadyExistsError(
                f"Experiment {name!r} already exists in the deleted state; restore it, or pick "
                "another name"
            )
        if stage is not None:
            raise ExperimentAlreadyExistsError(f"Experiment {name!r} already exists")

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._read() as conn:
            row = self._experiment_row(conn, experiment_id)
            return self._experiments_from_rows(conn, [row])[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self._read() as conn:
            query = sa.select(db.experiments).where(db.experiments.c.name == name)
            row = conn.execute(query).first()
            if row is None:
                return None
            return self._experiments_from_rows(conn, [row])[0]

    def _experiment_row(self, conn: sa.Connection, experiment_id: str | int) -> sa.Row:
        key = _parse_experiment_id(experiment_id)
        row = None
        if key is not None:
            query = sa.select(db.experiments).where(db.experiments.c.experiment_id == key)
            row = conn.execute(query).first()
        if row is None:
            raise ExperimentNotFoundError(f"No experiment with id {str(experiment_id)!r}")
        return row

    def _active_experiment_row(
        self, conn: sa.Connection, experiment_id: str | int, action: str
    ) -> sa.Row:
        row = self._experiment_row(conn, experiment_id)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise ExperimentNotActiveError(
                f"Cannot {action} experiment {str(experiment_id)!r}: it is deleted (restore it "
                "first)"
            )
        return row

    @staticmethod
    def _experiments_from_rows(conn: sa.Connection, rows: Sequence[sa.Row]) -> list[Experiment]:
        ids = [row.experiment_id for row in rows]
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        t = db.experiment_tags
        for chunk in _chunks(ids):
            query = sa.select(t.c.experiment_id, t.c.key, t.c.value).where(
                t.c.experiment_id.in_(chunk)
            )
            for experiment_id, key, value in conn.execute(query):
                tags[experiment_id][key] = value if value is not None else ""
        return [
            Experiment(
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location or "",
                lifecycle_stage=row.lifecycle_stage,
                tags=tags[row.experiment_id],
                creation_time=row.creation_time,
                last_update_time=row.last_update_time,
            )
            for row in rows
        ]

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        limit = _check_max_results(max_results, "search_experiments")
        stages = ViewType.stages(ViewType.from_any(view_type))
        node = parse_filter(filter_string, EXPERIMENTS)
        orders = parse_order_by_list(order_by, EXPERIMENTS)
        offset = (_decode_token(page_token, ["offset"]) or {"offset": 0})["offset"]
        dialect = self.dialect_name
        query = sa.select(db.experiments).where(db.experiments.c.lifecycle_stage.in_(stages))
        condition = sql_search.experiment_filter(node, dialect)
        if condition is not None:
            query = query.where(condition)
        query, clauses = sql_search.experiment_order(query, orders, dialect)
        query = query.order_by(*clauses).limit(limit + 1).offset(offset)
        with self._read() as conn:
            rows = conn.execute(query).all()
            experiments = self._experiments_from_rows(conn, rows[:limit])
        token = _encode_token({"offset": offset + limit}) if len(rows) > limit else None
        return PagedList(experiments, token)

    def delete_experiment(self, experiment_id: str) -> None:
        now = _now_ms()
        with self._write() as conn:
            row = self._experiment_row(conn, experiment_id)
            if row.lifecycle_stage == LifecycleStage.DELETED:
                return  # already deleted: keep the original deletion time
            key = row.experiment_id
            conn.execute(
                db.experiments.update()
                .where(db.experiments.c.experiment_id == key)
                .values(lifecycle_stage=LifecycleStage.DELETED, last_update_time=now)
            )
            # deleted_time = the experiment's deletion time marks these runs as deleted with it
            conn.execute(
                db.runs.update()
                .where(
                    db.runs.c.experiment_id == key,
                    db.runs.c.lifecycle_stage == LifecycleStage.ACTIVE,
                )
                .values(lifecycle_stage=LifecycleStage.DELETED, deleted_time=now)
            )

    def restore_experiment(self, experiment_id: str) -> None:
        now = _now_ms()
        with self._write() as conn:
            row = self._experiment_row(conn, experiment_id)
            if row.lifecycle_stage == LifecycleStage.ACTIVE:
                return
            key = row.experiment_id
            conn.execute(
                db.experiments.update()
                .where(db.experiments.c.experiment_id == key)
                .values(lifecycle_stage=LifecycleStage.ACTIVE, last_update_time=now)
            )
            # Bring back the runs deleted together with the experiment; runs deleted on their
            # own before that stay deleted.
            conn.execute(
                db.runs.update()
                .where(
                    db.runs.c.experiment_id == key,
                    db.runs.c.lifecycle_stage == LifecycleStage.DELETED,
                    db.runs.c.deleted_time >= row.last_update_time,
                )
                .values(lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None)
            )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)
        with self._write() as conn:
            row = self._active_experiment_row(conn, experiment_id, "rename")
            if row.name == new_name:
                return
            self._check_name_free(conn, new_name)
            conn.execute(
                db.experiments.update()
                .where(db.experiments.c.experiment_id == row.experiment_id)
                .values(name=new_name, last_update_time=_now_ms())
            )

    def set_experiment_tag(self, experiment_id: str, tag: RunTag) -> None:
        (row_values,) = _experiment_tag_rows([tag])
        with self._write() as conn:
            row = self._active_experiment_row(conn, experiment_id, "set a tag on")
            t = db.experiment_tags
            where = (t.c.experiment_id == row.experiment_id, t.c.key == row_values["key"])
            updated = conn.execute(t.update().where(*where).values(value=row_values["value"]))
            if updated.rowcount == 0:
                conn.execute(t.insert().values(experiment_id=row.experiment_id, **row_values))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """MLflow's experiments/delete-experiment-tag: a missing tag is RESOURCE_DOES_NOT_EXIST."""
        with self._write() as conn:
            row = self._active_experiment_row(conn, experiment_id, "delete a tag of")
            t = db.experiment_tags
            deleted = conn.execute(
                t.delete().where(t.c.experiment_id == row.experiment_id, t.c.key == key)
            )
            if deleted.rowcount == 0:
                raise ResourceNotFoundError(
                    f"No tag with name: {key} in experiment with id {experiment_id}"
                )

    # --- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
        run_id: str | None = None,
    ) -> Run:
        if run_id is not None:
            # Idempotent create: the run may exist already (a retry, or another process).
            existing = self._existing_run(check_client_run_id(run_id), experiment_id)
            if existing is not None:
                return existing
            try:
                return self._insert_run(experiment_id, user_id, start_time, tags, run_name, run_id)
            except IntegrityError:
                # Lost the race: the primary key makes the other creator's row the only one.
                existing = self._existing_run(run_id, experiment_id)
                if existing is None:
                    raise
                return existing
        return self._insert_run(
            experiment_id, user_id, start_time, tags, run_name, uuid.uuid4().hex
        )

    def create_runs(self, experiment_id: str, specs: Sequence[RunSpec]) -> list[Run]:
        """Many runs in one transaction: a sweep opening its trials pays one commit, not one
        per run. Specs with a caller-chosen run_id take the idempotent path one by one."""
        if any(spec.run_id is not None for spec in specs):
            return super().create_runs(experiment_id, specs)
        if not specs:
            return []
        with self._write() as conn:
            experiment = self._active_experiment_row(conn, experiment_id, "create runs in")
            location = (experiment.artifact_location or "").rstrip("/")
            made: list[tuple[RunInfo, dict[str, str]]] = []
            for spec in specs:
                tag_values = _tag_values(spec.tags)
                run_name = _resolve_run_name(spec.run_name, tag_values)
                tag_values[RUN_NAME_TAG] = run_name
                run_id = uuid.uuid4().hex
                start = _now_ms() if spec.start_time is None else int(spec.start_time)
                info = RunInfo(
                    run_id=run_id,
                    experiment_id=str(experiment.experiment_id),
                    run_name=run_name,
                    user_id=spec.user_id or "",
                    status=RunStatus.RUNNING,
                    start_time=start,
                    end_time=None,
                    artifact_uri=f"{location}/{run_id}/artifacts",
                    lifecycle_stage=LifecycleStage.ACTIVE,
                )
                made.append((info, tag_values))
            conn.execute(
                db.runs.insert(),
                [
                    {
                        "run_uuid": info.run_id,
                        "name": info.run_name,
                        "experiment_id": experiment.experiment_id,
                        "user_id": info.user_id,
                        "status": info.status,
                        "start_time": info.start_time,
                        "end_time": None,
                        "lifecycle_stage": info.lifecycle_stage,
                        "artifact_uri": info.artifact_uri,
                    }
                    for info, _ in made
                ],
            )
            rows = [(info.run_id, k, v) for info, tags in made for k, v in tags.items()]
            self._sql.executemany(conn, self._sql.upsert_tags, rows)
        return [Run(info, RunData.build([], {}, tags)) for info, tags in made]

    def _existing_run(self, run_id: str, experiment_id: str) -> Run | None:
        try:
            run = self.get_run(run_id)
        except RunNotFoundError:
            return None
        if run.info.experiment_id != str(experiment_id):
            raise InvalidParameterError(
                f"Run {run_id} exists already in experiment {run.info.experiment_id}, "
                f"not {experiment_id}"
            )
        return run

    def _insert_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
        run_id: str,
    ) -> Run:
        tag_values = _tag_values(tags)
        run_name = _resolve_run_name(run_name, tag_values)
        tag_values[RUN_NAME_TAG] = run_name
        start_time = _now_ms() if start_time is None else int(start_time)
        with self._write() as conn:
            experiment = self._active_experiment_row(conn, experiment_id, "create a run in")
            location = (experiment.artifact_location or "").rstrip("/")
            info = RunInfo(
                run_id=run_id,
                experiment_id=str(experiment.experiment_id),
                run_name=run_name,
                user_id=user_id or "",
                status=RunStatus.RUNNING,
                start_time=start_time,
                end_time=None,
                artifact_uri=f"{location}/{run_id}/artifacts",
                lifecycle_stage=LifecycleStage.ACTIVE,
            )
            conn.execute(
                db.runs.insert().values(
                    run_uuid=run_id,
                    name=run_name,
                    experiment_id=experiment.experiment_id,
                    user_id=info.user_id,
                    status=info.status,
                    start_time=start_time,
                    end_time=None,
                    lifecycle_stage=info.lifecycle_stage,
                    artifact_uri=info.artifact_uri,
                )
            )
            rows = [(run_id, key, value) for key, value in tag_values.items()]
            self._sql.executemany(conn, self._sql.upsert_tags, rows)
        return Run(info, RunData.build([], {}, tag_values))

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            row = self._run_row(conn, run_id)
            return self._runs_from_rows(conn, [row])[0]

    def _run_row(self, conn: sa.Connection, run_id: str) -> sa.Row:
        row = None
        if isinstance(run_id, str):
            row = conn.execute(sa.select(db.runs).where(db.runs.c.run_uuid == run_id)).first()
        if row is None:
            raise RunNotFoundError(f"Run with id={run_id} not found")
        return row

    def _check_run_active(self, conn: sa.Connection, run_id: str) -> None:
        """One indexed lookup, in the writing transaction (so a concurrent delete_run is seen)."""
        stage = None
        if isinstance(run_id, str):
            stage = conn.exec_driver_sql(self._sql.run_stage, (run_id,)).scalar()
        if stage is None:
            raise RunNotFoundError(f"Run with id={run_id} not found")
        if stage != LifecycleStage.ACTIVE:
            raise RunNotActiveError(
                f"Run {run_id!r} is deleted; restore it before logging to or changing it"
            )

    def update_run_info(
        self, run_id: str, run_status: str, end_time: int | None, run_name: str | None = None
    ) -> RunInfo:
        if run_status not in RunStatus.ALL:
            raise InvalidParameterError(
                f"Invalid run status {run_status!r}; expected one of {', '.join(RunStatus.ALL)}"
            )
        values: dict[str, Any] = {"status": run_status, "end_time": end_time}
        if run_name is not None:
            values["name"] = validate_run_name(run_name)
        with self._write() as conn:
            self._check_run_active(conn, run_id)
            conn.execute(db.runs.update().where(db.runs.c.run_uuid == run_id).values(**values))
            if run_name is not None:
                self._sql.executemany(
                    conn, self._sql.upsert_tags, [(run_id, RUN_NAME_TAG, run_name)]
                )
            return _run_info(self._run_row(conn, run_id))

    def delete_run(self, run_id: str) -> None:
        with self._write() as conn:
            row = self._run_row(conn, run_id)
            if row.lifecycle_stage == LifecycleStage.DELETED:
                return
            conn.execute(
                db.runs.update()
                .where(db.runs.c.run_uuid == run_id)
                .values(lifecycle_stage=LifecycleStage.DELETED, deleted_time=_now_ms())
            )

    def restore_run(self, run_id: str) -> None:
        with self._write() as conn:
            self._run_row(conn, run_id)
            conn.execute(
                db.runs.update()
                .where(db.runs.c.run_uuid == run_id)
                .values(lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None)
            )

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._write() as conn:
            self._check_run_active(conn, run_id)
            t = db.tags
            result = conn.execute(t.delete().where(t.c.run_uuid == run_id, t.c.key == key))
            if result.rowcount == 0:
                raise ResourceNotFoundError(f"No tag with key {key!r} on run {run_id!r}")

    # --- logging -----------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        batch_id: str | None = None,
    ) -> None:
        """With `batch_id` (a client-made id of this batch, see `accepts_batch_id`) the batch is
        stored at most once per run: a batch whose id the run has seen is skipped."""
        # All the Python work happens before the transaction opens, to keep write locks short.
        sql = self._sql
        points = _metric_points(metrics)
        param_values = _param_values(run_id, params)
        tag_values = _tag_values(tags)
        for attempt in range(3):
            try:
                with self._write() as conn:
                    if batch_id is not None and _batch_seen(conn, run_id, batch_id):
                        return  # stored before: the client re-sent it (a lost answer, a replay)
                    self._check_run_active(conn, run_id)
                    if param_values:
                        self._insert_params(conn, run_id, param_values)
                    if tag_values:
                        rows = [(run_id, k, v) for k, v in tag_values.items()]
                        sql.executemany(conn, sql.upsert_tags, rows)
                        if RUN_NAME_TAG in tag_values:
                            conn.execute(
                                db.runs.update()
                                .where(db.runs.c.run_uuid == run_id)
                                .values(name=tag_values[RUN_NAME_TAG])
                            )
                    if points:
                        sql.insert_points(conn, run_id, points)
                    if batch_id is not None:
                        conn.execute(
                            db.log_batch_ids.insert().values(
                                run_uuid=run_id, batch_id=batch_id, stored_time=_now_ms()
                            )
                        )
                return
            except IntegrityError:
                # A concurrent writer inserted one of these params (or this batch id) between
                # our check and insert; the retry sees it and either accepts it (same value,
                # the batch already stored) or reports the conflict.
                if attempt == 2 or not (param_values or batch_id):
                    raise

    def log_metric_points(self, run_id: str, points: Sequence[tuple[str, float, int, int]]) -> None:
        """Append metric points given as (key, value, timestamp, step) tuples, in one
        transaction: the logging queue's way in, without a Metric object per point. The caller
        has checked the types (a float value, int timestamp and step: TrackingClient does);
        keys are validated here, once each."""
        if not points:
            return
        _validate_metric_keys(points)
        sql = self._sql
        try:
            with self._write() as conn:
                self._check_run_active(conn, run_id)
                sql.insert_points(conn, run_id, points)
        except (sa.exc.InterfaceError, sa.exc.ProgrammingError):
            # The driver could not bind a value (a numpy integer step, say): nothing was
            # written. The checking path converts what it can and names what it cannot.
            self.log_batch(run_id, list(starmap(Metric, points)))

    def _insert_params(self, conn: sa.Connection, run_id: str, values: dict[str, str]) -> None:
        p = db.params
        stored: dict[str, str] = {}
        keys = list(values)
        for chunk in _chunks(keys):
            query = sa.select(p.c.key, p.c.value).where(p.c.run_uuid == run_id, p.c.key.in_(chunk))
            for key, value in conn.execute(query):
                stored[key] = value
        for key, old in stored.items():
            if old != values[key]:
                raise ParamConflictError(
                    f"Changing param values is not allowed: param {key!r} of run {run_id!r} "
                    f"was already logged with value {old!r}; attempted new value "
                    f"{values[key]!r}"
                )
        rows = [(run_id, k, v) for k, v in values.items() if k not in stored]
        self._sql.executemany(conn, self._sql.insert_params, rows)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        if not datasets:
            with self._read() as conn:
                self._run_row(conn, run_id)
            return
        d, i, it = db.datasets, db.inputs, db.input_tags
        with self._write() as conn:
            self._check_run_active(conn, run_id)
            experiment_id = conn.execute(
                sa.select(db.runs.c.experiment_id).where(db.runs.c.run_uuid == run_id)
            ).scalar_one()
            for dataset_input in datasets:
                dataset = dataset_input.dataset
                dataset_uuid = conn.execute(
                    sa.select(d.c.dataset_uuid).where(
                        d.c.experiment_id == experiment_id,
                        d.c.name == dataset.name,
                        d.c.digest == dataset.digest,
                    )
                ).scalar()
                if dataset_uuid is None:
                    dataset_uuid = uuid.uuid4().hex
                    conn.execute(
                        d.insert().values(
                            dataset_uuid=dataset_uuid,
                            experiment_id=experiment_id,
                            name=dataset.name,
                            digest=dataset.digest,
                            dataset_source_type=dataset.source_type,
                            dataset_source=dataset.source,
                            dataset_schema=dataset.schema,
                            dataset_profile=dataset.profile,
                        )
                    )
                link = (
                    i.c.source_type == "DATASET",
                    i.c.source_id == dataset_uuid,
                    i.c.destination_type == "RUN",
                    i.c.destination_id == run_id,
                )
                if conn.execute(sa.select(i.c.input_uuid).where(*link)).first() is not None:
                    continue  # this dataset is already an input of this run
                input_uuid = uuid.uuid4().hex
                conn.execute(
                    i.insert().values(
                        input_uuid=input_uuid,
                        source_type="DATASET",
                        source_id=dataset_uuid,
                        destination_type="RUN",
                        destination_id=run_id,
                    )
                )
                if dataset_input.tags:
                    conn.execute(
                        it.insert(),
                        [
                            {"input_uuid": input_uuid, "name": k, "value": str(v)}
                            for k, v in dataset_input.tags.items()
                        ],
                    )

    # --- reading runs ------------------------------------------------------------------------
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        if max_results is not None:
            max_results = _check_max_results(max_results, "get_metric_history")
        after = _decode_token(page_token, ["step", "timestamp", "id"])
        sql = self._sql
        # Raw SQL through the driver's cursor: a million-point history would spend more time
        # building SQLAlchemy Row objects than reading the database.
        statement, args = sql.history, [run_id, metric_key]
        if after is not None:
            # Keyset paging: resume after the last point returned instead of re-reading the
            # rows before it (an OFFSET would, on every page).
            statement += sql.history_after
            step, ts, last_id = after["step"], after["timestamp"], after["id"]
            args += [step, step, step, ts, ts, last_id]
        statement += sql.history_order
        if max_results is not None:
            statement += f" LIMIT {max_results + 1:d}"
        with self._read() as conn:
            self._run_row(conn, run_id)
            cursor = conn.connection.cursor()
            try:
                cursor.execute(statement, args)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        token = None
        if max_results is not None and len(rows) > max_results:
            rows = rows[:max_results]
            last_id, _, ts, step, _ = rows[-1]
            token = _encode_token({"step": step, "timestamp": ts, "id": last_id})
        nan = math.nan
        history = [
            Metric(metric_key, nan if is_nan else value, timestamp, step)
            for _, value, timestamp, step, is_nan in rows
        ]
        return PagedList(history, token)

    def get_metric_history_arrays(self, run_id: str, metric_key: str) -> MetricArrays:
        """The whole history as typed columns, fetched from one cursor in chunks: no
        `Metric` object per point, and 24 bytes a point in the result."""
        from flightlog.history import HISTORY_PAGE, ArrayBuilder

        sql = self._sql
        builder = ArrayBuilder()
        with self._read() as conn:
            self._run_row(conn, run_id)
            cursor = conn.connection.cursor()
            try:
                cursor.execute(sql.history + sql.history_order, [run_id, metric_key])
                while rows := cursor.fetchmany(HISTORY_PAGE):
                    builder.add_rows(rows)
            finally:
                cursor.close()
        return builder.build()

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        limit = _check_max_results(max_results, "search_runs")
        stages = ViewType.stages(ViewType.from_any(run_view_type))
        node = parse_filter(filter_string, RUNS)
        orders = parse_order_by_list(order_by, RUNS)
        if isinstance(experiment_ids, str | int):
            experiment_ids = [experiment_ids]  # type: ignore[list-item]
        ids = [i for i in (_parse_experiment_id(e) for e in experiment_ids) if i is not None]
        if not ids:
            return PagedList([], None)
        runs = db.runs
        query = sa.select(runs).where(
            runs.c.experiment_id.in_(ids), runs.c.lifecycle_stage.in_(stages)
        )
        condition = sql_search.run_filter(node, self.dialect_name)
        if condition is not None:
            query = query.where(condition)
        query, keys = sql_search.run_sort_keys(query, orders, self.dialect_name)
        # Keyset paging: the token holds the last run's sort values, and the next page starts
        # right after them, so paging through 100k runs reads each run once.
        after = _decode_sort_token(page_token, len(keys))
        if after is not None:
            query = query.where(sql_search.keyset_after(keys, after, self.dialect_name))
        query = query.add_columns(*(key.expr.label(f"sort_{i}") for i, key in enumerate(keys)))
        query = query.order_by(*(key.clause() for key in keys)).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
            found = self._runs_from_rows(conn, rows[:limit])
        token = None
        if len(rows) > limit:
            last = rows[limit - 1]
            values = [last._mapping[f"sort_{i}"] for i in range(len(keys))]
            token = _encode_token({"after": values})
        return PagedList(found, token)

    def _runs_from_rows(self, conn: sa.Connection, rows: Sequence[sa.Row]) -> list[Run]:
        """Runs with their latest metrics, params, tags and dataset inputs, in `rows` order;
        a few queries per 500 runs, never one per run."""
        ids = [row.run_uuid for row in rows]
        metrics: dict[str, list[Metric]] = {i: [] for i in ids}
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        inputs: dict[str, list[DatasetInput]] = {i: [] for i in ids}
        lm, p, t = db.latest_metrics, db.params, db.tags
        for chunk in _chunks(ids):
            query = sa.select(
                lm.c.run_uuid, lm.c.key, lm.c.value, lm.c.timestamp, lm.c.step, lm.c.is_nan
            ).where(lm.c.run_uuid.in_(chunk))
            # .all() fetches in one call; iterating a Result fetches row by row.
            for run_uuid, key, value, timestamp, step, is_nan in conn.execute(query).all():
                metrics[run_uuid].append(Metric(key, _metric_value(value, is_nan), timestamp, step))
            query = sa.select(p.c.run_uuid, p.c.key, p.c.value).where(p.c.run_uuid.in_(chunk))
            for run_uuid, key, value in conn.execute(query).all():
                params[run_uuid][key] = value
            query = sa.select(t.c.run_uuid, t.c.key, t.c.value).where(t.c.run_uuid.in_(chunk))
            for run_uuid, key, value in conn.execute(query).all():
                tags[run_uuid][key] = value if value is not None else ""
            self._load_inputs(conn, chunk, inputs)
        return [
            Run(
                _run_info(row),
                RunData.build(
                    sorted(metrics[row.run_uuid], key=lambda m: m.key),
                    params[row.run_uuid],
                    tags[row.run_uuid],
                ),
                RunInputs(inputs[row.run_uuid]),
            )
            for row in rows
        ]

    @staticmethod
    def _load_inputs(
        conn: sa.Connection, run_ids: Sequence[str], into: dict[str, list[DatasetInput]]
    ) -> None:
        d, i, it = db.datasets, db.inputs, db.input_tags
        query = (
            sa.select(i.c.input_uuid, i.c.destination_id, d)
            .join(d, d.c.dataset_uuid == i.c.source_id)
            .where(
                i.c.destination_type == "RUN",
                i.c.source_type == "DATASET",
                i.c.destination_id.in_(run_ids),
            )
            .order_by(d.c.name, d.c.digest)
        )
        found = conn.execute(query).all()
        if not found:
            return
        input_tags: dict[str, dict[str, str]] = {row.input_uuid: {} for row in found}
        for chunk in _chunks(list(input_tags)):
            query = sa.select(it.c.input_uuid, it.c.name, it.c.value).where(
                it.c.input_uuid.in_(chunk)
            )
            for input_uuid, name, value in conn.execute(query):
                input_tags[input_uuid][name] = value
        for row in found:
            dataset = Dataset(
                name=row.name,
                digest=row.digest,
                source_type=row.dataset_source_type,
                source=row.dataset_source,
                schema=row.dataset_schema,
                profile=row.dataset_profile,
            )
            into[row.destination_id].append(DatasetInput(dataset, input_tags[row.input_uuid]))


# --- helpers -----------------------------------------------------------------------------------


def _batch_seen(conn: sa.Connection, run_id: str, batch_id: str) -> bool:
    t = db.log_batch_ids
    query = sa.select(t.c.batch_id).where(t.c.run_uuid == run_id, t.c.batch_id == batch_id)
    return conn.execute(query).first() is not None


@contextmanager
def _translated(store: SqlStore) -> Iterator[None]:
    """Re-raise transient database errors as StoreUnavailableError (the retryable class)."""
    try:
        yield
    except (DBAPIError, PoolTimeoutError) as exc:
        if is_transient_error(exc):
            detail = exc.orig if isinstance(exc, DBAPIError) else exc
            raise StoreUnavailableError(
                f"The tracking database {store!r} is temporarily unavailable: {detail}"
            ) from exc
        raise


def _install_sqlite_hooks(engine: sa.Engine, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself: Python's sqlite3 module would
        # otherwise open transactions lazily (and only before DML), which makes DDL
        # non-transactional and rules out BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                _enable_wal(cursor)
                # In WAL mode NORMAL keeps the database consistent on power loss (the last
                # commits may roll back) and skips an fsync per commit.
                cursor.execute("PRAGMA synchronous = NORMAL")
                cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_AUTOCHECKPOINT}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _enable_wal(cursor: Any) -> None:
    """PRAGMA journal_mode = WAL, retried while the database is locked: SQLite answers at once,
    without waiting on its busy timeout, when another process holds the file's lock at that
    moment (processes opening one new store together, or one closing it)."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as exc:  # sqlite3.OperationalError, from the driver itself
            if "database is locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


@contextmanager
def _migration_lock(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection holding a database-wide lock for migrating, inside a transaction that
    commits on exit."""
    backend = engine.dialect.name
    if backend == "sqlite":
        # BEGIN IMMEDIATE takes SQLite's write lock: a second opener waits on the busy timeout.
        with engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"}).begin() as conn:
            yield conn
    elif backend == "postgresql":
        with engine.begin() as conn:
            # Transactional DDL: the whole migration and this lock commit together.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7350862911)")
            yield conn
    elif backend in ("mysql", "mariadb"):
        # DDL commits implicitly on MySQL, so a session lock serializes migrators instead.
        with engine.connect() as conn:
            name = "flightlog_migrate_" + (conn.exec_driver_sql("SELECT DATABASE()").scalar() or "")
            got = conn.exec_driver_sql("SELECT GET_LOCK(%s, 120)", (name[:64],)).scalar()
            if got != 1:
                raise StoreUnavailableError("Timed out waiting for another process to migrate")
            try:
                yield conn
                conn.commit()
            finally:
                conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name[:64],))
    else:
        with engine.begin() as conn:
            yield conn


def insert_experiment_zero(conn: sa.Connection, row: dict[str, Any]) -> None:
    """Insert the Default experiment with id 0. MySQL's AUTO_INCREMENT treats an explicit 0 as
    "generate an id" unless NO_AUTO_VALUE_ON_ZERO is set, so set it for this one statement."""
    mysql = conn.dialect.name in ("mysql", "mariadb")
    if mysql:
        conn.exec_driver_sql("SET @flightlog_saved_sql_mode = @@SESSION.sql_mode")
        conn.exec_driver_sql(
            "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), "
            "'NO_AUTO_VALUE_ON_ZERO')"
        )
    try:
        conn.execute(db.experiments.insert().values(**row))
    finally:
        if mysql:
            conn.exec_driver_sql("SET SESSION sql_mode = @flightlog_saved_sql_mode")


def _parse_experiment_id(experiment_id: object) -> int | None:
    """The integer id, or None when the text cannot be an experiment id here."""
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        return experiment_id if 0 <= experiment_id <= _MAX_INT32 else None
    if isinstance(experiment_id, str) and _EXPERIMENT_ID.match(experiment_id):
        value = int(experiment_id)
        return value if value <= _MAX_INT32 else None
    return None


def _run_info(row: sa.Row) -> RunInfo:
    return RunInfo(
        run_id=row.run_uuid,
        experiment_id=str(row.experiment_id),
        run_name=row.name or "",
        user_id=row.user_id or "",
        status=row.status,
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri or "",
        lifecycle_stage=row.lifecycle_stage,
    )


def _resolve_run_name(run_name: str | None, tag_values: dict[str, str]) -> str:
    tagged = tag_values.get(RUN_NAME_TAG)
    if run_name is not None and tagged is not None and run_name != tagged:
        raise InvalidParameterError(
            f"Both run_name {run_name!r} and the {RUN_NAME_TAG} tag {tagged!r} were given with "
            "different values; pass one of them"
        )
    name = run_name if run_name is not None else tagged
    if not name:
        return generate_run_name()
    return validate_run_name(name)


def _metric_points(metrics: Iterable[Metric]) -> list[tuple]:
    """(key, value, timestamp, step) tuples of checked types: a float value, int timestamp and
    step. Keys are validated once each."""
    points: list[tuple] = []
    append = points.append
    for metric in metrics:
        key, value, timestamp, step = metric.key, metric.value, metric.timestamp, metric.step
        if type(value) is not float:
            value = _as_float(key, value)
        if type(timestamp) is not int or type(step) is not int:
            timestamp, step = _as_int(key, timestamp, "timestamp"), _as_int(key, step, "step")
        append((key, value, timestamp, step))
    _validate_metric_keys(points)
    return points


def _validate_metric_keys(points: Sequence[tuple]) -> None:
    for key in set(map(itemgetter(0), points)):
        validate_key(key, "Metric")


def _paged(items: Sequence[Any], pages: list[int]) -> Iterator[tuple[Sequence[Any], int]]:
    """Split items into full pages of the largest size, then the rest, each with the size of
    the page it goes in (the smallest that holds it)."""
    largest = pages[-1]
    for start in range(0, len(items), largest):
        chunk = items[start : start + largest]
        yield chunk, next(size for size in pages if size >= len(chunk))


def _metric_rows(
    run_id: str, points: Iterable[tuple], false: Any = False, true: Any = True
) -> tuple[list[tuple], dict[str, tuple]]:
    """The history rows to insert (NaN stored as 0.0 with is_nan set, infinities clipped to
    +/-float max), and the latest row per key (the greatest (step, timestamp, stored value,
    is_nan), the rule of the latest_metrics upserts). This loop is the hot path on PostgreSQL
    and MySQL: keep it lean."""
    rows: list[tuple] = []
    latest: dict[str, tuple] = {}
    append = rows.append
    get_latest = latest.get
    fmax = _FLOAT_MAX
    for key, value, timestamp, step in points:
        if -fmax <= value <= fmax:  # False for NaN and +/-inf
            row = (run_id, key, value, timestamp, step, false)
        elif value != value:
            row = (run_id, key, 0.0, timestamp, step, true)
        else:
            row = (run_id, key, fmax if value > 0 else -fmax, timestamp, step, false)
        append(row)
        newest = get_latest(key)
        if (
            newest is None
            or step > newest[4]
            or (step == newest[4] and (timestamp, row[2], row[5]) >= newest[3:1:-1] + newest[5:])
        ):
            latest[key] = row
    return rows, latest


def _as_float(key: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"Got invalid value {value!r} for metric {key!r}: metric values must be numbers"
        ) from None


def _as_int(key: str, value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise InvalidParameterError(f"The {what} of metric {key!r} must be an integer, got {value!r}")


def _param_values(run_id: str, params: Iterable[Param]) -> dict[str, str]:
    values: dict[str, str] = {}
    for param in params:
        key = validate_key(param.key, "Param")
        value = validate_param_value(key, param.value)
        previous = values.setdefault(key, value)
        if previous != value:
            raise ParamConflictError(
                f"Changing param values is not allowed: param {key!r} of run {run_id!r} appears "
                f"twice in one batch, with value {previous!r} and new value {value!r}"
            )
    return values


def _tag_values(tags: Iterable[RunTag]) -> dict[str, str]:
    values: dict[str, str] = {}
    for tag in tags or ():
        key = validate_key(tag.key, "Tag")
        values[key] = validate_tag_value(key, tag.value)  # the last value of a key wins
    return values


def _experiment_tag_rows(tags: Iterable[RunTag]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in _tag_values(tags).items()]
