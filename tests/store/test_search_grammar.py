"""The filter / order_by grammar on its own (no database)."""

from __future__ import annotations

import pytest

from flightlog.exceptions import InvalidFilterError
from flightlog.store.search import (
    EXPERIMENTS,
    BoolOp,
    Comparison,
    Identifier,
    OrderBy,
    comparisons,
    parse_filter,
    parse_order_by,
    parse_order_by_list,
)


def metric(key):
    return Identifier("metric", key)


def param(key):
    return Identifier("param", key)


def tag(key):
    return Identifier("tag", key)


def attr(key):
    return Identifier("attribute", key)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_filter_is_none(text):
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.acc > 0.9", Comparison(metric("acc"), ">", 0.9)),
        ("metrics.acc >= 1", Comparison(metric("acc"), ">=", 1)),
        ("metrics.acc < -1.5e3", Comparison(metric("acc"), "<", -1500.0)),
        ("metrics.acc <= .5", Comparison(metric("acc"), "<=", 0.5)),
        ("metrics.acc = 2", Comparison(metric("acc"), "=", 2)),
        ("metrics.acc == 2", Comparison(metric("acc"), "=", 2)),
        ("metrics.acc != 2", Comparison(metric("acc"), "!=", 2)),
        ("metrics.acc <> 2", Comparison(metric("acc"), "!=", 2)),
        ("params.lr = '0.1'", Comparison(param("lr"), "=", "0.1")),
        ('params.lr = "0.1"', Comparison(param("lr"), "=", "0.1")),
        ("tags.team LIKE 'vis%'", Comparison(tag("team"), "LIKE", "vis%")),
        ("tags.team ilike 'VIS%'", Comparison(tag("team"), "ILIKE", "VIS%")),
        ("tags.team NOT LIKE 'a_'", Comparison(tag("team"), "NOT LIKE", "a_")),
        ("tags.team not ilike 'a%'", Comparison(tag("team"), "NOT ILIKE", "a%")),
        ("params.opt IN ('adam', 'sgd')", Comparison(param("opt"), "IN", ("adam", "sgd"))),
        ("params.opt not in ('adam')", Comparison(param("opt"), "NOT IN", ("adam",))),
        ("metrics.epoch IN (1, 2.5)", Comparison(metric("epoch"), "IN", (1, 2.5))),
        ("tags.x IS NULL", Comparison(tag("x"), "IS NULL", None)),
        ("tags.x is not null", Comparison(tag("x"), "IS NOT NULL", None)),
        ("metrics.`f1 score` > 0", Comparison(metric("f1 score"), ">", 0)),
        ('metrics."f1 score" > 0', Comparison(metric("f1 score"), ">", 0)),
        ("tags.`a``b` = 'x'", Comparison(tag("a`b"), "=", "x")),
        ("tags.mlflow.runName = 'r'", Comparison(tag("mlflow.runName"), "=", "r")),
        ("metrics.val/loss-1:x < 3", Comparison(metric("val/loss-1:x"), "<", 3)),
        ("params.name = 'it''s'", Comparison(param("name"), "=", "it's")),
        ('params.name = "say ""hi"""', Comparison(param("name"), "=", 'say "hi"')),
        ("params.name = 'and or ( )'", Comparison(param("name"), "=", "and or ( )")),
    ],
)
def test_comparisons(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("attributes.status = 'FINISHED'", "status"),
        ("attribute.status = 'FINISHED'", "status"),
        ("attr.status = 'FINISHED'", "status"),
        ("run.status = 'FINISHED'", "status"),
        ("status = 'FINISHED'", "status"),
        ("STATUS = 'FINISHED'", "status"),
        ("run_name = 'x'", "run_name"),
        ("attributes.run_id = 'x'", "run_id"),
        ("user_id = 'x'", "user_id"),
        ("artifact_uri = 'x'", "artifact_uri"),
        ("lifecycle_stage = 'active'", "lifecycle_stage"),
    ],
)
def test_attribute_aliases(text, key):
    node = parse_filter(text)
    assert node.identifier == attr(key)


@pytest.mark.parametrize("text", ["created > 5", "attributes.start_time > 5", "run.created > 5"])
def test_created_is_start_time(text):
    assert parse_filter(text) == Comparison(attr("start_time"), ">", 5)


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("metric", "metric"),
        ("METRICS", "metric"),
        ("param", "param"),
        ("parameters", "param"),
        ("tag", "tag"),
        ("Tags", "tag"),
    ],
)
def test_mlflow_prefix_aliases(prefix, kind):
    # MLflow accepts the singular forms too; code written for it must keep working.
    op, value = ("=", 1) if kind == "metric" else ("=", "1")
    node = parse_filter(f"{prefix}.k {op} {value!r}" if kind != "metric" else f"{prefix}.k = 1")
    assert node == Comparison(Identifier(kind, "k"), op, value)


def test_keywords_are_case_insensitive():
    node = parse_filter("metrics.a > 1 AnD params.b = 'x' oR tags.c LiKe 'y'")
    assert node == BoolOp(
        "OR",
        (
            BoolOp("AND", (Comparison(metric("a"), ">", 1), Comparison(param("b"), "=", "x"))),
            Comparison(tag("c"), "LIKE", "y"),
        ),
    )


def test_and_binds_tighter_than_or():
    node = parse_filter("metrics.a = 1 or metrics.b = 2 and metrics.c = 3")
    assert node == BoolOp(
        "OR",
        (
            Comparison(metric("a"), "=", 1),
            BoolOp("AND", (Comparison(metric("b"), "=", 2), Comparison(metric("c"), "=", 3))),
        ),
    )


