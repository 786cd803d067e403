"""Helpers for the fault tests: fill a disk, run a logging script in a child process, count
what a database holds."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path: Path, leave: int) -> Path:
    """Write a filler file on the disk of `path` so that only about `leave` bytes stay free."""
    filler = path / "filler.bin"
    size = max(0, free_bytes(path) - leave)
    with open(filler, "wb") as f:
        chunk = b"\0" * (1 << 20)
        while size > 0:
            f.write(chunk[: min(size, len(chunk))])
            size -= len(chunk)
    return filler


def env_for(tracking_uri: str, spool: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        FLIGHTLOG_TRACKING_URI=tracking_uri,
        FLIGHTLOG_SPOOL_DIR=str(spool),
        PYTHONUNBUFFERED="1",
    )
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(extra)
    return env


def start(code: str, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_json_line(proc: subprocess.Popen, key: str, timeout: float = 120) -> dict:
    """The next stdout line that is a JSON object holding `key` (the script prints them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            break
        line = line.strip()
        if line.startswith("{"):
            d = json.loads(line)
            if key in d:
                return d
    proc.kill()
    _, err = proc.communicate(timeout=30)
    raise AssertionError(f"the script never printed {key!r}; stderr:\n{err[-4000:]}")


def tell(proc: subprocess.Popen, word: str) -> None:
    proc.stdin.write(word + "\n")  # type: ignore[union-attr]
    proc.stdin.flush()  # type: ignore[union-attr]


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str, str, float]:
    """Wait for the script to exit: (returncode, rest of stdout, stderr, seconds waited)."""
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err, time.monotonic() - t0


def points(db: Path, run_id: str, key: str) -> list[int]:
    """The steps stored for one metric of a run, read with a plain sqlite3 connection."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT step FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step",
            (run_id, key),
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def run_status(db: Path, run_id: str) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT status FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()[0]
    finally:
        conn.close()


def sync(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flightlog.cli", "sync", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


class HangingProxy:
    """A loopback TCP proxy to a real server that can be switched to hang: from then on new
    connections are accepted and read, and never answered (a server stuck mid-request), and
    the connections already open are cut. Switched back, it forwards again."""

    def __init__(self, target_port: int):
        import socket
        import threading

        self.target_port = target_port
        self.hang = False
        self._socks: list = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def set_hang(self, hang: bool) -> None:
        self.hang = hang
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    def close(self) -> None:
        self._listener.close()
        self.set_hang(False)

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._socks.append(client)
            if self.hang:
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._socks.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _swallow(sock) -> None:
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass
