"""The end of a process: nothing logged is lost and no run is left RUNNING.

`install()` (called once, when flightlog.fluent is imported) hooks:
- atexit: a normal exit ends open runs FINISHED; after an uncaught exception FAILED, after an
  uncaught KeyboardInterrupt KILLED;
- sys.excepthook: remembers which of those it was, then calls the hook that was there before;
- SIGTERM (when its handler is still the default one, or a Python handler we can chain): flushes,
  ends open runs KILLED, then dies of SIGTERM the way the default handler would. A handler the
  user installed earlier is called after the flush and keeps the last word;
- fork: a child does not end the runs it inherited (the parent owns them); a multiprocessing
  child (which leaves through os._exit, skipping atexit) finishes through multiprocessing's
  finalizers instead.

Every exit path runs `finish(status)`: flush with a deadline (FLIGHTLOG_FLUSH_TIMEOUT, default
30 s), end the open runs, spool whatever could not be written and say once how much and where.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading

from flightlog.entities import RunStatus

_installed = False
_finished = False
_exit_status: str | None = None
_in_sigterm = False
_signal_received = False
_previous_excepthook = None
_previous_sigterm = None
# Runs that were open when this process was forked from its parent: the parent ends them.
_inherited_runs: frozenset[str] = frozenset()


def install() -> None:
    """Hook exit, uncaught exceptions, SIGTERM and fork (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(_at_exit)
    _install_excepthook()
    _install_sigterm()
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)


def killed() -> bool:
    """Whether this process is ending because of SIGTERM (runs it ends are KILLED)."""
    return _exit_status == RunStatus.KILLED and _signal_received


def _flush_timeout() -> float:
    from flightlog.config import env_float

    return env_float("FLIGHTLOG_FLUSH_TIMEOUT", 30.0)


def finish(status: str) -> None:
    """Flush (bounded), end this process's open runs with `status`, spool the rest. Runs once."""
    global _finished
    if _finished:
        return
    _finished = True
    from flightlog.queue import get_logging_queue

    queue = get_logging_queue()
    try:
        queue.begin_shutdown(_flush_timeout())
        _end_open_runs(status)
    finally:
        queue.end_shutdown()
        # Last: the SQLite WAL folded into the .db file, so the .db alone is complete.
        queue.checkpoint_stores()


def _end_open_runs(status: str) -> None:
    from flightlog import fluent

    while True:
        with fluent._lock:
            if not fluent._active_runs:
                return
            run_id = fluent._active_runs[-1].info.run_id
            if run_id in _inherited_runs:
                return
        try:
            fluent.end_run(status)  # pops the run first, so this loop always moves on
        except Exception as exc:  # noqa: BLE001 - exiting: report and end the others
            import logging

            logging.getLogger("flightlog").warning(
                "flightlog: could not mark run %s %s at exit: %s", run_id, status, exc
            )


# --- normal exit and uncaught exceptions -----------------------------------------------------
def _at_exit() -> None:
    finish(_exit_status or _status_from_last_exception() or RunStatus.FINISHED)


def _status_from_last_exception() -> str | None:
    """For programs that replaced sys.excepthook without chaining ours: the interpreter still
    records the uncaught exception in sys.last_type before exiting (scripts only; in a REPL that
    only means some earlier command failed)."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return None
    exc_type = getattr(sys, "last_type", None)
    if exc_type is None:
        return None
    return _status_for(exc_type)


def _status_for(exc_type: type) -> str:
    return RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED


def _install_excepthook() -> None:
    global _previous_excepthook
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook


def _excepthook(exc_type, exc, tb) -> None:
    global _exit_status
    if _exit_status is None:  # a SIGTERM that came first keeps KILLED
        _exit_status = _status_for(exc_type)
    previous = _previous_excepthook or sys.__excepthook__
    previous(exc_type, exc, tb)


# --- SIGTERM ------------------------------------------------------------------------------
def _install_sigterm() -> None:
    global _previous_sigterm
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers; the atexit path still covers exits
    try:
        current = signal.getsignal(signal.SIGTERM)
    except (AttributeError, ValueError):
        return
    # SIG_IGN: the program chose to ignore SIGTERM. None: a handler set from C we cannot chain.
    if current is signal.SIG_IGN or current is None:
        return
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):
        return
    _previous_sigterm = current


def _on_sigterm(signum: int, frame) -> None:
    global _exit_status, _in_sigterm, _signal_received
    if _in_sigterm:  # a second SIGTERM while we flush: stop at once
        _die(signum)
    _in_sigterm = True
    _signal_received = True
    _exit_status = RunStatus.KILLED
    previous = _previous_sigterm
    if callable(previous):
        # The user's handler decides what happens next (it may exit hard): flush first.
        from flightlog.queue import get_logging_queue

        get_logging_queue().flush(timeout=_flush_timeout())
        _in_sigterm = False
        previous(signum, frame)
        return
    finish(RunStatus.KILLED)
    _die(signum)


def _die(signum: int) -> None:
    """Terminate as the default handler would: by the signal itself (exit status 128+n)."""
    try:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    finally:
        os._exit(128 + signum)


# --- fork -----------------------------------------------------------------------------------
class _Token:
    """Something multiprocessing's after-fork registry can hold a weak reference to."""


_MP_TOKEN = _Token()


def _after_fork_in_child() -> None:
    global _inherited_runs, _finished, _exit_status, _in_sigterm, _signal_received
    from flightlog import client, config, fluent

    # Locks another parent thread held at fork time stay locked forever in the child.
    for lock in (fluent._lock, client._writable_lock, config._lock):
        reinit = getattr(lock, "_at_fork_reinit", None)
        if reinit is not None:
            reinit()
    _inherited_runs = frozenset(r.info.run_id for r in fluent._active_runs)
    _finished = False
    _exit_status = None
    _in_sigterm = _signal_received = False
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        # Runs after multiprocessing clears the inherited finalizers in a Process child.
        mp_util.register_after_fork(_MP_TOKEN, _register_mp_finalizer)


def _register_mp_finalizer(_token: object) -> None:
    import multiprocessing.util as mp_util

    mp_util.Finalize(_MP_TOKEN, _at_mp_exit, exitpriority=10)


def _at_mp_exit() -> None:
    finish(_exit_status or RunStatus.FINISHED)
