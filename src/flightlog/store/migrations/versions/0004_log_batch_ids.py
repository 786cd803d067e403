"""Batch ids a run's runs/log-batch requests carried: a re-sent batch is stored once.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04

A client that lost the answer to a log-batch request (a SIGKILL before the journal was
acknowledged, a dropped connection) sends the batch again, through `flightlog sync` or its own
retry. Each batch carries an id the client made up (flightlog's `X-Flightlog-Batch-Id` header, or
SqlStore.log_batch(batch_id=...)); the store remembers it in the same transaction as the batch's
rows and skips a batch whose id it has seen for that run. One row per batch (up to 1,000 points),
so the table stays small next to the metrics.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "log_batch_ids",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("stored_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "batch_id", name="pk_log_batch_ids"),
        sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"], name="fk_log_batch_ids_run"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("log_batch_ids")
