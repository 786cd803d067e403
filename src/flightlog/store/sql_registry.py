"""The model registry and MLflow 3 logged models in the SQL store (a mixin SqlStore inherits).

Uses the SqlStore's `_read()` / `_write()` transactions (BEGIN IMMEDIATE on SQLite) and its
tables from `flightlog.store.registry_schema`.

Version numbers: `create_model_version` locks the registered model's row (SELECT ... FOR UPDATE
on PostgreSQL and MySQL; SQLite's BEGIN IMMEDIATE already holds the database write lock), reads
max(version) and inserts max + 1 in the same transaction. Concurrent creators queue on that lock,
so versions come out 1, 2, 3, ... with no gaps and no duplicates; should a backend still let two
through, the primary key (name, version) rejects one and the whole transaction is retried.
"""

from __future__ import annotations

import math
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from flightlog.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelStatus,
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    PagedList,
    RegisteredModel,
    RunTag,
)
from flightlog.exceptions import (
    ExperimentNotFoundError,
    InvalidParameterError,
    LoggedModelNotFoundError,
    ModelVersionNotFoundError,
    RegisteredModelAlreadyExistsError,
    RegisteredModelNotFoundError,
    ResourceNotFoundError,
    StoreUnavailableError,
)
from flightlog.store import dbschema as db
from flightlog.store import registry_schema as rs
from flightlog.store.registry_base import RegistryStore
from flightlog.store.registry_validation import (
    validate_alias,
    validate_description,
    validate_model_name,
    validate_registry_tag,
    validate_version,
)
from flightlog.store.search import (
    ATTRIBUTE,
    METRIC,
    PARAM,
    TAG,
    BoolOp,
    Node,
    Vocabulary,
    comparisons,
    parse_filter,
    parse_order_by_list,
)
from flightlog.store.sql_search import like_to_glob

_CREATE_VERSION_ATTEMPTS = 20

# MLflow keeps prompts in the registry as models tagged with this; its 3.x client adds
# ``tags.`mlflow.prompt.is_prompt` != 'true'`` to every model search. As in MLflow's store, a
# search that is not about prompts ignores comparisons on this tag and leaves out prompts (so
# models without the tag match), while `= 'true'` / `!= 'false'` searches prompts.
PROMPT_TAG = "mlflow.prompt.is_prompt"
_MAX_REGISTRY_RESULTS = 10_000

REGISTERED_MODELS = Vocabulary(
    entity="registered model",
    prefixes={"tags": TAG, "tag": TAG, "attributes": ATTRIBUTE, "attribute": ATTRIBUTE},
    attributes={
        "name": "name",
        "creation_timestamp": "creation_time",
        "creation_time": "creation_time",
        "last_updated_timestamp": "last_updated_time",
        "timestamp": "last_updated_time",
        "last_updated_time": "last_updated_time",
        "description": "description",
    },
    numeric_attributes=frozenset({"creation_time", "last_updated_time"}),
    expected="tags or attributes",
)

MODEL_VERSIONS = Vocabulary(
    entity="model version",
    prefixes={"tags": TAG, "tag": TAG, "attributes": ATTRIBUTE, "attribute": ATTRIBUTE},
    attributes={
        "name": "name",
        "version_number": "version",
        "version": "version",
        "run_id": "run_id",
        "source_path": "source",
        "source": "source",
        "current_stage": "current_stage",
        "user_id": "user_id",
        "model_id": "model_id",
        "creation_timestamp": "creation_time",
        "creation_time": "creation_time",
        "last_updated_timestamp": "last_updated_time",
        "timestamp": "last_updated_time",
        "last_updated_time": "last_updated_time",
    },
    numeric_attributes=frozenset({"version", "creation_time", "last_updated_time"}),
    expected="tags or attributes",
)

LOGGED_MODELS = Vocabulary(
    entity="logged model",
    prefixes={
        "tags": TAG,
        "tag": TAG,
        "params": PARAM,
        "param": PARAM,
        "metrics": METRIC,
        "metric": METRIC,
        "attributes": ATTRIBUTE,
        "attribute": ATTRIBUTE,
    },
    attributes={
        "name": "name",
        "model_id": "model_id",
        "source_run_id": "source_run_id",
        "status": "status",
        "model_type": "model_type",
        "creation_timestamp": "creation_timestamp_ms",
        "creation_time": "creation_timestamp_ms",
        "last_updated_timestamp": "last_updated_timestamp_ms",
    },
    numeric_attributes=frozenset({"creation_timestamp_ms", "last_updated_timestamp_ms"}),
    expected="tags, params or attributes",
)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _string_condition(column: Any, op: str, value: Any, dialect: str) -> Any:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op in ("IN", "NOT IN"):
        condition = column.in_([str(v) for v in value])
        return sa.not_(condition) if op == "NOT IN" else condition
    if op in ("LIKE", "NOT LIKE"):
        if dialect == "sqlite":  # SQLite's LIKE ignores case; GLOB does not
            condition = column.op("GLOB")(like_to_glob(str(value)))
        else:
            condition = column.like(value)
        return sa.not_(condition) if op == "NOT LIKE" else condition
    if op in ("ILIKE", "NOT ILIKE"):
        condition = column.ilike(value, escape="\\" if dialect == "sqlite" else None)
        return sa.not_(condition) if op == "NOT ILIKE" else condition
    return {"<": column < value, "<=": column <= value, ">": column > value, ">=": column >= value}[
        op
    ]


