"""A real S3 API on loopback: moto's server mode as a child process, one per test module."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flightlog.server.process import free_port


class MotoServer:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"moto-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> MotoServer:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"moto server did not answer within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)


S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory) -> Iterator[MotoServer]:
    pytest.importorskip("boto3")
    pytest.importorskip("moto")
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(moto_server, monkeypatch) -> dict[str, str]:
    """Credentials and the endpoint in this process's environment (boto3 reads them)."""
    env = {**S3_ENV, "FLIGHTLOG_S3_ENDPOINT_URL": moto_server.url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("MLFLOW_S3_ENDPOINT_URL", raising=False)
    return env


@pytest.fixture
def bucket(s3_env) -> str:
    """A new bucket per test on the module's moto server."""
    import boto3

    name = f"flightlog-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=os.environ["FLIGHTLOG_S3_ENDPOINT_URL"]).create_bucket(
        Bucket=name
    )
    return name


@pytest.fixture
def s3(s3_env):
    import boto3

    return boto3.client("s3", endpoint_url=os.environ["FLIGHTLOG_S3_ENDPOINT_URL"])
