"""MLflow's search grammar for runs and experiments: a tokenizer, a recursive-descent parser and
the small AST it produces. Pure Python with no store or database imports, so the server and the
REST store can validate filters with it too; `flightlog.store.sql_search` compiles the AST to SQL.

Filters, as in MLflow::

    metrics.acc > 0.9 and params.optimizer = 'adam'
    tags.`team name` LIKE 'vision%' AND attributes.status IN ('FINISHED', 'FAILED')
    run_name ILIKE '%baseline%'

plus what MLflow lacks: `or`, parentheses (AND binds tighter than OR), `NOT IN`, `NOT LIKE`,
`NOT ILIKE`, `IS NULL` and `IS NOT NULL`. Keywords are case-insensitive. Keys with characters
other than letters, digits, `_ . / - :` go in backticks or double quotes (`metrics."f1 score"`).
String values go in single or double quotes (a quote inside is doubled: 'it''s'); numbers are
bare.

Order-by clauses: `<identifier> [ASC|DESC]`, e.g. `metrics.acc DESC`, `params.lr`,
`attributes.start_time ASC`, `tags.\\`a b\\``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from flightlog.exceptions import InvalidFilterError

# --- AST --------------------------------------------------------------------------------------

METRIC = "metric"
PARAM = "param"
TAG = "tag"
ATTRIBUTE = "attribute"
DATASET = "dataset"

# Comparison operators, as they appear in Comparison.op.
NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"})
LIST_OPS = frozenset({"IN", "NOT IN"})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})


@dataclass(frozen=True)
class Identifier:
    """What a filter or order_by refers to: `type` is metric, param, tag, attribute or dataset;
    `key` is the metric/param/tag key, or the canonical attribute name (aliases resolved)."""

    type: str
    key: str

    def __str__(self) -> str:
        return f"{self.type}s.{self.key}" if self.type != ATTRIBUTE else f"attributes.{self.key}"


@dataclass(frozen=True)
class Comparison:
    """`identifier op value`. value is a str or a number, a tuple of them for IN / NOT IN, and
    None for IS NULL / IS NOT NULL."""

    identifier: Identifier
    op: str
    value: str | int | float | tuple[str | int | float, ...] | None


@dataclass(frozen=True)
class BoolOp:
    """`op` is "AND" or "OR"; operands has two or more nodes."""

    op: str
    operands: tuple[Node, ...]


Node = Comparison | BoolOp


@dataclass(frozen=True)
class OrderBy:
    identifier: Identifier
    ascending: bool = True


# --- what each entity's filters may name -------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """The identifiers one kind of search accepts."""

    entity: str
    # identifier prefix as typed (lower-cased) -> identifier type
    prefixes: dict[str, str]
    # attribute name as typed (lower-cased) -> canonical name
    attributes: dict[str, str]
    # canonical names of attributes compared as numbers
    numeric_attributes: frozenset[str]
    # canonical names accepted in order_by only (not in filters)
    order_only_attributes: frozenset[str] = frozenset()
    # which names a dataset identifier may have
    dataset_fields: frozenset[str] = frozenset()
    # the types listed in "expected ..." error messages
    expected: str = ""
    attribute_examples: Sequence[str] = field(default_factory=tuple)


RUNS = Vocabulary(
    entity="run",
    prefixes={
        "metrics": METRIC,
        "metric": METRIC,
        "params": PARAM,
        "param": PARAM,
        "parameters": PARAM,
        "parameter": PARAM,
        "tags": TAG,
        "tag": TAG,
        "attributes": ATTRIBUTE,
        "attribute": ATTRIBUTE,
        "attr": ATTRIBUTE,
        "run": ATTRIBUTE,
        "datasets": DATASET,
        "dataset": DATASET,
    },
    attributes={
        "status": "status",
        "run_name": "run_name",
        "start_time": "start_time",
        "created": "start_time",
        "end_time": "end_time",
        "run_id": "run_id",
        "user_id": "user_id",
        "artifact_uri": "artifact_uri",
        "lifecycle_stage": "lifecycle_stage",
        "experiment_id": "experiment_id",
    },
    numeric_attributes=frozenset({"start_time", "end_time"}),
    order_only_attributes=frozenset({"experiment_id"}),
    dataset_fields=frozenset({"name", "digest", "context"}),
    expected="metrics, params, tags or attributes",
)

EXPERIMENTS = Vocabulary(
    entity="experiment",
    prefixes={
        "tags": TAG,
        "tag": TAG,
        "attributes": ATTRIBUTE,
        "attribute": ATTRIBUTE,
        "attr": ATTRIBUTE,
    },
    attributes={
        "name": "name",
        "creation_time": "creation_time",
        "last_update_time": "last_update_time",
        "experiment_id": "experiment_id",
    },
    numeric_attributes=frozenset({"creation_time", "last_update_time"}),
    order_only_attributes=frozenset({"experiment_id"}),
    expected="tags or attributes",
)


# --- tokenizer -------------------------------------------------------------------------------

_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "ASC", "DESC"})
_OPERATORS = {
    "=": "=",
    "==": "=",
    "!=": "!=",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])")
_WORD = re.compile(r"[A-Za-z_][\w.\-/:]*")
_OPERATOR = re.compile(r"==|!=|<>|<=|>=|=|<|>")


@dataclass(frozen=True)
class Token:
    kind: str  # WORD, IDENT (prefix.quoted key), STRING, NUMBER, OP, KEYWORD, "(", ")", ","
    text: str  # as typed
    value: object  # WORD/KEYWORD: upper/raw text; IDENT: (prefix, key); STRING: str; NUMBER: num
    pos: int


class _Tokenizer:
    def __init__(self, text: str, what: str):
        self.text = text
        self.what = what
        self.pos = 0

    def error(self, message: str) -> InvalidFilterError:
        return InvalidFilterError(f"{message} in {self.what} {self.text!r}")

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        text = self.text
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                return out
            out.append(self._next())

    def _next(self) -> Token:
        text, start = self.text, self.pos
        char = text[start]
        if char in "(),":
            self.pos += 1
            return Token(char, char, char, start)
        if char in "'\"":
            value = self._quoted(char)
            return Token("STRING", text[start : self.pos], value, start)
        if char == "`":
            # A lone backticked name: only meaningful after a prefix, but let the parser say so.
            value = self._quoted("`")
            return Token("IDENT", text[start : self.pos], ("", value), start)
        match = _OPERATOR.match(text, start)
        if match:
            self.pos = match.end()
            return Token("OP", match.group(), _OPERATORS[match.group()], start)
        match = _NUMBER.match(text, start)
        if match:
            self.pos = match.end()
            literal = match.group()
            number = float(literal) if any(c in literal for c in ".eE") else int(literal)
            return Token("NUMBER", literal, number, start)
        match = _WORD.match(text, start)
        if match:
            return self._word(match)
        raise self.error(f"unexpected character {char!r} at position {start}")

    def _word(self, match: re.Match[str]) -> Token:
        start, word = match.start(), match.group()
        self.pos = match.end()
        # `metrics.` followed by a quoted key: metrics.`f1 score` or metrics."f1 score"
        if word.endswith(".") and self.pos < len(self.text) and self.text[self.pos] in '`"':
            key = self._quoted(self.text[self.pos])
            return Token("IDENT", self.text[start : self.pos], (word[:-1], key), start)
        if word.upper() in _KEYWORDS:
            return Token("KEYWORD", word, word.upper(), start)
        return Token("WORD", word, word, start)

    def _quoted(self, quote: str) -> str:
        """Read a quoted string starting at self.pos; a doubled quote stands for one quote."""
        text, start = self.text, self.pos
        i = start + 1
        parts = []
        while True:
            end = text.find(quote, i)
            if end < 0:
                raise self.error(f"unterminated {quote} quote starting at position {start}")
            parts.append(text[i:end])
            if text.startswith(quote * 2, end):
                parts.append(quote)
                i = end + 2
                continue
            self.pos = end + 1
            return "".join(parts)


# --- parser ----------------------------------------------------------------------------------


# Limits on one filter, so that no search costs the database (or this parser's recursion) more
# than a bounded amount: beyond them a filter is refused with INVALID_PARAMETER_VALUE. Generous
# for anything written by hand or by a dashboard.
MAX_FILTER_COMPARISONS = 500
MAX_FILTER_DEPTH = 32
MAX_ORDER_BY_CLAUSES = 20


def _short(text: str, limit: int = 120) -> str:
    return repr(text) if len(text) <= limit else repr(text[: limit - 3] + "...")


class _Parser:
    def __init__(self, text: str, vocabulary: Vocabulary, what: str):
        self.text = text
        self.vocabulary = vocabulary
        self.what = what
        self.tokens = _Tokenizer(text, what).tokens()
        self.i = 0
        self.depth = 0
        self.n_comparisons = 0

    # helpers
    def error(self, message: str) -> InvalidFilterError:
        return InvalidFilterError(f"{message} in {self.what} {self.text!r}")

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end")
        self.i += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "KEYWORD" and token.value in words

    def unexpected(self, token: Token | None, wanted: str) -> InvalidFilterError:
        if token is None:
            return self.error(f"expected {wanted} but the filter ends")
        return self.error(f"expected {wanted} but found {token.text!r} at position {token.pos}")

    # grammar: expr := and_expr (OR and_expr)* ; and_expr := factor (AND factor)*
    def parse_filter(self) -> Node:
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            if token.kind == ")":
                raise self.error(f"unbalanced ')' at position {token.pos}")
            raise self.unexpected(token, "AND, OR or the end of the filter")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.at_keyword("OR"):
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else BoolOp("OR", tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_factor()]
        while self.at_keyword("AND"):
            self.take()
            operands.append(self.parse_factor())
        return operands[0] if len(operands) == 1 else BoolOp("AND", tuple(operands))

    def parse_factor(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_FILTER_DEPTH:
                raise InvalidFilterError(
                    f"The {self.what} {_short(self.text)} is nested too deeply: at most "
                    f"{MAX_FILTER_DEPTH} levels of parentheses"
                )
            node = self.parse_or()
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise self.unexpected(closing, f"')' to close '(' at position {token.pos}")
            self.take()
            return node
        return self.parse_comparison()

    def parse_comparison(self) -> Comparison:
        self.n_comparisons += 1
        if self.n_comparisons > MAX_FILTER_COMPARISONS:
            raise InvalidFilterError(
                f"The {self.what} {_short(self.text)} is too complex: at most "
                f"{MAX_FILTER_COMPARISONS} comparisons (joined by AND/OR) per search"
            )
        identifier = self.parse_identifier(for_order_by=False)
        op = self.parse_operator(identifier)
        if op in NULL_OPS:
            return Comparison(identifier, op, None)
        if op in LIST_OPS:
            return Comparison(identifier, op, self.parse_list(identifier))
        return Comparison(identifier, op, self.parse_value(identifier, op))

    def parse_identifier(self, for_order_by: bool) -> Identifier:
        token = self.take() if self.peek() is not None else None
        if token is None or token.kind not in ("WORD", "IDENT"):
            raise self.unexpected(token, "an identifier such as metrics.<key> or params.<key>")
        if token.kind == "IDENT":
            prefix, key = token.value  # type: ignore[misc]
        elif "." in token.text:
            prefix, key = token.text.split(".", 1)
        else:
            prefix, key = None, token.text
        return self.resolve(prefix, key, token, for_order_by)

    def resolve(self, prefix: str | None, key: str, token: Token, for_order_by: bool) -> Identifier:
        vocab = self.vocabulary
        if prefix is None:
            # A bare name is an attribute (status = 'FINISHED', name LIKE 'x%').
            return self.attribute(key, token, for_order_by)
        if prefix == "":
            raise self.error(
                f"identifier {token.text} at position {token.pos} needs a prefix "
                f"({vocab.expected}), e.g. metrics.{token.text}"
            )
        kind = vocab.prefixes.get(prefix.lower())
        if kind is None:
            raise self.error(f"unknown identifier type {prefix!r}; expected {vocab.expected}")
        if not key:
            raise self.error(f"missing key after '{prefix}.' at position {token.pos}")
        if kind == ATTRIBUTE:
            return self.attribute(key, token, for_order_by)
        if kind == DATASET:
            if key.lower() not in vocab.dataset_fields:
                raise self.error(
                    f"unknown dataset field {key!r}; expected one of "
                    f"{', '.join(sorted(vocab.dataset_fields))}"
                )
            if for_order_by:
                raise self.error("cannot order by dataset fields")
            return Identifier(DATASET, key.lower())
        return Identifier(kind, key)

    def attribute(self, name: str, token: Token, for_order_by: bool) -> Identifier:
        vocab = self.vocabulary
        canonical = vocab.attributes.get(name.lower())
        if canonical is None or (canonical in vocab.order_only_attributes and not for_order_by):
            names = sorted(
                a
                for a, c in vocab.attributes.items()
                if for_order_by or c not in vocab.order_only_attributes
            )
            raise self.error(
                f"unknown {vocab.entity} attribute {name!r} at position {token.pos}; expected "
                f"one of {', '.join(names)} (or a prefixed key: {vocab.expected})"
            )
        return Identifier(ATTRIBUTE, canonical)

    def is_numeric(self, identifier: Identifier) -> bool:
        return identifier.type == METRIC or (
            identifier.type == ATTRIBUTE and identifier.key in self.vocabulary.numeric_attributes
        )

    def parse_operator(self, identifier: Identifier) -> str:
        token = self.take() if self.peek() is not None else None
        if token is None:
            raise self.unexpected(None, f"a comparison operator after {identifier}")
        simple = token.kind == "OP" or (
            token.kind == "KEYWORD" and token.value in ("LIKE", "ILIKE", "IN")
        )
        if simple:
            op = str(token.value)
        elif (
            token.kind == "KEYWORD"
            and token.value == "NOT"
            and self.at_keyword("LIKE", "ILIKE", "IN")
        ):
            op = f"NOT {self.take().value}"
        elif token.kind == "KEYWORD" and token.value == "IS":
            negate = self.at_keyword("NOT")
            if negate:
                self.take()
            if not self.at_keyword("NULL"):
                raise self.unexpected(self.peek(), "NULL after IS" + (" NOT" if negate else ""))
            self.take()
            op = "IS NOT NULL" if negate else "IS NULL"
        else:
            raise self.unexpected(token, f"a comparison operator after {identifier}")
        allowed = self.allowed_ops(identifier)
        if op not in allowed:
            raise self.error(
                f"operator {op!r} is not supported for {self.describe(identifier)}; use one of "
                f"{', '.join(sorted(allowed))}"
            )
        return op

    def allowed_ops(self, identifier: Identifier) -> frozenset[str]:
        if self.is_numeric(identifier):
            return NUMERIC_OPS | LIST_OPS | NULL_OPS
        return STRING_OPS | LIST_OPS | NULL_OPS

    def describe(self, identifier: Identifier) -> str:
        kind = "numeric" if self.is_numeric(identifier) else "string"
        return f"{identifier} ({kind})"

    def parse_value(self, identifier: Identifier, op: str) -> str | int | float:
        token = self.take() if self.peek() is not None else None
        return self.check_value(identifier, token, f"a value after {op!r}")

    def check_value(
        self, identifier: Identifier, token: Token | None, wanted: str
    ) -> str | int | float:
        if token is None or token.kind not in ("STRING", "NUMBER"):
            if token is not None and token.kind in ("WORD", "KEYWORD"):
                raise self.error(
                    f"expected {wanted} but found {token.text!r} at position {token.pos} "
                    f"(string values need quotes: '{token.text}')"
                )
            raise self.unexpected(token, wanted)
        if self.is_numeric(identifier):
            if token.kind != "NUMBER":
                raise self.error(
                    f"{identifier} is compared as a number but got the string {token.text} at "
                    f"position {token.pos}; write the number without quotes"
                )
            return token.value  # type: ignore[return-value]
        if token.kind != "STRING":
            raise self.error(
                f"{identifier} is compared as a string but got the number {token.text} at "
                f"position {token.pos}; quote it: '{token.text}'"
            )
        return token.value  # type: ignore[return-value]

    def parse_list(self, identifier: Identifier) -> tuple[str | int | float, ...]:
        opening = self.take() if self.peek() is not None else None
        if opening is None or opening.kind != "(":
            raise self.unexpected(opening, "'(' to start the IN list")
        values = []
        while True:
            token = self.take() if self.peek() is not None else None
            values.append(self.check_value(identifier, token, "a value in the IN list"))
            separator = self.take() if self.peek() is not None else None
            if separator is not None and separator.kind == ")":
                return tuple(values)
            if separator is None or separator.kind != ",":
                raise self.unexpected(separator, "',' or ')' in the IN list")

    def parse_order_by(self) -> OrderBy:
        if not self.tokens:
            raise self.error("empty order_by clause")
        identifier = self.parse_identifier(for_order_by=True)
        ascending = True
        if self.at_keyword("ASC", "DESC"):
            ascending = self.take().value == "ASC"
        token = self.peek()
        if token is not None:
            raise self.unexpected(token, "ASC, DESC or the end of the order_by clause")
        return OrderBy(identifier, ascending)


# --- public API ------------------------------------------------------------------------------


def parse_filter(text: str | None, vocabulary: Vocabulary = RUNS) -> Node | None:
    """Parse a filter string into an AST; None for an empty filter. Raises InvalidFilterError."""
    if text is None or not text.strip():
        return None
    if not isinstance(text, str):
        raise InvalidFilterError(f"filter must be a string, got {type(text).__name__}")
    return _Parser(text, vocabulary, "filter").parse_filter()


def parse_order_by(clause: str, vocabulary: Vocabulary = RUNS) -> OrderBy:
    """Parse one order_by clause such as "metrics.acc DESC"."""
    if not isinstance(clause, str):
        raise InvalidFilterError(f"order_by clauses must be strings, got {clause!r}")
    return _Parser(clause, vocabulary, "order_by clause").parse_order_by()


def parse_order_by_list(
    clauses: Sequence[str] | None, vocabulary: Vocabulary = RUNS
) -> list[OrderBy]:
    if clauses is None:
        return []
    if isinstance(clauses, str):
        clauses = [clauses]
    if len(clauses) > MAX_ORDER_BY_CLAUSES:
        raise InvalidFilterError(
            f"Too many order_by clauses ({len(clauses)}): at most {MAX_ORDER_BY_CLAUSES}"
        )
    return [parse_order_by(c, vocabulary) for c in clauses]


def comparisons(node: Node | None) -> list[Comparison]:
    """Every comparison in the tree, left to right (for callers that only need the keys)."""
    if node is None:
        return []
    if isinstance(node, Comparison):
        return [node]
    return [c for operand in node.operands for c in comparisons(operand)]
