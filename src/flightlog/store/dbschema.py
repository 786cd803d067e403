"""The current shape of the tracking tables, as SQLAlchemy Core tables.

The SQL store queries through these objects; the tables themselves are created and changed only by
the Alembic migrations in `flightlog.store.migrations` (which spell out each version's DDL on their
own, so editing this file never changes an old migration). Keep the two in step: a new column here
needs a new migration there.

Table and column names follow MLflow's schema so people who know it can read ours. Differences,
all for speed or correctness:
- `metrics` has an autoincrement `id` primary key (insertion order breaks ties in the history)
  and a unique index on the whole point: a point identical in (run, key, step, timestamp, value)
  to a stored one is the same point and is not stored twice, as in MLflow (migration 0003);
- `latest_metrics` is kept up to date in the same transaction as `metrics`, so run pages and
  metric filters never scan the history;
- on MySQL/MariaDB every table uses the binary utf8mb4 collation, so keys and names compare
  case-sensitively as they do on SQLite and PostgreSQL ("Loss" and "loss" are two metrics).
"""

from __future__ import annotations

import sqlalchemy as sa

# Column sizes. Keys are limited to 250 characters by validation; param values to 6000 and tag
# values to 8000 (MLflow's limits), both stored in VARCHAR(8000) like MLflow does.
KEY_LENGTH = 250
VALUE_LENGTH = 8000
EXPERIMENT_NAME_LENGTH = 500
RUN_NAME_LENGTH = 250
URI_LENGTH = 2000
RUN_ID_LENGTH = 32

# Table options applied on MySQL/MariaDB only (other dialects ignore mysql_* keywords).
MYSQL_TABLE_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

# BIGINT everywhere except SQLite, where only INTEGER PRIMARY KEY is an alias of the rowid.
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(EXPERIMENT_NAME_LENGTH), nullable=False),
    sa.Column("artifact_location", sa.String(URI_LENGTH), nullable=True),
    sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
    sa.Column("creation_time", sa.BigInteger, nullable=True),
    sa.Column("last_update_time", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("name", name="uq_experiments_name"),
    **MYSQL_TABLE_OPTIONS,
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.String(VALUE_LENGTH), nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_uuid", sa.String(RUN_ID_LENGTH), primary_key=True),
    sa.Column("name", sa.String(RUN_NAME_LENGTH), nullable=True),
    sa.Column(
        "experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False
    ),
    sa.Column("user_id", sa.String(256), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=True),
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False),
    sa.Column("artifact_uri", sa.String(URI_LENGTH), nullable=True),
    sa.Column("deleted_time", sa.BigInteger, nullable=True),
    # search_runs: WHERE experiment_id IN (...) AND lifecycle_stage IN (...) ORDER BY start_time
    sa.Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
    **MYSQL_TABLE_OPTIONS,
)


# Indexes declared for some kinds of database only: name -> the dialects that have it.
_INDEX_DIALECTS: dict[str, tuple[str, ...]] = {}


def index_applies(index: sa.Index | str, dialect_name: str) -> bool:
    """Whether `index` (or the index of that name) exists on this kind of database."""
    only = _INDEX_DIALECTS.get(index if isinstance(index, str) else str(index.name))
    return only is None or dialect_name in only


def _for_dialects(index: sa.Index, *names: str) -> sa.Index:
    _INDEX_DIALECTS[str(index.name)] = names
    return index.ddl_if(
        callable_=lambda ddl, target, bind, dialect=None, **kw: index_applies(index, dialect.name)
    )


def _value_indexes(table: str) -> list[sa.Index]:
    return [
        _for_dialects(
            sa.Index(f"ix_{table}_key_value", "key", "value", mysql_length={"value": 255}),
            "sqlite",
            "mysql",
            "mariadb",
        ),
        _for_dialects(
            sa.Index(f"ix_{table}_value_hash", "value", postgresql_using="hash"), "postgresql"
        ),
    ]