def _numeric_condition(column: Any, op: str, value: Any) -> Any:
    if op in ("IN", "NOT IN"):
        condition = column.in_([int(v) for v in value])
        return sa.not_(condition) if op == "NOT IN" else condition
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise InvalidParameterError(
                f"Expected a number to compare with, got {value!r}"
            ) from None
    return {
        "=": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[op]


class _Compiler:
    """Filter AST -> SQL for one registry table (attributes are its columns, tags/params live in
    key/value side tables joined by the entity's key columns)."""

    def __init__(
        self, table: sa.Table, keys: Sequence[str], vocab: Vocabulary, side: dict, dialect: str
    ):
        self.table = table
        self.keys = keys
        self.vocab = vocab
        self.side = side  # identifier type -> key/value table
        self.dialect = dialect
        self.ignore_prompt_tag = False

    def compile(self, node: Node | None) -> Any:
        if node is None:
            return None
        if isinstance(node, BoolOp):
            parts = [self.compile(n) for n in node.operands]
            return sa.and_(*parts) if node.op == "AND" else sa.or_(*parts)
        identifier, op, value = node.identifier, node.op, node.value
        if self.ignore_prompt_tag and identifier.type == TAG and identifier.key == PROMPT_TAG:
            return sa.true()
        if identifier.type == ATTRIBUTE:
            column = self.table.c[identifier.key]
            if op == "IS NULL":
                return column.is_(None)
            if op == "IS NOT NULL":
                return column.is_not(None)
            if identifier.key in self.vocab.numeric_attributes:
                return _numeric_condition(column, op, value)
            return _string_condition(column, op, value, self.dialect)
        if identifier.type == METRIC:
            return _latest_metric_condition(self.table, identifier.key, op, value)
        side = self.side[identifier.type]
        link = sa.and_(
            *(side.c[k] == self.table.c[k] for k in self.keys), side.c.key == identifier.key
        )
        if op == "IS NULL":
            return ~sa.exists().where(link)
        if op == "IS NOT NULL":
            return sa.exists().where(link)
        return sa.exists().where(link, _string_condition(side.c.value, op, value, self.dialect))


def _latest_metric_condition(table: sa.Table, key: str, op: str, value: Any) -> Any:
    """A logged model's metric compares by its latest point (greatest step, then timestamp)."""
    mm = rs.logged_model_metrics
    newer = rs.logged_model_metrics.alias("newer")
    if op in ("IS NULL", "IS NOT NULL", "IN", "NOT IN") or isinstance(value, (list, tuple)):
        raise InvalidParameterError("Metrics of logged models compare with =, !=, <, <=, > or >=")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"Expected a number to compare metrics.{key} with, got {value!r}"
        ) from None
    condition = {
        "=": mm.c.metric_value == number,
        "!=": mm.c.metric_value != number,
        "<": mm.c.metric_value < number,
        "<=": mm.c.metric_value <= number,
        ">": mm.c.metric_value > number,
        ">=": mm.c.metric_value >= number,
    }.get(op)
    if condition is None:
        raise InvalidParameterError(f"Metrics of logged models cannot be compared with {op}")
    later = sa.exists().where(
        newer.c.model_id == mm.c.model_id,
        newer.c.metric_name == mm.c.metric_name,
        sa.or_(
            newer.c.metric_step > mm.c.metric_step,
            sa.and_(
                newer.c.metric_step == mm.c.metric_step,
                newer.c.metric_timestamp_ms > mm.c.metric_timestamp_ms,
            ),
        ),
    )
    return sa.exists().where(
        mm.c.model_id == table.c.model_id, mm.c.metric_name == key, condition, ~later
    )


def _queries_prompts(node: Node | None) -> bool:
    """True for a search about prompts (MLflow's rule: the first comparison on the prompt tag
    decides; `= 'true'` and `!= 'false'` ask for prompts)."""
    for c in comparisons(node):
        if c.identifier.type == TAG and c.identifier.key == PROMPT_TAG:
            value = str(c.value).lower()
            return (c.op == "=" and value == "true") or (c.op == "!=" and value == "false")
    return False


def _exclude_prompts(query: Any, table: sa.Table, tags: sa.Table) -> Any:
    """Leave out registry entries (by model name) tagged as prompts, unless the filter asks
    for prompts; then the prompt tag compares like any other tag."""
    return query.where(
        ~sa.exists().where(
            tags.c.name == table.c.name, tags.c.key == PROMPT_TAG, tags.c.value == "true"
        )
    )


def _offset(page_token: str | None) -> int:
    from flightlog.store.sql import _decode_token

    return (_decode_token(page_token, ["offset"]) or {"offset": 0})["offset"]


def _next_token(offset: int, limit: int, rows: list) -> str | None:
    from flightlog.store.sql import _encode_token

    return _encode_token({"offset": offset + limit}) if len(rows) > limit else None


def _limit(max_results: int | None, default: int) -> int:
    if max_results is None:
        return default
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidParameterError(f"max_results must be a positive integer, got {max_results!r}")
    if max_results > _MAX_REGISTRY_RESULTS:
        raise InvalidParameterError(
            f"max_results must be at most {_MAX_REGISTRY_RESULTS}, got {max_results}"
        )
    return max_results


