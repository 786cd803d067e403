"""Helpers for the logging-queue tests: a second connection that locks the SQLite database,
and runners for scripts and for the `flightlog` command."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path


class DbLock:
    """A second sqlite3 connection holding the database's write lock (BEGIN EXCLUSIVE)."""

    def __init__(self, path: str):
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.held = False

    def acquire(self) -> None:
        self.conn.execute("BEGIN EXCLUSIVE")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.conn.execute("ROLLBACK")
            self.held = False

    def release_after(self, seconds: float) -> threading.Thread:
        def later() -> None:
            time.sleep(seconds)
            self.release()

        thread = threading.Thread(target=later, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.release()
        self.conn.close()


def script_env(tracking_uri: str, spool: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        FLIGHTLOG_TRACKING_URI=tracking_uri,
        FLIGHTLOG_SPOOL_DIR=str(spool),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_script(code: str, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(proc: subprocess.Popen, prefix: str, timeout: float = 300) -> str:
    """The first stdout line starting with `prefix` (the script is expected to print it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            break
        if line.startswith(prefix):
            return line.strip()
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"script never printed {prefix!r}; stderr:\n{err}")


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flightlog.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