params = sa.Table(
    "params",
    metadata,
    sa.Column(
        "run_uuid", sa.String(RUN_ID_LENGTH), sa.ForeignKey("runs.run_uuid"), primary_key=True
    ),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.String(VALUE_LENGTH), nullable=False),
    # search_runs param filters (migration 0006 says why each backend gets its own kind)
    *_value_indexes("params"),
    **MYSQL_TABLE_OPTIONS,
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column(
        "run_uuid", sa.String(RUN_ID_LENGTH), sa.ForeignKey("runs.run_uuid"), primary_key=True
    ),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.String(VALUE_LENGTH), nullable=True),
    *_value_indexes("tags"),
    **MYSQL_TABLE_OPTIONS,
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
    # No foreign key here, on purpose: on PostgreSQL the per-row RI trigger costs a third of
    # log_batch's throughput. log_batch checks the run in the same transaction instead.
    sa.Column("run_uuid", sa.String(RUN_ID_LENGTH), nullable=False),
    sa.Column("key", sa.String(KEY_LENGTH), nullable=False),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    # Identical points are one point (inserts skip a conflict on this index); it also serves
    # get_metric_history: WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp, id.
    sa.Index(
        "ux_metrics_point", "run_uuid", "key", "step", "timestamp", "value", "is_nan", unique=True
    ),
    **MYSQL_TABLE_OPTIONS,
)

latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column(
        "run_uuid", sa.String(RUN_ID_LENGTH), sa.ForeignKey("runs.run_uuid"), primary_key=True
    ),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    # search_runs metric filters: WHERE key = ? AND value > ?
    sa.Index("ix_latest_metrics_key_value", "key", "value"),
    **MYSQL_TABLE_OPTIONS,
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("dataset_uuid", sa.String(36), primary_key=True),
    sa.Column(
        "experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False
    ),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("digest", sa.String(36), nullable=False),
    sa.Column("dataset_source_type", sa.String(36), nullable=False),
    sa.Column("dataset_source", sa.Text, nullable=False),
    sa.Column("dataset_schema", sa.Text, nullable=True),
    sa.Column("dataset_profile", sa.Text, nullable=True),
    sa.UniqueConstraint(
        "experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"
    ),
    **MYSQL_TABLE_OPTIONS,
)

inputs = sa.Table(
    "inputs",
    metadata,
    sa.Column("input_uuid", sa.String(36), primary_key=True),
    sa.Column("source_type", sa.String(36), nullable=False),
    sa.Column("source_id", sa.String(36), nullable=False),
    sa.Column("destination_type", sa.String(36), nullable=False),
    sa.Column("destination_id", sa.String(36), nullable=False),
    sa.UniqueConstraint(
        "source_type", "source_id", "destination_type", "destination_id", name="uq_inputs_link"
    ),
    # get_run / search_runs: the inputs of a set of runs
    sa.Index("ix_inputs_destination", "destination_type", "destination_id"),
    **MYSQL_TABLE_OPTIONS,
)

input_tags = sa.Table(
    "input_tags",
    metadata,
    sa.Column("input_uuid", sa.String(36), sa.ForeignKey("inputs.input_uuid"), primary_key=True),
    sa.Column("name", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.String(500), nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

# Batch ids of log-batch requests already stored per run (migration 0004): a re-sent batch (a
# lost answer, `flightlog sync` after a SIGKILL) is skipped instead of stored twice.
log_batch_ids = sa.Table(
    "log_batch_ids",
    metadata,
    sa.Column(
        "run_uuid", sa.String(RUN_ID_LENGTH), sa.ForeignKey("runs.run_uuid"), primary_key=True
    ),
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("stored_time", sa.BigInteger, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

# Every tracking table, parents before children (the order to create; reverse it to delete).
TRACKING_TABLES = (
    experiments,
    experiment_tags,
    runs,
    params,
    tags,
    metrics,
    latest_metrics,
    datasets,
    inputs,
    input_tags,
    log_batch_ids,
)
