"""The tracking schema: experiments, runs, params, tags, metric history, latest metrics, datasets.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

This migration spells out its own DDL instead of importing flightlog.store.dbschema, so later
changes to the current schema never rewrite history. The Default experiment (id 0) is not
created here: its artifact location depends on the store that opens the database, so the store
adds it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2000), nullable=True),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
        sa.Column("creation_time", sa.BigInteger, nullable=True),
        sa.Column("last_update_time", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
        **MYSQL,
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.String(8000), nullable=True),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], name="fk_experiment_tags_experiment"
        ),
        **MYSQL,
    )
    op.create_table(
        "runs",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("name", sa.String(250), nullable=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=True),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        sa.Column("artifact_uri", sa.String(2000), nullable=True),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("run_uuid", name="pk_runs"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], name="fk_runs_experiment"
        ),
        **MYSQL,
    )
    op.create_index(
        "ix_runs_experiment_stage_start", "runs", ["experiment_id", "lifecycle_stage", "start_time"]
    )
    for table, value_type, nullable in (
        ("params", sa.String(8000), False),
        ("tags", sa.String(8000), True),
    ):
        op.create_table(
            table,
            sa.Column("run_uuid", sa.String(32), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", value_type, nullable=nullable),
            sa.PrimaryKeyConstraint("run_uuid", "key", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"], name=f"fk_{table}_run"),
            **MYSQL,
        )
    op.create_table(
        "metrics",
        # INTEGER PRIMARY KEY is SQLite's rowid: the cheapest autoincrement key there is.
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        # No foreign key to runs: the per-row check would cost a third of log_batch's
        # throughput on PostgreSQL; log_batch checks the run in the same transaction.
        **MYSQL,
    )
    # get_metric_history reads (run, key) in (step, timestamp, id) order straight off this index:
    # SQLite and InnoDB append the row id to every index entry, PostgreSQL sorts only ties.
    op.create_index(
        "ix_metrics_run_key_step_time", "metrics", ["run_uuid", "key", "step", "timestamp"]
    )
    op.create_table(
        "latest_metrics",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "key", name="pk_latest_metrics"),
        sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"], name="fk_latest_metrics_run"),
        **MYSQL,
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    op.create_table(
        "datasets",
        sa.Column("dataset_uuid", sa.String(36), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("dataset_source_type", sa.String(36), nullable=False),
        sa.Column("dataset_source", sa.Text, nullable=False),
        sa.Column("dataset_schema", sa.Text, nullable=True),
        sa.Column("dataset_profile", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("dataset_uuid", name="pk_datasets"),
        sa.UniqueConstraint(
            "experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], name="fk_datasets_experiment"
        ),
        **MYSQL,
    )
    op.create_table(
        "inputs",
        sa.Column("input_uuid", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source_id", sa.String(36), nullable=False),
        sa.Column("destination_type", sa.String(36), nullable=False),
        sa.Column("destination_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("input_uuid", name="pk_inputs"),
        sa.UniqueConstraint(
            "source_type", "source_id", "destination_type", "destination_id", name="uq_inputs_link"
        ),
        **MYSQL,
    )
    op.create_index("ix_inputs_destination", "inputs", ["destination_type", "destination_id"])
    op.create_table(
        "input_tags",
        sa.Column("input_uuid", sa.String(36), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("input_uuid", "name", name="pk_input_tags"),
        sa.ForeignKeyConstraint(["input_uuid"], ["inputs.input_uuid"], name="fk_input_tags_input"),
        **MYSQL,
    )


def downgrade() -> None:
    # Indexes go with their tables (MySQL refuses to drop an index a foreign key relies on).
    for table in (
        "input_tags",
        "inputs",
        "datasets",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
