"""The context-local active-run stack: the run a thread (or asyncio task) logs into during a trial.

The fluent stack in `flightlog.fluent` is process-wide on purpose (a data-loader thread logs into
the run the user started). A sweep needs the opposite: two trials running at once on two worker
threads must each log into their own child run, and an autologged `fit` inside each objective
must land in that trial's child. So runs can also be pushed here, on a `contextvars` stack:

- `fluent.active_run()` (and every fluent `log_*` call, and autolog's choice of run) looks here
  first and falls back to the process-wide stack when this context has no run;
- a new thread starts with an empty context, so a run pushed here is seen only by the thread
  (or the asyncio task) that pushed it, and by work that copies its context on purpose
  (`contextvars.copy_context().run(...)`);
- nothing changes for code that never pushes here: single-threaded MLflow-style code sees the
  process-wide stack exactly as before.

Every run pushed here is also kept in a process-wide registry of open context runs, so exit and
signal handling (flightlog.lifecycle) can end them like runs on the fluent stack.

This module imports only the standard library.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

_stack: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar(
    "flightlog_context_runs", default=()
)
# run id -> the ActiveRun, for every context-local run still open in this process.
_open: dict[str, Any] = {}
_open_lock = threading.Lock()


def top() -> Any | None:
    """The innermost run pushed in this context, or None."""
    stack = _stack.get()
    return stack[-1] if stack else None


def run_ids() -> list[str]:
    return [r.info.run_id for r in _stack.get()]


def contains(run_id: str) -> bool:
    return any(r.info.run_id == run_id for r in _stack.get())


def push(run: Any) -> None:
    """Make `run` the active run of this context (until `pop`)."""
    _stack.set((*_stack.get(), run))
    with _open_lock:
        _open[run.info.run_id] = run


def pop() -> Any | None:
    """Remove and return the innermost run of this context (None when there is none)."""
    stack = _stack.get()
    if not stack:
        return None
    run = stack[-1]
    _stack.set(stack[:-1])
    forget(run.info.run_id)
    return run


def forget(run_id: str) -> None:
    """Drop a run from the registry of open runs (it was ended)."""
    with _open_lock:
        _open.pop(run_id, None)


def remove(run_id: str) -> None:
    """Take `run_id` out of this context's stack wherever it is (without ending it)."""
    stack = _stack.get()
    kept = tuple(r for r in stack if r.info.run_id != run_id)
    if len(kept) != len(stack):
        _stack.set(kept)
    forget(run_id)


def open_runs() -> list[Any]:
    """Every context-local run still open, in any thread (for exit handling)."""
    with _open_lock:
        return list(_open.values())
