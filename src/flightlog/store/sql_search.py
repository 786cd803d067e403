"""Compiles the search AST of `flightlog.store.search` into SQLAlchemy Core expressions over the
tracking tables, so filtering, ordering and paging all run inside the database.

Shapes chosen for the indexes in `dbschema`:
- a metric/param/tag filter becomes `runs.run_uuid IN (SELECT run_uuid FROM <table> WHERE key = ?
  AND value <op> ?)`: the subquery walks latest_metrics (key, value) or the (run_uuid, key)
  primary keys, and any AND/OR nesting composes without duplicate rows;
- an order_by on a metric/param/tag is a LEFT OUTER JOIN on (run_uuid, key), which is unique, so
  each run still appears once; runs missing the key sort last in either direction.

Comparisons need the key to exist: `params.x != 'a'` does not match runs without param x (as in
MLflow); use `params.x IS NULL` for those. A NaN metric satisfies only `!=` and `NOT IN`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from flightlog.store import dbschema as db
from flightlog.store.search import (
    ATTRIBUTE,
    DATASET,
    METRIC,
    PARAM,
    TAG,
    BoolOp,
    Comparison,
    Node,
    OrderBy,
)

_RUN_COLUMNS = {
    "run_id": db.runs.c.run_uuid,
    "run_name": db.runs.c.name,
    "status": db.runs.c.status,
    "start_time": db.runs.c.start_time,
    "end_time": db.runs.c.end_time,
    "user_id": db.runs.c.user_id,
    "artifact_uri": db.runs.c.artifact_uri,
    "lifecycle_stage": db.runs.c.lifecycle_stage,
    "experiment_id": db.runs.c.experiment_id,
}

_EXPERIMENT_COLUMNS = {
    "name": db.experiments.c.name,
    "creation_time": db.experiments.c.creation_time,
    "last_update_time": db.experiments.c.last_update_time,
    "experiment_id": db.experiments.c.experiment_id,
}

_NUMERIC_RUN_COLUMNS = frozenset({"start_time", "end_time", "experiment_id"})

# What the dataset identifiers of a run filter compare (the context is an input tag).
DATASET_CONTEXT_TAG = "mlflow.data.context"

_FLOAT_MAX = sys.float_info.max


def clip_float(value: float) -> float:
    """How a metric value is stored: +/-inf become +/-float max (NaN is handled by is_nan)."""
    if math.isinf(value):
        return _FLOAT_MAX if value > 0 else -_FLOAT_MAX
    return value


# --- generic comparisons -------------------------------------------------------------------------


def like_to_glob(pattern: str) -> str:
    """Turn a LIKE pattern (% _, backslash escapes) into an equivalent SQLite GLOB pattern, which
    is case-sensitive where SQLite's LIKE is not."""
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(_glob_literal(char))
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(_glob_literal(char))
    return "".join(out)


def _glob_literal(char: str) -> str:
    return f"[{char}]" if char in "*?[]" else char


def _string_condition(
    column: sa.ColumnElement, op: str, value: object, dialect: str
) -> sa.ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op in ("LIKE", "NOT LIKE"):
        if dialect == "sqlite":
            condition = column.op("GLOB", is_comparison=True)(like_to_glob(str(value)))
        else:
            condition = column.like(value)
        return sa.not_(condition) if op == "NOT LIKE" else condition
    if op in ("ILIKE", "NOT ILIKE"):
        # SQLite's LIKE has no escape character unless told; PostgreSQL and MySQL use backslash.
        escape = "\\" if dialect == "sqlite" else None
        condition = column.ilike(value, escape=escape)
        return sa.not_(condition) if op == "NOT ILIKE" else condition
    if op == "IN":
        return column.in_(list(value))  # type: ignore[call-overload]
    if op == "NOT IN":
        return column.not_in(list(value))  # type: ignore[call-overload]
    if op in ("<", "<=", ">", ">="):
        return _ordering(column, op, value)
    raise AssertionError(f"unhandled operator {op}")  # the parser only lets known ones through


