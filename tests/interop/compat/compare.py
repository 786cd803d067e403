"""Differences between what mlflow and flightlog stored for the same script, as paths.

A difference reads `experiments/compat-manual/runs/compat-manual/baseline/tags/x: mlflow='1'
flightlog=<missing>`; lists of names (artifacts, metric keys) compare as sets, one path per
name. The allow-list (allowlist.py) matches these paths with fnmatch patterns.
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any

MISSING = "<missing>"
# Lists compared element by element (order matters); every other list is a set of names.
_ORDERED = ("results/",)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same_number(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def diff(theirs: Any, ours: Any, path: str = "") -> list[str]:
    """Paths where `theirs` (mlflow) and `ours` (flightlog) differ."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        out = []
        for key in sorted(set(theirs) | set(ours), key=str):
            sub = f"{path}/{key}" if path else str(key)
            if key not in ours:
                out.append(f"{sub}: mlflow={_short(theirs[key])} flightlog={MISSING}")
            elif key not in theirs:
                out.append(f"{sub}: mlflow={MISSING} flightlog={_short(ours[key])}")
            else:
                out.extend(diff(theirs[key], ours[key], sub))
        return out
    if isinstance(theirs, list) and isinstance(ours, list):
        ordered = path.startswith(_ORDERED) or any(
            isinstance(x, (dict, list)) for x in theirs + ours
        )
        if ordered:
            if len(theirs) != len(ours):
                return [f"{path}: mlflow has {len(theirs)} items, flightlog {len(ours)}"]
            out = []
            for i, (a, b) in enumerate(zip(theirs, ours, strict=True)):
                out.extend(diff(a, b, f"{path}/{i}"))
            return out
        a, b = {str(x) for x in theirs}, {str(x) for x in ours}
        return [f"{path}/{x}: mlflow=present flightlog={MISSING}" for x in sorted(a - b)] + [
            f"{path}/{x}: mlflow={MISSING} flightlog=present" for x in sorted(b - a)
        ]
    if _is_number(theirs) and _is_number(ours) and _same_number(theirs, ours):
        return []
    if theirs != ours:
        return [f"{path}: mlflow={_short(theirs)} flightlog={_short(ours)}"]
    return []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def unexplained(diffs: list[str], allowed: list[tuple[str, str]]) -> list[str]:
    """The differences no allow-list pattern matches (a pattern matches the part before ': ')."""
    out = []
    for d in diffs:
        where = d.split(": ", 1)[0]
        if not any(fnmatch.fnmatchcase(where, pattern) for pattern, _ in allowed):
            out.append(d)
    return out
