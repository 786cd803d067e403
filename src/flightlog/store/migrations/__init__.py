"""Alembic migrations of the tracking schema, and the helpers the SQL store uses to apply them.

Opening a store must stay fast, and `import alembic` is not (it pulls in Mako and much of
SQLAlchemy's reflection machinery). So the store first compares the database's revision with the
head revision read straight from the files in `versions/` (a regex, no imports) and only imports
Alembic when the database is missing tables or is behind.

Adding a migration: write `versions/NNNN_what.py` with `revision = "NNNN"` and
`down_revision = "<previous>"` (the model registry goes in as 0002 and so on). Nothing else needs
to change: the head is found from the files.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

VERSION_TABLE = "alembic_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent

_REVISION = re.compile(r"""^revision(?:\s*:\s*[\w\[\], |]+)?\s*=\s*["']([^"']+)["']""", re.M)
_DOWN_REVISION = re.compile(r"""^down_revision(?:\s*:\s*[^=]+)?\s*=\s*(.+)$""", re.M)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


@functools.lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The revisions no other migration builds on (normally exactly one)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        match = _REVISION.search(text)
        if not match:
            continue
        revisions.add(match.group(1))
        down = _DOWN_REVISION.search(text)
        if down:
            parents.update(_QUOTED.findall(down.group(1)))
    return frozenset(revisions - parents)


def known_revisions() -> frozenset[str]:
    """Every revision id shipped in `versions/`."""
    found = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        match = _REVISION.search(path.read_text(encoding="utf-8"))
        if match:
            found.add(match.group(1))
    return frozenset(found)


def current_revisions(connection: sa.Connection) -> frozenset[str] | None:
    """The revisions stamped in the database, or None when it has no version table yet."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").all()
    return frozenset(row[0] for row in rows)


def is_current(connection: sa.Connection) -> bool:
    return current_revisions(connection) == head_revisions()


def alembic_config(connection: sa.Connection | None = None, url: str | None = None) -> Any:
    """An Alembic Config built in code (no alembic.ini needed). env.py uses `connection` when
    given, else opens `url`."""
    from alembic.config import Config

    config = Config()
    # ConfigParser interpolation treats "%" specially; paths and URLs may contain it.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("version_table", VERSION_TABLE)
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: sa.Connection, revision: str = "heads") -> None:
    """Run the migrations up to `revision` on `connection`, inside its current transaction when
    one is open (the caller commits)."""
    from alembic import command

    command.upgrade(alembic_config(connection), revision)
