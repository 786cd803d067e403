"""Identical metric points are one point: a unique index on (run, key, step, timestamp, value,
is_nan) replaces the plain history index.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03

Clients re-send points (a retried batch whose reply was lost, a spool replayed after a crash, the
official MLflow client logging epoch 0 twice); MLflow's store keeps one copy because its primary
key includes the value. The store now inserts with "on conflict do nothing", so the index must
be unique. Existing exact duplicates are deleted first (the copy with the lowest id stays), in
one statement every backend accepts (MySQL needs the derived table to delete from a table the
subquery reads). latest_metrics needs no change: a duplicate carries the same values as the
point it duplicates.

The new index starts with the old one's columns, so get_metric_history still seeks on it.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD_INDEX = "ix_metrics_run_key_step_time"
_NEW_INDEX = "ux_metrics_point"
_POINT = ["run_uuid", "key", "step", "timestamp", "value", "is_nan"]


def upgrade() -> None:
    bind = op.get_bind()
    q = bind.dialect.identifier_preparer.quote
    same = " AND ".join(f"later.{q(c)} = earlier.{q(c)}" for c in _POINT)
    bind.exec_driver_sql(
        "DELETE FROM metrics WHERE id IN (SELECT id FROM ("
        f"SELECT later.id AS id FROM metrics later JOIN metrics earlier ON {same}"
        " AND earlier.id < later.id) AS duplicates)"
    )
    # Create first, then drop: MySQL keeps an index for the old one's columns at every moment.
    op.create_index(_NEW_INDEX, "metrics", _POINT, unique=True)
    op.drop_index(_OLD_INDEX, table_name="metrics")


def downgrade() -> None:
    op.create_index(_OLD_INDEX, "metrics", ["run_uuid", "key", "step", "timestamp"])
    op.drop_index(_NEW_INDEX, table_name="metrics")
