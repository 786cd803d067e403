"""The model registry (registered models, versions, tags, aliases) and MLflow 3 logged models.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02

Spells out its own DDL (see 0001). Renames of a registered model cascade to its versions, tags
and aliases through ON UPDATE CASCADE foreign keys.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=True),
        sa.Column("last_updated_time", sa.BigInteger, nullable=True),
        sa.Column("description", sa.String(5000), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_registered_models"),
        **MYSQL,
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.String(5000), nullable=True),
        sa.PrimaryKeyConstraint("name", "key", name="pk_registered_model_tags"),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_models.name"],
            name="fk_registered_model_tags_model",
            onupdate="CASCADE",
        ),
        **MYSQL,
    )
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("creation_time", sa.BigInteger, nullable=True),
        sa.Column("last_updated_time", sa.BigInteger, nullable=True),
        sa.Column("description", sa.String(5000), nullable=True),
        sa.Column("user_id", sa.String(256), nullable=True),
        sa.Column("current_stage", sa.String(20), nullable=False, server_default="None"),
        sa.Column("source", sa.String(2000), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("run_link", sa.String(500), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default="READY"),
        sa.Column("status_message", sa.String(500), nullable=True),
        sa.Column("storage_location", sa.String(2000), nullable=True),
        sa.Column("model_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_models.name"],
            name="fk_model_versions_model",
            onupdate="CASCADE",
        ),
        **MYSQL,
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.String(5000), nullable=True),
        sa.PrimaryKeyConstraint("name", "version", "key", name="pk_model_version_tags"),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            name="fk_model_version_tags_version",
            onupdate="CASCADE",
        ),
        **MYSQL,
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_registered_model_aliases"),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_models.name"],
            name="fk_registered_model_aliases_model",
            onupdate="CASCADE",
        ),
        **MYSQL,
    )
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2000), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
        sa.Column("model_type", sa.String(500), nullable=True),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("status_message", sa.String(1000), nullable=True),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], name="fk_logged_models_experiment"
        ),
        **MYSQL,
    )
    op.create_index(
        "ix_logged_models_experiment_created",
        "logged_models",
        ["experiment_id", "creation_timestamp_ms"],
    )
    op.create_index("ix_logged_models_source_run", "logged_models", ["source_run_id"])
    for table, nullable in (("logged_model_tags", True), ("logged_model_params", False)):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(64), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.String(8000), nullable=nullable),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["model_id"], ["logged_models.model_id"], name=f"fk_{table}_model"
            ),
            **MYSQL,
        )
    op.create_table(
        "run_model_outputs",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", name="pk_run_model_outputs"),
        **MYSQL,
    )


def downgrade() -> None:
    for table in (
        "run_model_outputs",
        "logged_model_params",
        "logged_model_tags",
        "logged_models",
        "registered_model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
