"""The server's database at start and under /health (issue 12 items 12, 14).

Real files, real faults: a zeroed, truncated or garbage SQLite file, a database from a newer
flightlog, one created by the real MLflow package, a read-only file system (a tmpfs remounted
read-only), plain `postgresql://` URIs, and a server SIGKILLed in the middle of an upload.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from flightlog.server.process import ServerProcess, free_port

API = "/api/2.0/mlflow"


def _server_cli(db: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`flightlog server` on `db`, expected to refuse to start (so it returns)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "flightlog.cli",
            "server",
            "--port",
            str(free_port()),
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--artifacts-destination",
            str(db.parent / "artifacts"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.startswith(db.name))


def _flightlog_db(path: Path) -> Path:
    from flightlog.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{path}", default_artifact_root=path.parent.as_uri())
    store.create_experiment("kept")
    store.close()
    # Back to a rollback journal, so that a switch to WAL would show in the header.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    return path


def _assert_refused(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0, result
    err = result.stderr
    assert "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("damage", ["zeroed", "truncated", "garbage", "truncated-header"])
def test_damaged_databases_are_refused_untouched(tmp_path, damage):
    db = _flightlog_db(tmp_path / "flightlog.db")
    data = db.read_bytes()
    if damage == "zeroed":
        db.write_bytes(b"\0" * len(data))
    elif damage == "truncated":
        db.write_bytes(data[: len(data) // 2])
    elif damage == "truncated-header":
        db.write_bytes(data[:40])
    else:
        db.write_bytes(os.urandom(len(data)))
    before = _digest(db)
    result = _server_cli(db)
    expected = {
        "zeroed": "zeroed",
        "truncated": "truncated",
        "truncated-header": "truncated",
        "garbage": "not a SQLite database",
    }[damage]
    _assert_refused(result, "error:", str(db), expected)
    assert _digest(db) == before
    assert _siblings(db) == ["flightlog.db"]


def test_newer_flightlog_database_is_refused_without_being_switched_to_wal(tmp_path):
    db = _flightlog_db(tmp_path / "flightlog.db")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    conn.commit()
    conn.close()
    before = _digest(db)
    result = _server_cli(db)
    _assert_refused(result, "ffff_from_the_future", "newer flightlog", "untouched")
    assert _digest(db) == before
    assert db.read_bytes()[18:20] == b"\x01\x01"  # still a rollback-journal database
    assert _siblings(db) == ["flightlog.db"]


MLFLOW_CREATE = textwrap.dedent(
    """
    import sys
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=sys.argv[1])
    client.create_experiment("made-by-mlflow")
    """
)


def test_mlflow_database_is_refused_untouched(tmp_path):
    db = tmp_path / "mlflow.db"
    subprocess.run(
        [sys.executable, "-c", MLFLOW_CREATE, f"sqlite:///{db}"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    conn = sqlite3.connect(db)
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    before, siblings = _digest(db), _siblings(db)
    result = _server_cli(db)
    _assert_refused(result, "created by MLflow", "untouched")
    assert _digest(db) == before
    assert _siblings(db) == siblings
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == mode  # not switched to WAL
    conn.close()


@pytest.fixture
def read_only_mount(tmp_path):
    """A small tmpfs holding a flightlog database, then remounted read-only (needs root)."""
    mount = tmp_path / "ro"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"cannot mount a tmpfs: {made.stderr!r}")
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        from flightlog.store.sql import SqlStore

        db = mount / "flightlog.db"
        store = SqlStore(f"sqlite:///{db}", default_artifact_root=mount.as_uri())
        exp = store.create_experiment("frozen")
        run = store.create_run(exp, "me", 1, [], "r1")
        from flightlog.entities import Metric, Param

        store.log_batch(run.info.run_id, metrics=[Metric("m", 0.5, 1, 0)], params=[Param("p", "v")])
        store.close()
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield db, run.info.run_id
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_read_only_database_is_refused_by_the_server_but_readable(read_only_mount):
    db, run_id = read_only_mount
    result = _server_cli(db)
    _assert_refused(result, "read-only")

    from flightlog.entities import Metric
    from flightlog.exceptions import PermissionDeniedError
    from flightlog.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{db}", default_artifact_root=db.parent.as_uri())
    try:
        run = store.get_run(run_id)
        assert run.data.params == {"p": "v"}
        assert run.data.metrics == {"m": 0.5}
        assert [r.info.run_id for r in store.search_runs([run.info.experiment_id])] == [run_id]
        assert store.read_only
        with pytest.raises(PermissionDeniedError, match="read-only"):
            store.log_batch(run_id, metrics=[Metric("m", 1.0, 2, 1)])
    finally:
        store.close()


def test_health_fails_when_the_database_goes_bad(tmp_path):
    proc = ServerProcess.flightlog(tmp_path / "srv")
    proc.start(timeout=60)
    try:
        assert requests.get(f"{proc.url}/health", timeout=30).text == "OK"
        db = tmp_path / "srv" / "flightlog.db"
        conn = sqlite3.connect(db)
        conn.execute("DROP TABLE alembic_version")
        conn.commit()
        conn.close()
        response = requests.get(f"{proc.url}/health", timeout=30)
        assert response.status_code == 503
        assert response.text.startswith("UNHEALTHY")
    finally:
        proc.stop()


def test_plain_postgresql_uri_works(tmp_path, postgres_uri):
    plain = postgres_uri.replace("postgresql+psycopg2://", "postgresql://")
    assert plain.startswith("postgresql://")
    proc = ServerProcess.flightlog(tmp_path / "srv", backend_store_uri=plain)
    proc.start(timeout=90)
    try:
        created = requests.post(
            f"{proc.url}{API}/experiments/create", json={"name": "pg-plain"}, timeout=30
        )
        assert created.status_code == 200, created.text
        page = requests.get(f"{proc.url}/", timeout=30)
        assert page.status_code == 200
        assert "pg-plain" in page.text
    finally:
        proc.stop()


def test_unreachable_database_is_one_clear_line(tmp_path):
    port = free_port()  # nothing listens there
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flightlog.cli",
            "server",
            "--port",
            str(free_port()),
            "--backend-store-uri",
            f"postgresql://someone:topsecret@127.0.0.1:{port}/nothing",
            "--artifacts-destination",
            str(tmp_path / "a"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_refused(result, "error:", "tracking database", "127.0.0.1")
    assert "topsecret" not in result.stderr


# --- item 14: upload temp files left by a killed server ----------------------------------------


def _temp_uploads(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.upload") if p.is_file()]


def test_killed_upload_temp_file_is_swept_at_restart(tmp_path):
    workdir = tmp_path / "srv"
    port = free_port()
    proc = ServerProcess.flightlog(workdir, port=port)
    proc.start(timeout=60)
    root = workdir / "artifacts"
    size = 20 * 1024 * 1024
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        head = (
            f"PUT /api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/big.bin HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nContent-Length: {size}\r\n\r\n"
        ).encode()
        sock.sendall(head + b"x" * (4 * 1024 * 1024))
        deadline = time.monotonic() + 60
        while not _temp_uploads(root) and time.monotonic() < deadline:
            time.sleep(0.05)
        temps = _temp_uploads(root)
        assert len(temps) == 1
        os.killpg(proc.pid, signal.SIGKILL)
        proc.proc.wait(timeout=30)
    finally:
        sock.close()
    assert temps[0].exists()  # what a SIGKILL leaves behind
    # A temp file of a live writer (this test process, this host) is not touched.
    from flightlog.server import artifact_store

    live = root / "0" / f".{'a' * 32}.{artifact_store._upload_owner()}.upload"
    live.write_bytes(b"in progress")

    restarted = ServerProcess.flightlog(workdir, port=free_port())
    restarted.start(timeout=60)
    try:
        deadline = time.monotonic() + 60
        while temps[0].exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not temps[0].exists()
        assert live.exists()
        assert not (root / "0" / "r" / "artifacts" / "big.bin").exists()
        listing = requests.get(
            f"{restarted.url}/api/2.0/mlflow-artifacts/artifacts",
            params={"path": "0"},
            timeout=30,
        ).json()
        assert all(not f["path"].endswith(".upload") for f in listing.get("files", []))
    finally:
        restarted.stop()
