"""Synchronous checks on what users log, with MLflow's limits.

These run in the caller's thread before anything is queued, so they must stay cheap: a
compiled regex, a few comparisons, and a cache of keys already seen (training loops log the
same dozen keys millions of times).
"""

from __future__ import annotations

import math
import numbers
import posixpath
import re

from flightlog.exceptions import InvalidKeyError, InvalidParameterError, InvalidValueError

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_RUN_NAME_LENGTH = 250

# MLflow's allowed characters for metric, param and tag names.
_VALID_KEY = re.compile(r"^[/\w.\- :]*$")

# Keys are validated once per process; a training loop re-logs the same handful.
_valid_keys: set[str] = set()
_VALID_KEY_CACHE_LIMIT = 100_000


def validate_key(key: object, kind: str) -> str:
    """Return `key` if it is a legal metric/param/tag name, else raise InvalidKeyError."""
    if key in _valid_keys:
        return key  # type: ignore[return-value]
    if not isinstance(key, str):
        raise InvalidKeyError(f"{kind} key must be a string, got {type(key).__name__} {key!r}")
    if not key:
        raise InvalidKeyError(f"{kind} key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(
            f"{kind} key {key[:40]!r}... is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
        )
    if not _VALID_KEY.match(key):
        raise InvalidKeyError(
            f"Invalid {kind} key {key!r}: names may only contain alphanumerics, underscores (_), "
            "dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)"
        )
    # Keys can become file names (artifact exports, other stores): they must not resolve to a
    # different path, so "a/../b", "./a" and "/a" are refused.
    if key.startswith("/") or posixpath.normpath(key) != key or ".." in key.split("/"):
        raise InvalidKeyError(
            f"Invalid {kind} key {key!r}: as a path it would resolve to "
            f"{posixpath.normpath(key)!r}; use a key without '..', '.', '//' or a leading/trailing '/'"
        )
    if len(_valid_keys) < _VALID_KEY_CACHE_LIMIT:
        _valid_keys.add(key)
    return key


def validate_metric_value(key: str, value: object) -> float:
    """Return the value as a float; NaN and +/-inf are allowed (the store records them)."""
    if type(value) is float:
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    # numpy 0-d arrays and torch scalars expose item() without being numbers.Number
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0 and not isinstance(value, str | bytes):
        try:
            as_float = item()
        except Exception:  # noqa: BLE001 - any failure means "not a scalar number"
            as_float = None
        if isinstance(as_float, numbers.Real):
            return float(as_float)
    raise InvalidValueError(
        f"Got invalid value {value!r} for metric {key!r}: metric values must be numbers "
        f"(got {type(value).__name__})"
    )


def validate_int(value: object, what: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise InvalidValueError(f"{what} for metric {key!r} must be an integer, got {value!r}")
    return int(value)


def stringify_value(value: object) -> str:
    """How params and tags are stored: as strings (MLflow stringifies the same way)."""
    return value if isinstance(value, str) else str(value)


def validate_param_value(key: str, value: object) -> str:
    text = stringify_value(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidValueError(
            f"Param {key!r} has a value of {len(text)} characters; the limit is "
            f"{MAX_PARAM_VALUE_LENGTH}"
        )
    return text


def validate_tag_value(key: str, value: object) -> str:
    text = stringify_value(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidValueError(
            f"Tag {key!r} has a value of {len(text)} characters; the limit is {MAX_TAG_VALUE_LENGTH}"
        )
    return text


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError(f"Experiment name must be a non-empty string, got {name!r}")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameterError(
            f"Experiment name is {len(name)} characters long; the limit is "
            f"{MAX_EXPERIMENT_NAME_LENGTH}"
        )
    return name


def validate_run_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidParameterError(f"Run name must be a string, got {type(name).__name__}")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidParameterError(
            f"Run name is {len(name)} characters long; the limit is {MAX_RUN_NAME_LENGTH}"
        )
    return name


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not re.fullmatch(r"[a-zA-Z0-9_\-]{1,256}", run_id):
        raise InvalidParameterError(f"Invalid run id {run_id!r}")
    return run_id


def validate_experiment_id(experiment_id: object) -> str:
    text = str(experiment_id) if isinstance(experiment_id, int | str) else None
    if text is None or not re.fullmatch(r"[a-zA-Z0-9_\-]{1,256}", text):
        raise InvalidParameterError(f"Invalid experiment id {experiment_id!r}")
    return text


def is_finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
