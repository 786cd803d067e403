"""Per-thread nesting of autologged calls: only the outermost call logs.

A Pipeline fitting its steps, a search fitting its candidates and a `fit` calling `super().fit`
all run inside an outer autologged call; each patched call pushes a frame here, and a call that
finds a frame already on its thread's stack runs the original untouched. The stack is shared by
every integration, so a framework called from inside another (an XGBoost model in a scikit-learn
Pipeline) does not log a second run either.

Threads do not share stacks: two models trained at once in two threads are two runs. Work that a
patched call hands to worker threads (joblib's threading backend) carries the caller's stack
along through `snapshot()` / `inherit()`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Frame:
    """One patched call in progress on this thread."""

    integration: str
    # Whether this call is the one logging (the outermost, and not excluded by its integration).
    logging: bool = False
    run_id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)


_local = threading.local()


def _stack() -> list[Frame]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def active() -> bool:
    """True inside any patched call on this thread (the place to ignore nested work)."""
    return bool(getattr(_local, "stack", None))


def current() -> Frame | None:
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else None


def outermost() -> Frame | None:
    stack = getattr(_local, "stack", None)
    return stack[0] if stack else None


@contextlib.contextmanager
def frame(integration: str, logging: bool = False, run_id: str | None = None) -> Iterator[Frame]:
    """Push a frame for the duration of a patched call."""
    stack = _stack()
    pushed = Frame(integration, logging, run_id)
    stack.append(pushed)
    try:
        yield pushed
    finally:
        # Pop exactly our frame, even if something inside left the stack unbalanced.
        for index in range(len(stack) - 1, -1, -1):
            if stack[index] is pushed:
                del stack[index:]
                break


def snapshot() -> tuple[str, ...]:
    """This thread's nesting, as plain picklable data, for handing to a worker thread."""
    stack = getattr(_local, "stack", None)
    return tuple(f.integration for f in stack) if stack else ()


@contextlib.contextmanager
def inherit(names: tuple[str, ...]) -> Iterator[None]:
    """Run a worker's task as if nested in the calls recorded by `snapshot()` on the caller."""
    if not names or active():
        yield
        return
    stack = _stack()
    depth = len(stack)
    stack.extend(Frame(name) for name in names)
    try:
        yield
    finally:
        del stack[depth:]
