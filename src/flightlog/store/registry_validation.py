"""Rules for registry names, versions, aliases and tags, shared by every registry backend."""

from __future__ import annotations

import re

from flightlog.exceptions import InvalidParameterError

MAX_NAME_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 5000
MAX_TAG_VALUE_LENGTH = 5000
_ALIAS = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
_VERSION_LIKE = re.compile(r"^v\d+$", re.IGNORECASE)


def validate_model_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError(
            f"A registered model name must be a non-empty string, got {name!r}"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidParameterError(
            f"Registered model name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}"
        )
    # They would make models:/<name>/<version> and models:/<name>@<alias> ambiguous.
    bad = [c for c in ("/", "@", "\x00") if c in name]
    if bad:
        raise InvalidParameterError(
            f"Registered model name {name!r} must not contain {bad[0]!r} (it would break "
            "models:/ URIs)"
        )
    return name


MAX_VERSION = 2**31 - 1


def validate_version(version: object) -> int:
    """'3' or 3 -> 3; anything else is an InvalidParameterError naming it."""
    if isinstance(version, bool):
        raise InvalidParameterError(f"Model version must be a positive integer, got {version!r}")
    try:
        number = int(str(version).strip())
    except ValueError:
        raise InvalidParameterError(
            f"Model version must be a positive integer, got {version!r}"
        ) from None
    if number < 1:
        raise InvalidParameterError(f"Model version must be a positive integer, got {version!r}")
    if number > MAX_VERSION:
        # The version column is a 32-bit integer: a larger number cannot name a stored version
        # (and SQLite would overflow binding one past 64 bits).
        raise InvalidParameterError(
            f"Model version {number} is out of range: versions go up to {MAX_VERSION}"
        )
    return number


def validate_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidParameterError(
            f"Invalid alias {alias!r}: use 1-255 letters, digits, '_' or '-'"
        )
    if alias.lower() == "latest" or _VERSION_LIKE.match(alias):
        raise InvalidParameterError(
            f"Alias {alias!r} is reserved ('latest' and 'v<number>' name versions)"
        )
    return alias


def validate_description(description: object) -> str | None:
    if description is None:
        return None
    if not isinstance(description, str):
        raise InvalidParameterError(
            f"A description must be a string, got {type(description).__name__}"
        )
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidParameterError(
            f"Description is {len(description)} characters long; the limit is "
            f"{MAX_DESCRIPTION_LENGTH}"
        )
    return description


def validate_registry_tag(key: object, value: object) -> tuple[str, str]:
    from flightlog.validation import validate_key

    validate_key(key, "Tag")
    text = "" if value is None else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidParameterError(
            f"Tag {key!r} value is {len(text)} characters long; registry tags allow "
            f"{MAX_TAG_VALUE_LENGTH}"
        )
    return str(key), text