def test_parentheses_override_precedence():
    node = parse_filter("(metrics.a = 1 or metrics.b = 2) and ((metrics.c = 3))")
    assert node == BoolOp(
        "AND",
        (
            BoolOp("OR", (Comparison(metric("a"), "=", 1), Comparison(metric("b"), "=", 2))),
            Comparison(metric("c"), "=", 3),
        ),
    )


def test_chains_flatten():
    node = parse_filter("metrics.a = 1 and metrics.b = 2 and metrics.c = 3")
    assert isinstance(node, BoolOp) and node.op == "AND" and len(node.operands) == 3
    assert [c.identifier.key for c in comparisons(node)] == ["a", "b", "c"]


def test_no_spaces_needed():
    assert parse_filter("metrics.a>=-1") == Comparison(metric("a"), ">=", -1)
    assert parse_filter("params.a='x'and params.b!='y'") == BoolOp(
        "AND", (Comparison(param("a"), "=", "x"), Comparison(param("b"), "!=", "y"))
    )


def _error(text, vocabulary=None):
    with pytest.raises(InvalidFilterError) as info:
        if vocabulary is None:
            parse_filter(text)
        else:
            parse_filter(text, vocabulary)
    return str(info.value)


def test_unknown_identifier_type_names_it():
    message = _error("metrik.acc > 1")
    assert "unknown identifier type 'metrik'" in message
    assert "'metrik.acc > 1'" in message
    assert "expected metrics, params, tags or attributes" in message


def test_unknown_attribute_lists_the_valid_ones():
    message = _error("colour = 'red'")
    assert "unknown run attribute 'colour'" in message
    assert "status" in message and "run_name" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("metrics.acc > 'high'", "compared as a number"),
        ("params.lr = 0.1", "compared as a string"),
        ("tags.t = abc", "string values need quotes"),
        ("metrics.acc LIKE '1%'", "operator 'LIKE' is not supported for metrics.acc"),
        ("params.lr > '0.1'", "operator '>' is not supported for params.lr"),
        ("start_time LIKE '1%'", "not supported for attributes.start_time"),
        ("metrics.acc >> 1", "at position 13"),
        ("metrics.acc", "expected a comparison operator"),
        ("metrics.acc >", "expected a value"),
        ("metrics.acc > 1 and", "expected an identifier"),
        ("metrics.acc > 1 params.x = 'a'", "expected AND, OR or the end of the filter"),
        ("(metrics.acc > 1", "')' to close '('"),
        ("metrics.acc > 1)", "unbalanced ')'"),
        ("params.x = 'open", "unterminated ' quote"),
        ("metrics.`open > 1", "unterminated ` quote"),
        ("params.x IN 'a'", "'(' to start the IN list"),
        ("params.x IN ('a' 'b')", "',' or ')' in the IN list"),
        ("params.x IN ()", "a value in the IN list"),
        ("tags.x IS 'a'", "NULL after IS"),
        ("metrics. > 1", "missing key"),
        ("`acc` > 1", "needs a prefix"),
        ("metrics.acc > 1 ; drop table runs", "unexpected character ';'"),
        ("datasets.size = 'x'", "unknown dataset field 'size'"),
        ("experiment_id = 1", "unknown run attribute 'experiment_id'"),
    ],
)
def test_errors_point_at_the_problem(text, fragment):
    message = _error(text)
    assert fragment in message
    assert repr(text) in message


def test_order_by():
    assert parse_order_by("metrics.acc DESC") == OrderBy(metric("acc"), ascending=False)
    assert parse_order_by("params.lr") == OrderBy(param("lr"), ascending=True)
    assert parse_order_by("attributes.start_time asc") == OrderBy(attr("start_time"), True)
    assert parse_order_by("tags.`a b` desc") == OrderBy(tag("a b"), False)
    assert parse_order_by("run_name") == OrderBy(attr("run_name"), True)
    assert parse_order_by("experiment_id DESC") == OrderBy(attr("experiment_id"), False)
    assert parse_order_by_list(None) == []
    assert parse_order_by_list("metrics.a") == [OrderBy(metric("a"))]


@pytest.mark.parametrize(
    ("clause", "fragment"),
    [
        ("", "empty order_by clause"),
        ("metrics.acc DOWN", "ASC, DESC or the end"),
        ("metrics.acc DESC ASC", "ASC, DESC or the end"),
        ("nope.acc", "unknown identifier type 'nope'"),
        ("datasets.name", "cannot order by dataset fields"),
    ],
)
def test_order_by_errors(clause, fragment):
    with pytest.raises(InvalidFilterError, match="order_by clause") as info:
        parse_order_by(clause)
    assert fragment in str(info.value)


def test_experiment_vocabulary():
    assert parse_filter("name = 'x'", EXPERIMENTS) == Comparison(attr("name"), "=", "x")
    assert parse_filter("attributes.name ILIKE 'x%'", EXPERIMENTS).op == "ILIKE"
    node = parse_filter("creation_time > 5 and tags.k = 'v'", EXPERIMENTS)
    assert comparisons(node) == [
        Comparison(attr("creation_time"), ">", 5),
        Comparison(tag("k"), "=", "v"),
    ]
    assert "unknown identifier type 'metrics'" in _error("metrics.a > 1", EXPERIMENTS)
    assert "expected tags or attributes" in _error("metrics.a > 1", EXPERIMENTS)
    assert "unknown experiment attribute 'status'" in _error("status = 'x'", EXPERIMENTS)
    assert parse_order_by("last_update_time DESC", EXPERIMENTS) == OrderBy(
        attr("last_update_time"), False
    )
