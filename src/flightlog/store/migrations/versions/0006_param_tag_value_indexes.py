"""Indexes that let a param or tag filter find its runs without reading every row.

Revision ID: 0006
Revises: 0005
Create Date: 2025-01-06

`params.p = 'x'` (or a tag) was answered by scanning the whole params table: its primary key
starts with the run id. Per backend, the index that fits its limits:
- SQLite: a B-tree on (key, value): equality, ranges and prefix LIKE all seek on it;
- MySQL/MariaDB: the same with a 255-character prefix of the value (InnoDB caps an index entry
  at 3,072 bytes; the value column holds up to 6,000/8,000 characters);
- PostgreSQL: a hash index on value (a B-tree entry is capped at ~2,700 bytes, and a long
  value would make inserts fail); equality filters use it, the key is checked on the rows.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = ("params", "tags")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _TABLES:
        if dialect == "postgresql":
            op.create_index(f"ix_{table}_value_hash", table, ["value"], postgresql_using="hash")
        else:
            op.create_index(
                f"ix_{table}_key_value", table, ["key", "value"], mysql_length={"value": 255}
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _TABLES:
        name = f"ix_{table}_value_hash" if dialect == "postgresql" else f"ix_{table}_key_value"
        op.drop_index(name, table_name=table)
