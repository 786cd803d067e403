"""Deferred autolog work (rendering plots) on one daemon thread, so `fit` returns sooner.

Only work whose inputs are already computed and private goes here (arrays for a confusion
matrix, never the user's model, which may be refit the moment `fit` returns). `flightlog.flush()`
and interpreter exit wait for it; a forked child starts with an empty queue.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

from flightlog.autolog import reporting

_EXIT_WAIT_S = 30.0


class _Worker:
    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._errors: list[tuple[str, str, BaseException]] = []

    def submit(self, integration: str, what: str, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="flightlog-autolog-background", daemon=True
                )
                self._thread.start()
        self._jobs.put((integration, what, fn, args))

    def _loop(self) -> None:
        while True:
            integration, what, fn, args = self._jobs.get()
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported from wait() or as a warning
                with self._lock:
                    self._errors.append((integration, what, exc))
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self._lock:
            done = self._idle.wait_for(lambda: self._pending == 0, timeout)
            errors, self._errors = self._errors, []
        for integration, what, exc in errors:
            reporting.report(integration, what, exc)
        return done


_worker = _Worker()


def submit(integration: str, what: str, fn: Callable[..., Any], *args: Any) -> None:
    """Run `fn(*args)` on the background thread; a failure is reported like any autolog fault."""
    _worker.submit(integration, what, fn, *args)


def wait_for_background(timeout: float | None = None) -> bool:
    """Wait until deferred autolog work is done; False if `timeout` ran out first. Faults in
    that work are reported here (raised in test mode)."""
    return _worker.wait(timeout)


def _reset_after_fork() -> None:
    global _worker
    _worker = _Worker()


def _wait_at_exit() -> None:
    try:
        _worker.wait(_EXIT_WAIT_S)
    except Exception:  # noqa: BLE001 - never fail interpreter exit
        pass


atexit.register(_wait_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