def _ordering(column: sa.ColumnElement, op: str, value: object) -> sa.ColumnElement[bool]:
    return {
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[op]


def _numeric_condition(column: sa.ColumnElement, op: str, value: object) -> sa.ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "IN":
        return column.in_(list(value))  # type: ignore[call-overload]
    if op == "NOT IN":
        return column.not_in(list(value))  # type: ignore[call-overload]
    return _ordering(column, op, value)


def _clipped(value: object) -> object:
    if isinstance(value, tuple):
        return tuple(clip_float(float(v)) for v in value)
    return clip_float(float(value))  # type: ignore[arg-type]


# --- runs ----------------------------------------------------------------------------------------


def run_filter(node: Node | None, dialect: str) -> sa.ColumnElement[bool] | None:
    """A WHERE condition over `runs` for a parsed run filter (None: no filter)."""
    if node is None:
        return None
    if isinstance(node, BoolOp):
        return _run_bool_op(node, dialect)
    return _run_comparison(node, dialect)


# --- grouped lookups -----------------------------------------------------------------------------
# One `IN (subquery)` per clause costs the PostgreSQL planner far more than linear time: 150
# AND-ed param clauses took half a minute to plan. The comparisons of one AND/OR on the same
# entity table (params, tags, latest metrics) that need the key to exist are therefore compiled
# into ONE lookup over that table:
#   AND: run_uuid IN (SELECT run_uuid FROM params WHERE (key = k1 AND <c1>) OR (key = k2 AND
#        <c2>) ... GROUP BY run_uuid HAVING count(*) = <number of distinct keys>)
#   OR:  run_uuid IN (SELECT run_uuid FROM params WHERE (key = k1 AND <c1>) OR ...)
# (run_uuid, key) is each table's primary key, so a run matches all the AND-ed keys exactly when
# it has one qualifying row per key; the AND-ed conditions on one key share that row. Negated
# comparisons (!=, NOT IN, NOT LIKE) keep their own clause: what they mean for a missing key is
# theirs to decide.
_GROUPABLE_OPS = frozenset({"=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN"})
_ENTITY_TABLES = {METRIC: db.latest_metrics, PARAM: db.params, TAG: db.tags}


def _groupable(node: Node) -> bool:
    return (
        isinstance(node, Comparison)
        and node.identifier.type in _ENTITY_TABLES
        and node.op in _GROUPABLE_OPS
    )


def _entity_value_condition(
    comparison: Comparison, table: sa.Table, dialect: str
) -> sa.ColumnElement[bool]:
    if comparison.identifier.type == METRIC:
        return _metric_value_condition(comparison.op, _clipped(comparison.value))
    return _string_condition(table.c.value, comparison.op, comparison.value, dialect)


def _grouped_lookup(
    owner: sa.ColumnElement,
    table: sa.Table,
    owner_column: sa.ColumnElement,
    conditions: list[tuple[str, sa.ColumnElement[bool]]],
    op: str,
) -> sa.ColumnElement[bool]:
    """`owner IN (one lookup over table)` for (key, value condition) pairs joined by `op`."""
    if op == "AND":
        by_key: dict[str, list[sa.ColumnElement[bool]]] = {}
        for key, condition in conditions:
            by_key.setdefault(key, []).append(condition)
        rows = [sa.and_(table.c.key == key, *conds) for key, conds in by_key.items()]
        lookup = sa.select(owner_column).where(sa.or_(*rows))
        if len(by_key) > 1:
            lookup = lookup.group_by(owner_column).having(sa.func.count() == len(by_key))
    else:
        rows = [sa.and_(table.c.key == key, condition) for key, condition in conditions]
        lookup = sa.select(owner_column).where(sa.or_(*rows))
    return owner.in_(lookup)


def _run_bool_op(node: BoolOp, dialect: str) -> sa.ColumnElement[bool]:
    grouped: dict[str, list[Comparison]] = {}
    parts: list[sa.ColumnElement[bool]] = []
    for operand in node.operands:
        if _groupable(operand):
            grouped.setdefault(operand.identifier.type, []).append(operand)  # type: ignore[union-attr]
        else:
            parts.append(run_filter(operand, dialect))  # type: ignore[arg-type]
    for kind, members in grouped.items():
        if len(members) == 1:
            parts.append(_run_comparison(members[0], dialect))
            continue
        table = _ENTITY_TABLES[kind]
        conditions = [
            (c.identifier.key, _entity_value_condition(c, table, dialect)) for c in members
        ]
        parts.append(
            _grouped_lookup(db.runs.c.run_uuid, table, table.c.run_uuid, conditions, node.op)
        )
    return sa.and_(*parts) if node.op == "AND" else sa.or_(*parts)


def _run_comparison(comparison: Comparison, dialect: str) -> sa.ColumnElement[bool]:
    identifier, op, value = comparison.identifier, comparison.op, comparison.value
    run_uuid = db.runs.c.run_uuid
    if identifier.type == ATTRIBUTE:
        column = _RUN_COLUMNS[identifier.key]
        if op == "IS NULL":
            return column.is_(None)
        if op == "IS NOT NULL":
            return column.is_not(None)
        if identifier.key in ("start_time", "end_time"):
            return _numeric_condition(column, op, value)
        return _string_condition(column, op, value, dialect)
    if identifier.type == DATASET:
        return _dataset_condition(identifier.key, op, value, dialect)
    table = {METRIC: db.latest_metrics, PARAM: db.params, TAG: db.tags}[identifier.type]
    has_key = table.c.key == identifier.key
    if op in ("IS NULL", "IS NOT NULL"):
        having = sa.select(table.c.run_uuid).where(has_key)
        return run_uuid.not_in(having) if op == "IS NULL" else run_uuid.in_(having)
    if identifier.type == METRIC:
        condition = _metric_value_condition(op, _clipped(value))
    else:
        condition = _string_condition(table.c.value, op, value, dialect)
    return run_uuid.in_(sa.select(table.c.run_uuid).where(has_key, condition))


def _metric_value_condition(op: str, value: object) -> sa.ColumnElement[bool]:
    lm = db.latest_metrics
    compared = _numeric_condition(lm.c.value, op, value)
    # NaN is stored as 0 with is_nan set: it must not pass as 0. Like IEEE NaN, it is unequal to
    # everything and neither smaller nor larger than anything.
    if op in ("!=", "NOT IN"):
        return sa.or_(lm.c.is_nan == sa.true(), compared)
    return sa.and_(lm.c.is_nan == sa.false(), compared)


def _dataset_condition(field: str, op: str, value: object, dialect: str) -> sa.ColumnElement[bool]:
    inputs, datasets, input_tags = db.inputs, db.datasets, db.input_tags
    linked = sa.select(inputs.c.destination_id).where(inputs.c.destination_type == "RUN")
    if field == "context":
        column = input_tags.c.value
        linked = linked.join(
            input_tags,
            sa.and_(
                input_tags.c.input_uuid == inputs.c.input_uuid,
                input_tags.c.name == DATASET_CONTEXT_TAG,
            ),
        )
    else:
        column = datasets.c[field]
        linked = linked.join(datasets, datasets.c.dataset_uuid == inputs.c.source_id)
    run_uuid = db.runs.c.run_uuid
    if op == "IS NULL":
        return run_uuid.not_in(linked)
    if op == "IS NOT NULL":
        return run_uuid.in_(linked)
    return run_uuid.in_(linked.where(_string_condition(column, op, value, dialect)))


@dataclass(frozen=True)
class SortKey:
    """One term of an ORDER BY: the expression and its direction."""

    expr: sa.ColumnElement
    ascending: bool

    def clause(self) -> sa.ColumnElement:
        return self.expr.asc() if self.ascending else self.expr.desc()


def run_sort_keys(
    query: sa.Select, orders: Sequence[OrderBy], dialect: str
) -> tuple[sa.Select, list[SortKey]]:
    """Add the joins that `orders` needs to `query`; return it with the sort keys, ending with
    MLflow's tiebreak (start_time DESC, run_uuid ASC), so every run has a unique position."""
    runs = db.runs
    from_clause: sa.FromClause = runs
    keys: list[SortKey] = []
    for i, order in enumerate(orders):
        identifier = order.identifier
        if identifier.type == ATTRIBUTE:
            column = _RUN_COLUMNS[identifier.key]
            if identifier.key not in _NUMERIC_RUN_COLUMNS:
                column = _binary(column, dialect)
            keys += _nulls_last_keys(column, order.ascending)
            continue
        table = {METRIC: db.latest_metrics, PARAM: db.params, TAG: db.tags}[identifier.type]
        alias = table.alias(f"order_{i}")
        from_clause = from_clause.outerjoin(
            alias, sa.and_(alias.c.run_uuid == runs.c.run_uuid, alias.c.key == identifier.key)
        )
        if identifier.type == METRIC:
            # missing runs last, then NaN (greater than every number, as in MLflow), then values
            rank = sa.case((alias.c.value.is_(None), 2), (alias.c.is_nan == sa.true(), 1), else_=0)
            keys += [SortKey(rank, True), SortKey(alias.c.value, order.ascending)]
        else:
            keys += _nulls_last_keys(_binary(alias.c.value, dialect), order.ascending)
    keys += [SortKey(runs.c.start_time, False), SortKey(runs.c.run_uuid, True)]
    return query.select_from(from_clause), keys


def run_order(
    query: sa.Select, orders: Sequence[OrderBy], dialect: str
) -> tuple[sa.Select, list[sa.ColumnElement]]:
    """`run_sort_keys` as ORDER BY clauses."""
    query, keys = run_sort_keys(query, orders, dialect)
    return query, [key.clause() for key in keys]


def _nulls_first_in_order(dialect: str, ascending: bool) -> bool:
    # Where a NULL sorts by default: PostgreSQL takes NULL as larger than every value,
    # SQLite and MySQL as smaller.
    null_is_large = dialect == "postgresql"
    return ascending != null_is_large


def keyset_after(keys: Sequence[SortKey], last: Sequence[Any], dialect: str) -> sa.ColumnElement:
    """Rows that sort after the row whose sort values are `last`: keyset paging, so a page
    seeks to where the previous one ended instead of counting past every row before it. NULLs
    are placed where the database's ORDER BY puts them."""
    ors = []
    equal_so_far: list[sa.ColumnElement] = []
    for key, value in zip(keys, last, strict=True):
        expr = key.expr
        nulls_first = _nulls_first_in_order(dialect, key.ascending)
        if value is None:
            after = expr.is_not(None) if nulls_first else sa.false()
            same = expr.is_(None)
        else:
            beyond = expr > value if key.ascending else expr < value
            after = beyond if nulls_first else sa.or_(beyond, expr.is_(None))
            same = expr == value
        ors.append(sa.and_(*equal_so_far, after))
        equal_so_far.append(same)
    return sa.or_(*ors)


def _nulls_last_keys(column: sa.ColumnElement, ascending: bool) -> list[SortKey]:
    # Portable NULLS LAST: MySQL has no such clause, and defaults differ between databases.
    rank = sa.case((column.is_(None), 1), else_=0)
    return [SortKey(rank, True), SortKey(column, ascending)]


def _binary(column: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """Sort strings by code point everywhere: SQLite and our MySQL tables (utf8mb4_bin) do, and
    PostgreSQL does under COLLATE "C" whatever the server's locale."""
    return column.collate("C") if dialect == "postgresql" else column


def _nulls_last(column: sa.ColumnElement, ascending: bool) -> list[sa.ColumnElement]:
    # Portable NULLS LAST: MySQL has no such clause, and defaults differ between databases.
    rank = sa.case((column.is_(None), 1), else_=0)
    return [rank, column.asc() if ascending else column.desc()]


# --- experiments ---------------------------------------------------------------------------------


def experiment_filter(node: Node | None, dialect: str) -> sa.ColumnElement[bool] | None:
    if node is None:
        return None
    if isinstance(node, BoolOp):
        # Tag comparisons of one AND/OR share one lookup (see "grouped lookups" above).
        tags = db.experiment_tags
        group = [
            operand
            for operand in node.operands
            if isinstance(operand, Comparison)
            and operand.identifier.type == TAG
            and operand.op in _GROUPABLE_OPS
        ]
        rest = [operand for operand in node.operands if len(group) < 2 or operand not in group]
        parts = [experiment_filter(operand, dialect) for operand in rest]
        if len(group) >= 2:
            conditions = [
                (c.identifier.key, _string_condition(tags.c.value, c.op, c.value, dialect))
                for c in group
            ]
            parts.append(
                _grouped_lookup(
                    db.experiments.c.experiment_id, tags, tags.c.experiment_id, conditions, node.op
                )
            )
        return sa.and_(*parts) if node.op == "AND" else sa.or_(*parts)
    identifier, op, value = node.identifier, node.op, node.value
    if identifier.type == ATTRIBUTE:
        column = _EXPERIMENT_COLUMNS[identifier.key]
        if op == "IS NULL":
            return column.is_(None)
        if op == "IS NOT NULL":
            return column.is_not(None)
        if identifier.key == "name":
            return _string_condition(column, op, value, dialect)
        return _numeric_condition(column, op, value)
    tags = db.experiment_tags
    experiment_id = db.experiments.c.experiment_id
    has_key = tags.c.key == identifier.key
    if op == "IS NULL":
        return experiment_id.not_in(sa.select(tags.c.experiment_id).where(has_key))
    if op == "IS NOT NULL":
        return experiment_id.in_(sa.select(tags.c.experiment_id).where(has_key))
    condition = _string_condition(tags.c.value, op, value, dialect)
    return experiment_id.in_(sa.select(tags.c.experiment_id).where(has_key, condition))


def experiment_order(
    query: sa.Select, orders: Sequence[OrderBy], dialect: str
) -> tuple[sa.Select, list[sa.ColumnElement]]:
    """ORDER BY clauses for experiments; the default (no orders) is creation_time DESC, and
    experiment_id ASC breaks ties."""
    experiments = db.experiments
    from_clause: sa.FromClause = experiments
    clauses: list[sa.ColumnElement] = []
    if not orders:
        clauses += _nulls_last(experiments.c.creation_time, ascending=False)
    for i, order in enumerate(orders):
        identifier = order.identifier
        if identifier.type == ATTRIBUTE:
            column = _EXPERIMENT_COLUMNS[identifier.key]
            if identifier.key == "name":
                column = _binary(column, dialect)
            clauses += _nulls_last(column, order.ascending)
            continue
        alias = db.experiment_tags.alias(f"order_{i}")
        from_clause = from_clause.outerjoin(
            alias,
            sa.and_(
                alias.c.experiment_id == experiments.c.experiment_id,
                alias.c.key == identifier.key,
            ),
        )
        clauses += _nulls_last(_binary(alias.c.value, dialect), order.ascending)
    clauses.append(experiments.c.experiment_id.asc())
    return query.select_from(from_clause), clauses
