"""Process-wide settings: the tracking URI and the environment variables that steer flightlog."""

from __future__ import annotations

import os
import threading
from pathlib import Path

DEFAULT_ROOT_DIRNAME = "flightlog-runs"

_lock = threading.Lock()
_tracking_uri: str | None = None


def default_tracking_uri() -> str:
    """The embedded store: a SQLite file under ./flightlog-runs, resolved to an absolute path
    so a later chdir() does not move it."""
    root = Path.cwd() / DEFAULT_ROOT_DIRNAME
    return f"sqlite:///{root / 'flightlog.db'}"


def default_artifact_root_for(tracking_uri: str) -> str:
    """Where artifacts go when the store does not say: beside the SQLite file, else ./flightlog-runs."""
    if tracking_uri.startswith("sqlite:///"):
        db_path = tracking_uri[len("sqlite:///") :].split("?", 1)[0]
        if db_path and db_path != ":memory:":
            return (Path(db_path).resolve().parent / "artifacts").as_uri()
    return (Path.cwd() / DEFAULT_ROOT_DIRNAME / "artifacts").resolve().as_uri()


def set_tracking_uri(uri: str | os.PathLike | None) -> None:
    """Point this process at a store. A plain directory path means a SQLite store inside it."""
    global _tracking_uri
    with _lock:
        _tracking_uri = None if uri is None else _normalize(str(uri))


def get_tracking_uri() -> str:
    with _lock:
        if _tracking_uri is not None:
            return _tracking_uri
    env = os.environ.get("FLIGHTLOG_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return _normalize(env)
    return default_tracking_uri()


def is_tracking_uri_set() -> bool:
    return _tracking_uri is not None or bool(
        os.environ.get("FLIGHTLOG_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI")
    )


def _normalize(uri: str) -> str:
    if "://" in uri or uri.startswith(("sqlite:", "databricks")):
        if uri.startswith("file:"):
            # MLflow's file store is not supported; keep the data in a SQLite file in that folder.
            from urllib.parse import urlparse
            from urllib.request import url2pathname

            path = Path(url2pathname(urlparse(uri).path))
            return f"sqlite:///{path.resolve() / 'flightlog.db'}"
        return uri
    # A bare path: a folder to keep the embedded store in.
    return f"sqlite:///{Path(uri).resolve() / 'flightlog.db'}"


def env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        return default
