"""Run a tracking server as a child process: for tests, benchmarks and notebooks.

    with ServerProcess.flightlog(tmp_dir) as server:
        flightlog.set_tracking_uri(server.url)

The child gets its own process group, so stopping it also stops whatever workers it started
(uvicorn workers, `mlflow server`'s helpers); waits are bounded and the log goes to a file.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(
        self,
        args: Sequence[str],
        port: int,
        log_path: str | os.PathLike,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
    ):
        self.args = list(args)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = Path(log_path)
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    # --- constructors --------------------------------------------------------------------
    @classmethod
    def flightlog(
        cls,
        workdir: str | os.PathLike,
        *,
        port: int | None = None,
        backend_store_uri: str | None = None,
        artifacts_destination: str | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> ServerProcess:
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        args = [
            sys.executable,
            "-m",
            "flightlog.server",
            "--port",
            str(port),
            "--backend-store-uri",
            backend_store_uri or f"sqlite:///{workdir / 'flightlog.db'}",
            "--artifacts-destination",
            artifacts_destination or str(workdir / "artifacts"),
            "--no-access-log",
            *extra_args,
        ]
        return cls(args, port, workdir / f"flightlog-server-{port}.log", env=env, cwd=workdir)

    @classmethod
    def mlflow(
        cls,
        workdir: str | os.PathLike,
        *,
        port: int | None = None,
        backend_store_uri: str | None = None,
        extra_args: Sequence[str] = (),
    ) -> ServerProcess:
        """A real `mlflow server` (one worker, proxied artifacts, no background job runner)."""
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        args = [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            backend_store_uri or f"sqlite:///{workdir / 'mlflow.db'}",
            "--artifacts-destination",
            str(workdir / "mlartifacts"),
            *extra_args,
        ]
        env = dict(os.environ)
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        return cls(args, port, workdir / f"mlflow-server-{port}.log", env=env, cwd=workdir)

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the process and wait (at most `timeout` s) until /health answers OK."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"{self.url} is already running (pid {self.proc.pid})")
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.kill()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"Server exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            if self.is_healthy():
                return
            time.sleep(0.05)
        raise TimeoutError(
            f"{self.url}/health did not answer within {timeout} s:\n{self.log_tail()}"
        )

    def is_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)  # the child leads its own process group
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL, no clean-up: what a crash or an OOM kill does."""
        self._signal_group(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful), then SIGKILL if it is still running after `timeout` s."""
        if self.proc is None or self.proc.poll() is not None:
            self._signal_group(signal.SIGKILL)  # leftover workers, if any
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> ServerProcess:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
