"""Metrics of MLflow 3 logged models (`log_metric(..., model_id=...)`).

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-05

A metric logged with a model id belongs to the run (its `metrics` row, as before) and to the
model: one row here per point, keyed like MLflow's `logged_model_metrics` (model, name,
timestamp, step, run), with the dataset it was computed on when one was named. Read back as
LoggedModel.metrics; the latest point per key is what a model's page shows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("metric_name", sa.String(250), nullable=False),
        sa.Column("metric_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("metric_step", sa.BigInteger, nullable=False),
        sa.Column("metric_value", sa.Float(precision=53), nullable=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("dataset_name", sa.String(500), nullable=True),
        sa.Column("dataset_digest", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint(
            "model_id",
            "metric_name",
            "metric_timestamp_ms",
            "metric_step",
            "run_id",
            name="pk_logged_model_metrics",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["logged_models.model_id"], name="fk_logged_model_metrics_model"
        ),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("logged_model_metrics")
