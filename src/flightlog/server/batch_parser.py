"""The runs/log-batch body, parsed straight into entities: the ingestion hot path.

A log-batch request carries up to 1000 metrics; validating them through pydantic models and
then copying them into Metric objects costs more than storing them. This parser does one pass
over the decoded JSON with plain type checks and builds the entities directly. It accepts what
the pydantic model `schemas.LogBatchRequest` documents (proto3 JSON: int64 as number or numeric
string, doubles as numbers or "NaN"/"Infinity"/"-Infinity") and reports problems in the same
words as the other endpoints. Key names, value lengths and the like are the store's to check.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flightlog.entities import Metric, Param, RunTag
from flightlog.exceptions import InvalidParameterError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _bad(where: str, value: Any, what: str) -> InvalidParameterError:
    # MLflow's wording (the value as JSON, "... supplied: ..."): clients match on it.
    try:
        shown = json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return InvalidParameterError(f"Invalid value {shown} for parameter '{where}' supplied: {what}.")


def _int64(value: Any, where: str) -> int:
    if type(value) is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise _bad(where, value, "must fit in a signed 64-bit integer")
    if isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            raise _bad(where, value, "must be an integer") from None
        return _int64(number, where)
    if isinstance(value, float) and value.is_integer():
        return _int64(int(value), where)
    raise _bad(where, value, "must be an integer")


def _double(value: Any, where: str) -> float:
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            raise _bad(where, value, "is too large for a double") from None
    if kind is str:
        special = _SPECIAL_DOUBLES.get(value)
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            pass
    raise _bad(where, value, "must be a number")


def _text(value: Any, where: str) -> str:
    if type(value) is not str:
        raise _bad(where, value, "must be a string")
    if "\x00" in value:
        raise _bad(where, value, "must not contain NUL characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad(where, value, "must be valid Unicode (no lone surrogates)") from None
    return value


def _items(body: dict, name: str) -> list:
    items = body.get(name)
    if items is None:
        return []
    if type(items) is not list:
        raise _bad(name, items, "must be a list")
    return items


# flightlog clients name each log-batch request with an id of their own (MLflow's server ignores
# the header), so the store can skip a batch it has stored already.
BATCH_ID_HEADER = "X-Flightlog-Batch-Id"
_BATCH_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")
MAX_BATCH_ID_LENGTH = 64


def batch_id_of(value: str | None) -> str | None:
    """The batch id a request header carries (None without one), or InvalidParameterError."""
    if value is None:
        return None
    if not 0 < len(value) <= MAX_BATCH_ID_LENGTH or not set(value) <= _BATCH_ID_CHARS:
        raise _bad(
            BATCH_ID_HEADER,
            value,
            f"must be 1 to {MAX_BATCH_ID_LENGTH} characters of letters, digits and . _ : -",
        )
    return value


def _model_metric(m: dict, i: int, key: str, value: float, timestamp: int, step: int) -> Metric:
    from flightlog.entities import LoggedModelMetric

    extra = {
        name: _text(m[name], f"metrics.{i}.{name}")
        for name in ("model_id", "dataset_name", "dataset_digest")
        if m.get(name)
    }
    return LoggedModelMetric(key, value, timestamp, step, run_id=None, **extra)


def parse_log_batch(raw: bytes) -> tuple[str, list[Metric], list[Param], list[RunTag]]:
    """(run_id, metrics, params, tags) from a log-batch request body, or InvalidParameterError."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"Malformed JSON in the request body: {exc}.") from None
    if type(body) is not dict:
        raise _bad("request body", body, "must be a JSON object")
    run_id = body.get("run_id")
    if run_id is None:
        raise InvalidParameterError("Missing value for required parameter 'run_id'.")
    run_id = _text(run_id, "run_id")

    metrics = []
    append = metrics.append
    for i, m in enumerate(_items(body, "metrics")):
        if type(m) is not dict:
            raise _bad(f"metrics.{i}", m, "must be an object")
        try:
            key, value, timestamp = m["key"], m["value"], m["timestamp"]
        except KeyError as exc:
            raise InvalidParameterError(
                f"Missing value for required parameter 'metrics.{i}.{exc.args[0]}'."
            ) from None
        step = m.get("step", 0)
        if type(key) is not str:
            raise _bad(f"metrics.{i}.key", key, "must be a string")
        if type(value) is not float:
            value = _double(value, f"metrics.{i}.value")
        if type(timestamp) is not int or not INT64_MIN <= timestamp <= INT64_MAX:
            timestamp = _int64(timestamp, f"metrics.{i}.timestamp")
        if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
            step = 0 if step is None else _int64(step, f"metrics.{i}.step")
        if "model_id" in m and m["model_id"]:
            # MLflow 3: the point is a logged model's metric too (and may name its dataset)
            append(_model_metric(m, i, key, value, timestamp, step))
        else:
            append(Metric(key, value, timestamp, step))

    pairs = []
    for name in ("params", "tags"):
        found = []
        for i, item in enumerate(_items(body, name)):
            if type(item) is not dict or "key" not in item:
                raise _bad(f"{name}.{i}", item, "must be an object with a 'key'")
            key = _text(item["key"], f"{name}.{i}.key")
            value = item.get("value")
            found.append((key, "" if value is None else _text(value, f"{name}.{i}.value")))
        pairs.append(found)
    params = [Param(k, v) for k, v in pairs[0]]
    tags = [RunTag(k, v) for k, v in pairs[1]]
    return run_id, metrics, params, tags
