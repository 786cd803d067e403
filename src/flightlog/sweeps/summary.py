"""The parent's live summary: counts per trial state, the best trial, from every process.

Each process taking part in a sweep (a *member*) keeps its own tally and writes it as one tag on
the parent, `flightlog.sweep.member.<id>` = JSON {host, pid, start, open, counts, best}. Only the
member itself writes its tag, so concurrent processes never overwrite each other's numbers; the
totals (`flightlog.sweep.n_<state>`, `best_value`, `flightlog.sweep.best_run_id`) are the sum and
the best over every member tag, recomputed by whichever process ended a trial last. When the last
member closes, `recount()` rebuilds the totals from the child runs themselves (so a child
written without the trial API, or by a process that died, is counted too).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flightlog.sweeps import names


@dataclass
class Best:
    value: float
    run_id: str
    number: int | None

    def as_list(self) -> list[Any]:
        return [self.value, self.run_id, self.number]


@dataclass
class Member:
    """One process's share of a sweep."""

    host: str
    pid: int
    start: str
    open: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    best: Best | None = None

    def to_json(self) -> str:
        body = {
            "host": self.host,
            "pid": self.pid,
            "start": self.start,
            "open": self.open,
            "counts": self.counts,
            "best": self.best.as_list() if self.best else None,
        }
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Member | None:
        try:
            body = json.loads(text)
            best = body.get("best")
            return cls(
                host=str(body["host"]),
                pid=int(body["pid"]),
                start=str(body.get("start", "")),
                open=bool(body.get("open", False)),
                counts={str(k): int(v) for k, v in (body.get("counts") or {}).items()},
                best=Best(float(best[0]), str(best[1]), best[2]) if best else None,
            )
        except (ValueError, TypeError, KeyError, IndexError):
            return None  # a hand-edited or foreign tag: ignore it rather than fail the sweep


def members(tags: Mapping[str, str]) -> dict[str, Member]:
    out = {}
    for key, value in tags.items():
        if key.startswith(names.MEMBER_TAG_PREFIX):
            member = Member.from_json(value)
            if member is not None:
                out[key] = member
    return out


def better(a: float, b: float, direction: str) -> bool:
    """Whether value `a` beats `b` under `direction` (NaN never wins)."""
    if math.isnan(a):
        return False
    if math.isnan(b):
        return True
    return a > b if direction == "maximize" else a < b


def beats(a: Best, b: Best | None, direction: str) -> bool:
    """Whether trial `a` is the better best: a better value, or on a tie the lower trial
    number (Optuna's own pick), so threads finishing in any order agree on one best."""
    if b is None:
        return not math.isnan(a.value)
    if a.value == b.value:
        return a.number is not None and (b.number is None or a.number < b.number)
    return better(a.value, b.value, direction)


def best_of(candidates: Iterable[Best | None], direction: str) -> Best | None:
    found: Best | None = None
    for best in candidates:
        if best is not None and beats(best, found, direction):
            found = best
    return found


def totals(all_members: Iterable[Member]) -> dict[str, int]:
    out = dict.fromkeys(names.STATES, 0)
    for member in all_members:
        for state, count in member.counts.items():
            out[state] = out.get(state, 0) + count
    return out


def count_tags(counts: Mapping[str, int]) -> dict[str, str]:
    tags = {names.COUNT_TAG.format(state.lower()): str(n) for state, n in counts.items()}
    tags[names.COUNT_TAG.format("trials")] = str(sum(counts.values()))
    return tags


def best_tags(best: Best | None) -> dict[str, str]:
    if best is None:
        return {}
    tags = {names.BEST_RUN_TAG: best.run_id, names.BEST_VALUE_TAG: repr(best.value)}
    if best.number is not None:
        tags[names.BEST_TRIAL_TAG] = str(best.number)
    return tags


def trial_state(run: Any) -> str | None:
    """A child run's trial state: its tag, or else what its run status implies."""
    state = run.data.tags.get(names.TRIAL_STATE_TAG)
    if state in names.STATES:
        return state
    status = run.info.status
    if status == "FINISHED":
        return names.COMPLETE
    if status in ("FAILED", "KILLED"):
        return status
    return None  # still running


def trial_number(run: Any) -> int | None:
    raw = run.data.tags.get(names.TRIAL_NUMBER_TAG)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def recount(
    children: Iterable[Any], objective: str, direction: str | None
) -> tuple[dict, Best | None]:
    """Counts per state and the best COMPLETE trial, from the child runs themselves."""
    counts = dict.fromkeys(names.STATES, 0)
    best: Best | None = None
    for run in children:
        state = trial_state(run)
        if state is None:
            continue
        counts[state] += 1
        value = run.data.metrics.get(objective)
        if state == names.COMPLETE and direction and isinstance(value, int | float):
            candidate = Best(float(value), run.info.run_id, trial_number(run))
            best = best_of([best, candidate], direction)
    return counts, best
