"""The model registry and logged-model tables, as SQLAlchemy Core tables.

Created and changed only by the Alembic migrations (0002_model_registry onward); keep this file
and the migrations in step. Names follow MLflow's schema where MLflow has the same table.

- `model_versions` rows are never reused: deleting a version marks it `Deleted_Internal` (as
  MLflow does) so the next version number is always max + 1 and numbers never repeat.
- Renaming a registered model cascades to its versions, tags and aliases (ON UPDATE CASCADE).
- `logged_models` are MLflow 3's models:/m-<id> (what the official client creates when it logs a
  model into `flightlog server`); `run_model_outputs` links runs to the models they produced.
"""

from __future__ import annotations

import sqlalchemy as sa

from flightlog.store.dbschema import MYSQL_TABLE_OPTIONS, metadata

NAME_LENGTH = 256
DESCRIPTION_LENGTH = 5000
TAG_VALUE_LENGTH = 5000
URI_LENGTH = 2000
MODEL_ID_LENGTH = 64
DELETED_STAGE = "Deleted_Internal"

_CASCADE = {"onupdate": "CASCADE"}

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("creation_time", sa.BigInteger, nullable=True),
    sa.Column("last_updated_time", sa.BigInteger, nullable=True),
    sa.Column("description", sa.String(DESCRIPTION_LENGTH), nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column(
        "name",
        sa.String(NAME_LENGTH),
        sa.ForeignKey("registered_models.name", **_CASCADE),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.String(TAG_VALUE_LENGTH), nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column(
        "name",
        sa.String(NAME_LENGTH),
        sa.ForeignKey("registered_models.name", **_CASCADE),
        primary_key=True,
    ),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("creation_time", sa.BigInteger, nullable=True),
    sa.Column("last_updated_time", sa.BigInteger, nullable=True),
    sa.Column("description", sa.String(DESCRIPTION_LENGTH), nullable=True),
    sa.Column("user_id", sa.String(256), nullable=True),
    sa.Column("current_stage", sa.String(20), nullable=False, server_default="None"),
    sa.Column("source", sa.String(URI_LENGTH), nullable=True),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("run_link", sa.String(500), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="READY"),
    sa.Column("status_message", sa.String(500), nullable=True),
    sa.Column("storage_location", sa.String(URI_LENGTH), nullable=True),
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), nullable=True),
    # search_model_versions("run_id = '...'")
    sa.Index("ix_model_versions_run_id", "run_id"),
    **MYSQL_TABLE_OPTIONS,
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.String(TAG_VALUE_LENGTH), nullable=True),
    sa.ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], **_CASCADE
    ),
    **MYSQL_TABLE_OPTIONS,
)

registered_model_aliases = sa.Table(
    "registered_model_aliases",
    metadata,
    sa.Column(
        "name",
        sa.String(NAME_LENGTH),
        sa.ForeignKey("registered_models.name", **_CASCADE),
        primary_key=True,
    ),
    sa.Column("alias", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

logged_models = sa.Table(
    "logged_models",
    metadata,
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), primary_key=True),
    sa.Column(
        "experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False
    ),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("artifact_location", sa.String(URI_LENGTH), nullable=False),
    sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
    sa.Column("model_type", sa.String(500), nullable=True),
    sa.Column("source_run_id", sa.String(32), nullable=True),
    sa.Column("status_message", sa.String(1000), nullable=True),
    # search_logged_models: WHERE experiment_id IN (...) ORDER BY creation_timestamp_ms DESC
    sa.Index("ix_logged_models_experiment_created", "experiment_id", "creation_timestamp_ms"),
    sa.Index("ix_logged_models_source_run", "source_run_id"),
    **MYSQL_TABLE_OPTIONS,
)

logged_model_tags = sa.Table(
    "logged_model_tags",
    metadata,
    sa.Column(
        "model_id",
        sa.String(MODEL_ID_LENGTH),
        sa.ForeignKey("logged_models.model_id"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.String(8000), nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

logged_model_params = sa.Table(
    "logged_model_params",
    metadata,
    sa.Column(
        "model_id",
        sa.String(MODEL_ID_LENGTH),
        sa.ForeignKey("logged_models.model_id"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.String(8000), nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

# One row per point of a metric logged with a model id (the run keeps its own `metrics` row).
logged_model_metrics = sa.Table(
    "logged_model_metrics",
    metadata,
    sa.Column(
        "model_id",
        sa.String(MODEL_ID_LENGTH),
        sa.ForeignKey("logged_models.model_id", name="fk_logged_model_metrics_model"),
        primary_key=True,
    ),
    sa.Column("metric_name", sa.String(250), primary_key=True),
    sa.Column("metric_timestamp_ms", sa.BigInteger, primary_key=True),
    sa.Column("metric_step", sa.BigInteger, primary_key=True),
    sa.Column("metric_value", sa.Float(precision=53), nullable=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(32), primary_key=True, server_default=""),
    sa.Column("dataset_name", sa.String(500), nullable=True),
    sa.Column("dataset_digest", sa.String(36), nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

run_model_outputs = sa.Table(
    "run_model_outputs",
    metadata,
    sa.Column("run_uuid", sa.String(32), primary_key=True),
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=False, server_default="0"),
    **MYSQL_TABLE_OPTIONS,
)

REGISTRY_TABLES = (
    registered_models,
    registered_model_tags,
    model_versions,
    model_version_tags,
    registered_model_aliases,
    logged_models,
    logged_model_tags,
    logged_model_params,
    logged_model_metrics,
    run_model_outputs,
)