def _attribute_order(
    table: sa.Table, order_by: Sequence[str] | None, vocabulary: Vocabulary, entity: str
) -> list[Any]:
    """ORDER BY clauses for MLflow `order_by` strings; registry entities order by attributes only."""
    orders = parse_order_by_list(order_by, vocabulary)
    if any(o.identifier.type != ATTRIBUTE for o in orders):
        raise InvalidParameterError(f"{entity} can only be ordered by attributes")
    return [
        table.c[o.identifier.key].asc() if o.ascending else table.c[o.identifier.key].desc()
        for o in orders
    ]


def _search_page(
    conn: sa.Connection,
    query: Any,
    node: Node | None,
    compiler: _Compiler,
    order: list[Any],
    limit: int,
    offset: int,
) -> list[sa.Row]:
    """The rows of `query` that match the filter `node`, in `order`: one page, plus one more row
    when a next page exists (what _next_token looks at)."""
    condition = compiler.compile(node)
    if condition is not None:
        query = query.where(condition)
    return conn.execute(query.order_by(*order).limit(limit + 1).offset(offset)).all()


def _tag_rows(tags: Sequence[RunTag] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags or ():
        key, value = validate_registry_tag(tag.key, tag.value)
        out[key] = value
    return out


class SqlRegistryMixin(RegistryStore):
    """Registry and logged-model methods for SqlStore (see the module docstring)."""

    # --- registered models ---------------------------------------------------------------
    def create_registered_model(
        self, name: str, tags: Sequence[RunTag] = (), description: str | None = None
    ) -> RegisteredModel:
        validate_model_name(name)
        description = validate_description(description)
        tag_values = _tag_rows(tags)
        now = _now_ms()
        try:
            with self._write() as conn:
                if self._model_row(conn, name, required=False) is not None:
                    raise RegisteredModelAlreadyExistsError(
                        f"Registered Model (name={name}) already exists."
                    )
                conn.execute(
                    rs.registered_models.insert().values(
                        name=name, creation_time=now, last_updated_time=now, description=description
                    )
                )
                if tag_values:
                    conn.execute(
                        rs.registered_model_tags.insert(),
                        [{"name": name, "key": k, "value": v} for k, v in tag_values.items()],
                    )
        except IntegrityError:
            raise RegisteredModelAlreadyExistsError(
                f"Registered Model (name={name}) already exists."
            ) from None
        return self.get_registered_model(name)

    def _model_row(self, conn: sa.Connection, name: str, required: bool = True, lock: bool = False):
        query = sa.select(rs.registered_models).where(rs.registered_models.c.name == name)
        if lock and conn.dialect.name != "sqlite":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None and required:
            # MLflow's wording, which clients and MLflow's tests match on
            raise RegisteredModelNotFoundError(f"Registered Model with name={name} not found")
        return row

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self._read() as conn:
            row = self._model_row(conn, name)
            return self._registered_models_from_rows(conn, [row])[0]

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        validate_model_name(new_name)
        try:
            with self._write() as conn:
                self._model_row(conn, name)
                if name != new_name and self._model_row(conn, new_name, required=False):
                    raise RegisteredModelAlreadyExistsError(
                        f"Registered Model (name={new_name}) already exists."
                    )
                # Children follow through ON UPDATE CASCADE foreign keys.
                conn.execute(
                    rs.registered_models.update()
                    .where(rs.registered_models.c.name == name)
                    .values(name=new_name, last_updated_time=_now_ms())
                )
        except IntegrityError:
            raise RegisteredModelAlreadyExistsError(
                f"Registered Model (name={new_name}) already exists."
            ) from None
        return self.get_registered_model(new_name)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        description = validate_description(description)
        with self._write() as conn:
            self._model_row(conn, name)
            conn.execute(
                rs.registered_models.update()
                .where(rs.registered_models.c.name == name)
                .values(description=description, last_updated_time=_now_ms())
            )
        return self.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        with self._write() as conn:
            self._model_row(conn, name)
            for table in (
                rs.model_version_tags,
                rs.registered_model_aliases,
                rs.model_versions,
                rs.registered_model_tags,
                rs.registered_models,
            ):
                conn.execute(table.delete().where(table.c.name == name))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        limit = _limit(max_results, 100)
        offset = _offset(page_token)
        table = rs.registered_models
        node = parse_filter(filter_string, REGISTERED_MODELS)
        clauses = _attribute_order(table, order_by, REGISTERED_MODELS, "Registered models")
        clauses.append(table.c.name.asc())
        with self._read() as conn:
            compiler = _Compiler(
                table,
                ["name"],
                REGISTERED_MODELS,
                {TAG: rs.registered_model_tags},
                conn.dialect.name,
            )
            query = sa.select(table)
            if not _queries_prompts(node):
                compiler.ignore_prompt_tag = True
                query = _exclude_prompts(query, table, rs.registered_model_tags)
            rows = _search_page(conn, query, node, compiler, clauses, limit, offset)
            models = self._registered_models_from_rows(conn, rows[:limit])
        return PagedList(models, _next_token(offset, limit, rows))

    def set_registered_model_tag(self, name: str, tag: RunTag) -> None:
        key, value = validate_registry_tag(tag.key, tag.value)
        t = rs.registered_model_tags
        with self._write() as conn:
            self._model_row(conn, name)
            conn.execute(t.delete().where(t.c.name == name, t.c.key == key))
            conn.execute(t.insert().values(name=name, key=key, value=value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        t = rs.registered_model_tags
        with self._write() as conn:
            self._model_row(conn, name)
            conn.execute(t.delete().where(t.c.name == name, t.c.key == key))

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        wanted = None
        if stages:
            wanted = []
            for stage in stages:
                canonical = ModelVersionStage.canonical(stage)
                if canonical is None:
                    raise InvalidParameterError(
                        f"Unknown stage {stage!r}; use one of {list(ModelVersionStage.ALL)}"
                    )
                wanted.append(canonical)
        with self._read() as conn:
            self._model_row(conn, name)
            latest = self._latest_versions(conn, [name])[name]
        if wanted is None:
            return latest
        return [mv for mv in latest if mv.current_stage in wanted]

    # --- model versions ------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[RunTag] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        user_id: str | None = None,
    ) -> ModelVersion:
        validate_model_name(name)
        if not isinstance(source, str) or not source:
            raise InvalidParameterError("A model version needs a source (the model's URI)")
        description = validate_description(description)
        tag_values = _tag_rows(tags)
        for attempt in range(_CREATE_VERSION_ATTEMPTS):
            try:
                with self._write() as conn:
                    version = self._insert_version(
                        conn, name, source, run_id, run_link, description, model_id, user_id
                    )
                    if tag_values:
                        conn.execute(
                            rs.model_version_tags.insert(),
                            [
                                {"name": name, "version": version, "key": k, "value": v}
                                for k, v in tag_values.items()
                            ],
                        )
                return self.get_model_version(name, version)
            except (IntegrityError, StoreUnavailableError):
                # Another process took this number (or the database asked us to retry).
                if attempt == _CREATE_VERSION_ATTEMPTS - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def _insert_version(
        self,
        conn: sa.Connection,
        name: str,
        source: str,
        run_id: str | None,
        run_link: str | None,
        description: str | None,
        model_id: str | None,
        user_id: str | None,
    ) -> int:
        self._model_row(conn, name, lock=True)  # serializes creators of this model's versions
        mv = rs.model_versions
        current = conn.execute(
            sa.select(sa.func.max(mv.c.version)).where(mv.c.name == name)
        ).scalar()
        version = int(current or 0) + 1
        now = _now_ms()
        if model_id and not run_id:
            # MLflow 3 registers logged models by models:/m-<id>; the run is the model's source.
            run_id = conn.execute(
                sa.select(rs.logged_models.c.source_run_id).where(
                    rs.logged_models.c.model_id == model_id
                )
            ).scalar()
        conn.execute(
            mv.insert().values(
                name=name,
                version=version,
                creation_time=now,
                last_updated_time=now,
                description=description,
                user_id=user_id,
                current_stage=ModelVersionStage.NONE,
                source=source,
                run_id=run_id or None,
                run_link=run_link or None,
                status=ModelVersionStatus.READY,
                storage_location=self._storage_location(conn, source),
                model_id=model_id or None,
            )
        )
        conn.execute(
            rs.registered_models.update()
            .where(rs.registered_models.c.name == name)
            .values(last_updated_time=now)
        )
        return version

    def _storage_location(self, conn: sa.Connection, source: str) -> str | None:
        """The concrete artifact location behind a runs:/ or models:/m-<id> source."""
        if source.startswith("runs:/"):
            from flightlog.models.uri import parse_runs_uri

            run_id, path = parse_runs_uri(source)
            root = conn.execute(
                sa.select(db.runs.c.artifact_uri).where(db.runs.c.run_uuid == run_id)
            ).scalar()
            if root is None:
                return None
            return f"{root.rstrip('/')}/{path}" if path else root
        if source.startswith("models:/m-"):
            model_id = source[len("models:/") :].strip("/")
            return conn.execute(
                sa.select(rs.logged_models.c.artifact_location).where(
                    rs.logged_models.c.model_id == model_id
                )
            ).scalar()
        return None

    def _version_row(self, conn: sa.Connection, name: str, version: Any) -> sa.Row:
        number = validate_version(version)
        mv = rs.model_versions
        row = conn.execute(
            sa.select(mv).where(
                mv.c.name == name, mv.c.version == number, mv.c.current_stage != rs.DELETED_STAGE
            )
        ).first()
        if row is None:
            self._model_row(conn, name)
            raise ModelVersionNotFoundError(
                f"Model Version (name={name}, version={number}) not found"
            )
        return row

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        with self._read() as conn:
            row = self._version_row(conn, name, version)
            return self._versions_from_rows(conn, [row])[0]

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        description = validate_description(description)
        self._update_version(name, version, description=description)
        return self.get_model_version(name, version)

    def _update_version(self, name: str, version: Any, **values: Any) -> None:
        mv = rs.model_versions
        now = _now_ms()
        with self._write() as conn:
            row = self._version_row(conn, name, version)
            conn.execute(
                mv.update()
                .where(mv.c.name == name, mv.c.version == row.version)
                .values(last_updated_time=now, **values)
            )

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        canonical = ModelVersionStage.canonical(stage)
        if canonical is None:
            raise InvalidParameterError(
                f"Unknown stage {stage!r}; use one of {list(ModelVersionStage.ALL)}"
            )
        if archive_existing_versions and canonical not in (
            ModelVersionStage.STAGING,
            ModelVersionStage.PRODUCTION,
        ):
            raise InvalidParameterError(
                "archive_existing_versions only applies to the Staging and Production stages"
            )
        mv = rs.model_versions
        now = _now_ms()
        with self._write() as conn:
            row = self._version_row(conn, name, version)
            if archive_existing_versions:
                conn.execute(
                    mv.update()
                    .where(
                        mv.c.name == name,
                        mv.c.version != row.version,
                        mv.c.current_stage == canonical,
                    )
                    .values(current_stage=ModelVersionStage.ARCHIVED, last_updated_time=now)
                )
            conn.execute(
                mv.update()
                .where(mv.c.name == name, mv.c.version == row.version)
                .values(current_stage=canonical, last_updated_time=now)
            )
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: str | int) -> None:
        """The row stays (marked deleted) so its number is never handed out again."""
        mv, tags, aliases = rs.model_versions, rs.model_version_tags, rs.registered_model_aliases
        now = _now_ms()
        with self._write() as conn:
            row = self._version_row(conn, name, version)
            conn.execute(tags.delete().where(tags.c.name == name, tags.c.version == row.version))
            conn.execute(
                aliases.delete().where(aliases.c.name == name, aliases.c.version == row.version)
            )
            conn.execute(
                mv.update()
                .where(mv.c.name == name, mv.c.version == row.version)
                .values(current_stage=rs.DELETED_STAGE, last_updated_time=now, description=None)
            )
            conn.execute(
                rs.registered_models.update()
                .where(rs.registered_models.c.name == name)
                .values(last_updated_time=now)
            )

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        limit = _limit(max_results, 10_000)
        offset = _offset(page_token)
        mv = rs.model_versions
        node = parse_filter(filter_string, MODEL_VERSIONS)
        clauses = _attribute_order(mv, order_by, MODEL_VERSIONS, "Model versions")
        if not order_by:  # MLflow's default: the most recently updated first
            clauses.append(mv.c.last_updated_time.desc())
        clauses += [mv.c.name.asc(), mv.c.version.desc()]
        with self._read() as conn:
            compiler = _Compiler(
                mv,
                ["name", "version"],
                MODEL_VERSIONS,
                {TAG: rs.model_version_tags},
                conn.dialect.name,
            )
            query = sa.select(mv).where(mv.c.current_stage != rs.DELETED_STAGE)
            if not _queries_prompts(node):
                compiler.ignore_prompt_tag = True
                query = _exclude_prompts(query, mv, rs.model_version_tags)
            rows = _search_page(conn, query, node, compiler, clauses, limit, offset)
            versions = self._versions_from_rows(conn, rows[:limit])
        return PagedList(versions, _next_token(offset, limit, rows))

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        with self._read() as conn:
            row = self._version_row(conn, name, version)
            return row.storage_location or row.source

    def set_model_version_tag(self, name: str, version: str | int, tag: RunTag) -> None:
        key, value = validate_registry_tag(tag.key, tag.value)
        t = rs.model_version_tags
        with self._write() as conn:
            row = self._version_row(conn, name, version)
            where = (t.c.name == name, t.c.version == row.version, t.c.key == key)
            conn.execute(t.delete().where(*where))
            conn.execute(t.insert().values(name=name, version=row.version, key=key, value=value))

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        t = rs.model_version_tags
        with self._write() as conn:
            row = self._version_row(conn, name, version)
            conn.execute(
                t.delete().where(t.c.name == name, t.c.version == row.version, t.c.key == key)
            )

    # --- aliases -------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        validate_alias(alias)
        a = rs.registered_model_aliases
        with self._write() as conn:
            row = self._version_row(conn, name, version)
            conn.execute(a.delete().where(a.c.name == name, a.c.alias == alias))
            conn.execute(a.insert().values(name=name, alias=alias, version=row.version))
            conn.execute(
                rs.registered_models.update()
                .where(rs.registered_models.c.name == name)
                .values(last_updated_time=_now_ms())
            )

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        a = rs.registered_model_aliases
        with self._write() as conn:
            self._model_row(conn, name)
            conn.execute(a.delete().where(a.c.name == name, a.c.alias == alias))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        a = rs.registered_model_aliases
        with self._read() as conn:
            self._model_row(conn, name)
            version = conn.execute(
                sa.select(a.c.version).where(a.c.name == name, a.c.alias == alias)
            ).scalar()
            if version is None:
                raise ResourceNotFoundError(f"Registered model alias {alias} not found.")
            row = self._version_row(conn, name, version)
            return self._versions_from_rows(conn, [row])[0]

    # --- entity assembly -----------------------------------------------------------------
    def _versions_from_rows(
        self, conn: sa.Connection, rows: Sequence[sa.Row]
    ) -> list[ModelVersion]:
        if not rows:
            return []
        keys = list({(r.name, r.version) for r in rows})
        tags: dict[tuple[str, int], dict[str, str]] = {k: {} for k in keys}
        aliases: dict[tuple[str, int], list[str]] = {k: [] for k in keys}
        names = list({r.name for r in rows})
        t, a = rs.model_version_tags, rs.registered_model_aliases
        for name, version, key, value in conn.execute(
            sa.select(t.c.name, t.c.version, t.c.key, t.c.value).where(
                sa.tuple_(t.c.name, t.c.version).in_(keys)
            )
        ):
            tags[(name, version)][key] = value or ""
        for name, version, alias in conn.execute(
            sa.select(a.c.name, a.c.version, a.c.alias)
            .where(a.c.name.in_(names))
            .order_by(a.c.alias)
        ):
            if (name, version) in aliases:
                aliases[(name, version)].append(alias)
        return [
            ModelVersion(
                name=r.name,
                version=str(r.version),
                creation_timestamp=r.creation_time,
                last_updated_timestamp=r.last_updated_time,
                description=r.description,
                user_id=r.user_id,
                current_stage=r.current_stage,
                source=r.source,
                run_id=r.run_id,
                status=r.status,
                status_message=r.status_message,
                tags=tags[(r.name, r.version)],
                run_link=r.run_link,
                aliases=aliases[(r.name, r.version)],
                model_id=r.model_id,
            )
            for r in rows
        ]

    def _latest_versions(
        self, conn: sa.Connection, names: list[str]
    ) -> dict[str, list[ModelVersion]]:
        """The newest version per stage of each model (MLflow's `latest_versions`)."""
        mv = rs.model_versions
        out: dict[str, list[ModelVersion]] = {n: [] for n in names}
        if not names:
            return out
        newest = (
            sa.select(mv.c.name, sa.func.max(mv.c.version).label("version"))
            .where(mv.c.name.in_(names), mv.c.current_stage != rs.DELETED_STAGE)
            .group_by(mv.c.name, mv.c.current_stage)
        )
        pairs = [(n, v) for n, v in conn.execute(newest)]
        if not pairs:
            return out
        rows = conn.execute(
            sa.select(mv)
            .where(sa.tuple_(mv.c.name, mv.c.version).in_(pairs))
            .order_by(mv.c.version)
        ).all()
        for version in self._versions_from_rows(conn, rows):
            out[version.name].append(version)
        return out

    def _registered_models_from_rows(
        self, conn: sa.Connection, rows: Sequence[sa.Row]
    ) -> list[RegisteredModel]:
        names = [r.name for r in rows]
        tags: dict[str, dict[str, str]] = {n: {} for n in names}
        aliases: dict[str, dict[str, str]] = {n: {} for n in names}
        if names:
            t, a = rs.registered_model_tags, rs.registered_model_aliases
            for name, key, value in conn.execute(
                sa.select(t.c.name, t.c.key, t.c.value).where(t.c.name.in_(names))
            ):
                tags[name][key] = value or ""
            for name, alias, version in conn.execute(
                sa.select(a.c.name, a.c.alias, a.c.version)
                .where(a.c.name.in_(names))
                .order_by(a.c.alias)
            ):
                aliases[name][alias] = str(version)
        latest = self._latest_versions(conn, names)
        return [
            RegisteredModel(
                name=r.name,
                creation_timestamp=r.creation_time,
                last_updated_timestamp=r.last_updated_time,
                description=r.description,
                latest_versions=latest[r.name],
                tags=tags[r.name],
                aliases=aliases[r.name],
            )
            for r in rows
        ]

    # --- MLflow 3 logged models ----------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[RunTag] = (),
        params: Sequence[RunTag] = (),
        model_type: str | None = None,
        artifact_location: str | None = None,
    ) -> LoggedModel:
        """`artifact_location` defaults to MLflow's `<experiment root>/models/<id>/artifacts`;
        flightlog's own log_model passes the folder it already wrote under the run."""
        model_id = f"m-{uuid.uuid4().hex}"
        if not name:  # MLflow names unnamed models at random, so name filters tell them apart
            from flightlog.store.run_names import generate_run_name

            name = generate_run_name()
        tag_values = {t.key: str(t.value) for t in tags or ()}
        param_values = {p.key: str(p.value) for p in params or ()}
        now = _now_ms()
        with self._write() as conn:
            experiment = conn.execute(
                sa.select(db.experiments).where(
                    db.experiments.c.experiment_id == _experiment_int(experiment_id)
                )
            ).first()
            if experiment is None:
                raise ExperimentNotFoundError(f"Experiment {experiment_id!r} does not exist")
            root = (experiment.artifact_location or self._artifact_location(experiment_id)).rstrip(
                "/"
            )
            conn.execute(
                rs.logged_models.insert().values(
                    model_id=model_id,
                    experiment_id=experiment.experiment_id,
                    name=name,
                    artifact_location=artifact_location or f"{root}/models/{model_id}/artifacts",
                    creation_timestamp_ms=now,
                    last_updated_timestamp_ms=now,
                    status=LoggedModelStatus.PENDING,
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    model_type=model_type,
                    source_run_id=source_run_id or None,
                )
            )
            for table, values in (
                (rs.logged_model_tags, tag_values),
                (rs.logged_model_params, param_values),
            ):
                if values:
                    conn.execute(
                        table.insert(),
                        [{"model_id": model_id, "key": k, "value": v} for k, v in values.items()],
                    )
        return self.get_logged_model(model_id)

    def _logged_row(self, conn: sa.Connection, model_id: str) -> sa.Row:
        lm = rs.logged_models
        row = conn.execute(
            sa.select(lm).where(
                lm.c.model_id == model_id, lm.c.lifecycle_stage == LifecycleStage.ACTIVE
            )
        ).first()
        if row is None:
            raise LoggedModelNotFoundError(f"Logged model with ID '{model_id}' not found.")
        return row

    def get_logged_model(self, model_id: str) -> LoggedModel:
        with self._read() as conn:
            return self._logged_models_from_rows(conn, [self._logged_row(conn, model_id)])[0]

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        status = LoggedModelStatus.from_wire(status)
        lm = rs.logged_models
        with self._write() as conn:
            self._logged_row(conn, model_id)
            conn.execute(
                lm.update()
                .where(lm.c.model_id == model_id)
                .values(status=status, last_updated_timestamp_ms=_now_ms())
            )
        return self.get_logged_model(model_id)

    def delete_logged_model(self, model_id: str) -> None:
        lm = rs.logged_models
        with self._write() as conn:
            self._logged_row(conn, model_id)
            conn.execute(
                lm.update()
                .where(lm.c.model_id == model_id)
                .values(lifecycle_stage=LifecycleStage.DELETED, last_updated_timestamp_ms=_now_ms())
            )

    def set_logged_model_tags(self, model_id: str, tags: Sequence[RunTag]) -> None:
        self._put_logged_values(rs.logged_model_tags, model_id, {t.key: str(t.value) for t in tags})

    def log_logged_model_params(self, model_id: str, params: Sequence[RunTag]) -> None:
        self._put_logged_values(
            rs.logged_model_params, model_id, {p.key: str(p.value) for p in params}
        )

    def _put_logged_values(self, table: sa.Table, model_id: str, values: dict[str, str]) -> None:
        for key in values:
            validate_registry_tag(key, "")
        with self._write() as conn:
            self._logged_row(conn, model_id)
            if values:
                conn.execute(
                    table.delete().where(
                        table.c.model_id == model_id, table.c.key.in_(list(values))
                    )
                )
                conn.execute(
                    table.insert(),
                    [{"model_id": model_id, "key": k, "value": v} for k, v in values.items()],
                )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        t = rs.logged_model_tags
        with self._write() as conn:
            self._logged_row(conn, model_id)
            deleted = conn.execute(t.delete().where(t.c.model_id == model_id, t.c.key == key))
            if deleted.rowcount == 0:  # as MLflow's store: a missing tag is an error
                raise ResourceNotFoundError(
                    f"No tag with key {key!r} found for model with ID {model_id!r}."
                )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int | None = 100,
        order_by: Sequence[dict] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        limit = _limit(max_results, 100)
        offset = _offset(page_token)
        lm = rs.logged_models
        node = parse_filter(filter_string, LOGGED_MODELS)
        ids = [_experiment_int(e) for e in experiment_ids]
        clauses = []
        for order in order_by or ():
            field = order.get("field_name") if isinstance(order, dict) else str(order)
            column = LOGGED_MODELS.attributes.get(str(field).lower().removeprefix("attributes."))
            if column is None:
                raise InvalidParameterError(f"Cannot order logged models by {field!r}")
            ascending = order.get("ascending", True) if isinstance(order, dict) else True
            clauses.append(lm.c[column].asc() if ascending else lm.c[column].desc())
        clauses += [lm.c.creation_timestamp_ms.desc(), lm.c.model_id.asc()]
        with self._read() as conn:
            compiler = _Compiler(
                lm,
                ["model_id"],
                LOGGED_MODELS,
                {TAG: rs.logged_model_tags, PARAM: rs.logged_model_params},
                conn.dialect.name,
            )
            query = sa.select(lm).where(
                lm.c.experiment_id.in_(ids), lm.c.lifecycle_stage == LifecycleStage.ACTIVE
            )
            rows = _search_page(conn, query, node, compiler, clauses, limit, offset)
            models = self._logged_models_from_rows(conn, rows[:limit])
        return PagedList(models, _next_token(offset, limit, rows))

    def log_model_inputs(self, run_id: str, model_ids: Sequence[str]) -> None:
        """Record that run `run_id` used these logged models (MLflow 3's log_inputs with models):
        rows of the inputs table from the run to each model, as MLflow's store keeps them."""
        inputs = db.inputs
        with self._write() as conn:
            self._check_run_active(conn, run_id)  # type: ignore[attr-defined]
            for model_id in dict.fromkeys(model_ids):
                self._logged_row(conn, model_id)
                link = (
                    inputs.c.source_type == "RUN_INPUT",
                    inputs.c.source_id == run_id,
                    inputs.c.destination_type == "MODEL_INPUT",
                    inputs.c.destination_id == model_id,
                )
                if conn.execute(sa.select(inputs.c.input_uuid).where(*link)).first() is None:
                    conn.execute(
                        inputs.insert().values(
                            input_uuid=uuid.uuid4().hex,
                            source_type="RUN_INPUT",
                            source_id=run_id,
                            destination_type="MODEL_INPUT",
                            destination_id=model_id,
                        )
                    )

    def run_model_links(
        self, run_ids: Sequence[str]
    ) -> dict[str, tuple[list[str], list[tuple[str, int]]]]:
        """For each run: (model ids it used as inputs, (model id, step) it produced as outputs),
        read in two queries for a whole page of runs."""
        links: dict[str, tuple[list[str], list[tuple[str, int]]]] = {}
        if not run_ids:
            return links
        ids = list(dict.fromkeys(run_ids))
        inputs, out = db.inputs, rs.run_model_outputs
        with self._read() as conn:
            for run_id, model_id in conn.execute(
                sa.select(inputs.c.source_id, inputs.c.destination_id)
                .where(
                    inputs.c.source_type == "RUN_INPUT",
                    inputs.c.destination_type == "MODEL_INPUT",
                    inputs.c.source_id.in_(ids),
                )
                .order_by(inputs.c.source_id, inputs.c.destination_id)
            ):
                links.setdefault(run_id, ([], []))[0].append(model_id)
            for run_id, model_id, step in conn.execute(
                sa.select(out.c.run_uuid, out.c.model_id, out.c.step)
                .where(out.c.run_uuid.in_(ids))
                .order_by(out.c.run_uuid, out.c.step, out.c.model_id)
            ):
                links.setdefault(run_id, ([], []))[1].append((model_id, int(step)))
        return links

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        out = rs.run_model_outputs
        with self._write() as conn:
            if (
                conn.execute(
                    sa.select(db.runs.c.run_uuid).where(db.runs.c.run_uuid == run_id)
                ).first()
                is None
            ):
                from flightlog.exceptions import RunNotFoundError

                raise RunNotFoundError(f"Run {run_id!r} does not exist")
            for model_id, step in models:
                self._logged_row(conn, model_id)
                conn.execute(
                    out.delete().where(out.c.run_uuid == run_id, out.c.model_id == model_id)
                )
                conn.execute(
                    out.insert().values(run_uuid=run_id, model_id=model_id, step=int(step or 0))
                )

    def log_logged_model_metrics(
        self,
        model_id: str,
        metrics: Sequence[Any],
        run_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
    ) -> None:
        """Store points (Metric or LoggedModelMetric) as the model's; an identical point (same
        key, timestamp, step and run) already stored is the same point and is skipped."""
        mm = rs.logged_model_metrics
        with self._write() as conn:
            model = self._logged_row(conn, model_id)
            run = run_id or ""
            existing = {
                (k, ts, step)
                for k, ts, step in conn.execute(
                    sa.select(mm.c.metric_name, mm.c.metric_timestamp_ms, mm.c.metric_step).where(
                        mm.c.model_id == model_id,
                        mm.c.run_id == run,
                        mm.c.metric_name.in_(sorted({m.key for m in metrics})),
                    )
                )
            }
            rows = []
            for m in metrics:
                point = (m.key, int(m.timestamp), int(m.step or 0))
                if point in existing:
                    continue
                existing.add(point)
                value = float(m.value)
                if math.isinf(value):
                    value = math.copysign(sys.float_info.max, value)  # as MLflow clips them
                rows.append(
                    {
                        "model_id": model_id,
                        "metric_name": point[0],
                        "metric_timestamp_ms": point[1],
                        "metric_step": point[2],
                        "metric_value": None if math.isnan(value) else value,
                        "experiment_id": model.experiment_id,
                        "run_id": run,
                        "dataset_name": getattr(m, "dataset_name", None) or dataset_name,
                        "dataset_digest": getattr(m, "dataset_digest", None) or dataset_digest,
                    }
                )
            if rows:
                conn.execute(mm.insert(), rows)
                conn.execute(
                    rs.logged_models.update()
                    .where(rs.logged_models.c.model_id == model_id)
                    .values(last_updated_timestamp_ms=_now_ms())
                )

    def _logged_models_from_rows(
        self, conn: sa.Connection, rows: Sequence[sa.Row]
    ) -> list[LoggedModel]:
        ids = [r.model_id for r in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[str, list[LoggedModelMetric]] = {i: [] for i in ids}
        if ids:
            for table, target in ((rs.logged_model_tags, tags), (rs.logged_model_params, params)):
                for model_id, key, value in conn.execute(
                    sa.select(table.c.model_id, table.c.key, table.c.value).where(
                        table.c.model_id.in_(ids)
                    )
                ):
                    target[model_id][key] = value or ""
            mm = rs.logged_model_metrics
            for r in conn.execute(
                sa.select(mm)
                .where(mm.c.model_id.in_(ids))
                .order_by(mm.c.metric_name, mm.c.metric_step, mm.c.metric_timestamp_ms)
            ):
                metrics[r.model_id].append(
                    LoggedModelMetric(
                        r.metric_name,
                        math.nan if r.metric_value is None else r.metric_value,
                        r.metric_timestamp_ms,
                        r.metric_step,
                        r.model_id,
                        r.run_id or None,
                        r.dataset_name,
                        r.dataset_digest,
                    )
                )
        return [
            LoggedModel(
                model_id=r.model_id,
                experiment_id=str(r.experiment_id),
                name=r.name,
                artifact_location=r.artifact_location,
                creation_timestamp=r.creation_timestamp_ms,
                last_updated_timestamp=r.last_updated_timestamp_ms,
                status=r.status,
                model_type=r.model_type,
                source_run_id=r.source_run_id,
                status_message=r.status_message,
                tags=tags[r.model_id],
                params=params[r.model_id],
                metrics=metrics[r.model_id],
            )
            for r in rows
        ]


def _experiment_int(experiment_id: Any) -> int:
    try:
        return int(str(experiment_id))
    except ValueError:
        raise ExperimentNotFoundError(f"Experiment {experiment_id!r} does not exist") from None
