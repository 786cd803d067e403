"""Look at an existing SQLite file before flightlog opens it for real, changing nothing.

Opening a store switches the file to WAL mode and may migrate it: both write. A file that is
not a usable flightlog database (zeroed, truncated, garbage, written by a newer flightlog or
by MLflow) must be refused *before* that, with a message naming the problem, and left exactly as
it was. A file this process cannot write is opened read-only instead (reads work, writes are
refused clearly). `probe` reads the header with plain file I/O, then the schema through a
`mode=ro` connection, which never writes to the database file.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flightlog.exceptions import FlightlogError

SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100
VERSION_TABLE = "alembic_version"
# Columns MLflow's `runs` table has and flightlog's does not: how an MLflow database is told
# apart from one written by a newer flightlog (both carry revisions this version does not know).
_MLFLOW_RUN_COLUMNS = frozenset({"source_type", "source_name", "entry_point_name"})


class UnusableDatabaseError(FlightlogError):
    """The database file cannot be used as a flightlog store; it was left untouched."""

    error_code = "INVALID_STATE"
    http_status = 500


@dataclass(frozen=True)
class Probe:
    exists: bool
    read_only: bool
    revisions: frozenset[str] | None = None
    mlflow_schema: bool = False
    # Readable only as an immutable file: a WAL database whose folder cannot be written (SQLite
    # cannot make the -shm file that mode=ro needs). Reads then see what the .db file holds.
    immutable: bool = False


def _writable(path: Path) -> bool:
    """Whether this process may change `path` and create its -wal/-shm/-journal beside it (for
    a file still to be made: whether its nearest existing folder lets it be created)."""
    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK | os.X_OK)


def read_only_uri(path: str | os.PathLike, immutable: bool = False) -> str:
    """A SQLAlchemy URL that opens `path` read-only (SQLite's `mode=ro`, or `immutable=1`)."""
    flag = "immutable=1" if immutable else "mode=ro"
    return f"sqlite:///file:{quote(os.fspath(path))}?{flag}&uri=true"


def probe(path: str | os.PathLike) -> Probe:
    """Check an existing database file; raise UnusableDatabaseError if it cannot be a store."""
    file = Path(path)
    if not file.exists():
        return Probe(exists=False, read_only=not _writable(file))
    if not file.is_file():
        raise UnusableDatabaseError(f"The tracking database {file} is not a file")
    try:
        size = file.stat().st_size
        with open(file, "rb") as f:
            header = f.read(_HEADER_BYTES)
    except OSError as exc:
        raise UnusableDatabaseError(
            f"Cannot read the tracking database {file}: {exc.strerror or exc}"
        ) from exc
    if size == 0:  # SQLite treats an empty file as a new database
        return Probe(exists=True, read_only=not _writable(file))
    _check_header(file, header, size)
    writable = _writable(file)
    immutable = False
    try:
        revisions, mlflow_schema = _read_schema(file, "mode=ro")
    except UnusableDatabaseError as exc:
        cause = exc.__cause__
        if writable or not isinstance(cause, sqlite3.OperationalError):
            raise
        revisions, mlflow_schema = _read_schema(file, "immutable=1")
        immutable = True
    return Probe(
        exists=True,
        read_only=not writable,
        revisions=revisions,
        mlflow_schema=mlflow_schema,
        immutable=immutable,
    )


def _check_header(file: Path, header: bytes, size: int) -> None:
    if not header.startswith(SQLITE_MAGIC):
        if not header.strip(b"\0"):
            what = "is all zero bytes (zeroed)"
        elif len(header) < len(SQLITE_MAGIC) and SQLITE_MAGIC.startswith(header):
            what = "is truncated"
        else:
            what = "is not a SQLite database (it does not start with SQLite's header)"
        raise UnusableDatabaseError(
            f"The tracking database {file} {what}; flightlog left it untouched. Restore it from "
            "a backup or point flightlog at another database."
        )
    if len(header) < _HEADER_BYTES:
        raise UnusableDatabaseError(
            f"The tracking database {file} is truncated ({size} bytes, shorter than SQLite's "
            "100-byte header); flightlog left it untouched."
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The in-header page count is trustworthy when its "valid for" counter matches the change
    # counter (SQLite 3.7.0+ keeps both).
    if pages and header[92:96] == header[24:28] and pages * page_size > size:
        raise UnusableDatabaseError(
            f"The tracking database {file} is truncated: its header counts {pages} pages of "
            f"{page_size} bytes ({pages * page_size} bytes) but the file holds {size}; "
            "flightlog left it untouched. Restore it from a backup."
        )


def _read_schema(file: Path, flag: str) -> tuple[frozenset[str] | None, bool]:
    uri = f"file:{quote(str(file))}?{flag}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise UnusableDatabaseError(f"Cannot open the tracking database {file}: {exc}") from exc
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        revisions = None
        if VERSION_TABLE in tables:
            revisions = frozenset(
                row[0] for row in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}")
            )
        mlflow_schema = False
        if "runs" in tables:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            mlflow_schema = bool(columns & _MLFLOW_RUN_COLUMNS)
        return revisions, mlflow_schema
    except sqlite3.DatabaseError as exc:
        raise UnusableDatabaseError(
            f"The tracking database {file} is damaged ({exc}); flightlog left it untouched. "
            "Restore it from a backup or point flightlog at another database."
        ) from exc
    finally:
        conn.close()


def refuse_foreign_schema(
    location: str, revisions: frozenset[str] | None, known: frozenset[str], mlflow_schema: bool
) -> None:
    """Raise when the database carries schema revisions this flightlog does not know."""
    unknown = (revisions or frozenset()) - known
    if not unknown and not mlflow_schema:
        return
    shown = ", ".join(sorted(unknown)) or "none"
    if mlflow_schema:
        raise UnusableDatabaseError(
            f"The database {location} was created by MLflow (schema revision {shown}); flightlog "
            "does not open or change MLflow's databases, and left it untouched. Point flightlog "
            "at a database of its own (MLflow's runs can be copied into one with flightlog's "
            "import command)."
        )
    raise UnusableDatabaseError(
        f"The database's schema revision {shown} is unknown to this flightlog version: it was "
        "written by a newer flightlog, or by another tool (MLflow keeps its own alembic_version "
        f"table). {location} was left untouched; use a newer flightlog or another database."
    )
