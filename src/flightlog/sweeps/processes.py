"""Which process owns a trial or a sweep membership, and whether it is still alive.

A trial's child run and a sweep member record their host, pid and the process's start time
(Linux `/proc/<pid>/stat` field 22, so a reused pid is not mistaken for the original process).
Liveness can only be checked on the same host; a process on another host counts as alive
until its own membership says it closed.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache


@lru_cache(maxsize=1)
def hostname() -> str:
    return socket.gethostname() or "localhost"


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    close = text.rfind(")")
    return text[close + 2 :].split() if close >= 0 else None


def start_token(pid: int | None = None) -> str:
    """An id of the process's start (empty where /proc is not available)."""
    fields = _stat_fields(os.getpid() if pid is None else pid)
    # After the name: state is fields[0], starttime (field 22 overall) is fields[19].
    return fields[19] if fields and len(fields) > 19 else ""


def identity() -> dict[str, object]:
    """This process, as recorded on trials and memberships."""
    pid = os.getpid()
    return {"host": hostname(), "pid": pid, "start": start_token(pid)}


def is_alive(host: str, pid: int, start: str = "") -> bool:
    """Whether the process is still running; True when that cannot be checked (another host)."""
    if host != hostname():
        return True
    if pid == os.getpid():
        return start in ("", start_token())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return True
    fields = _stat_fields(pid)
    if fields is None:
        return os.path.exists(f"/proc/{pid}") or not os.path.isdir("/proc")
    if fields[0] in ("Z", "X"):  # a zombie: killed, not yet waited for by its parent
        return False
    return not start or len(fields) <= 19 or fields[19] == start
