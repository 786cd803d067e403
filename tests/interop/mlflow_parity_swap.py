"""A pytest plugin for MLflow's own test suite: every MLflow tracking server its fixtures start
as a child process becomes a `flightlog server` with the same backend store URI, artifact root
and port. Loaded by mlflow_parity.py with `-p mlflow_parity_swap`; not a test module.

MLflow's fixtures have launched the server several ways across versions (`python -m mlflow
server ...`, `mlflow server ...`, `python -m flask --app mlflow.server:app run ...`, `python -m
uvicorn mlflow.server.fastapi_app:app ...`, `python -c "from mlflow.server import app;
app.run(host, port)"`), passing the store and artifact root as options or as the
`_MLFLOW_SERVER_*` environment variables. This plugin wraps `subprocess.Popen` before MLflow's
test modules import it and rewrites any such command line; other commands pass untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BACKEND_ENV = "_MLFLOW_SERVER_FILE_STORE"
ARTIFACT_ROOT_ENV = "_MLFLOW_SERVER_ARTIFACT_ROOT"
DESTINATION_ENV = "_MLFLOW_SERVER_ARTIFACT_DESTINATION"
SWAP_LOG_ENV = "FLIGHTLOG_PARITY_SWAP_LOG"

_OPTION_NAMES = {
    "--host": "host",
    "-h": "host",
    "--port": "port",
    "-p": "port",
    "--backend-store-uri": "backend",
    "--default-artifact-root": "root",
    "--artifacts-destination": "destination",
}


def _is_mlflow_server(argv: list[str]) -> bool:
    text = " ".join(argv)
    if "mlflow_parity_swap" in text or "flightlog" in text:
        return False
    if re.search(r"(^|[\s/])mlflow(\.exe)?\s+server\b", text):
        return True
    if "-m mlflow server" in text or "-m mlflow.server" in text:
        return True
    if "mlflow.server" in text and ("flask" in text or "uvicorn" in text or "gunicorn" in text):
        return True
    return "from mlflow.server import app" in text


def _options(argv: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if name in _OPTION_NAMES:
            if not eq and i + 1 < len(argv):
                value = argv[i + 1]
            found[_OPTION_NAMES[name]] = value
    for arg in argv:  # app.run("127.0.0.1", 5123) inside a -c program
        match = re.search(r"app\.run\(\s*['\"]([^'\"]+)['\"]\s*,\s*(\d+)", arg)
        if match:
            found.setdefault("host", match.group(1))
            found.setdefault("port", match.group(2))
    return found


def _local(uri: str) -> str | None:
    if uri.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(uri).path)
    if "://" not in uri and not uri.startswith("mlflow-artifacts:"):
        return uri
    return None


def flightlog_command(argv: list[str], env: dict[str, str]) -> list[str]:
    """The `flightlog server` command line for an MLflow server command line + environment."""
    opts = _options(argv)
    backend = opts.get("backend") or env.get(BACKEND_ENV) or "sqlite:///mlflow.db"
    folder = _local(backend)
    if folder is not None:  # MLflow's file store: flightlog keeps a SQLite file in that folder
        Path(folder).mkdir(parents=True, exist_ok=True)
        backend = f"sqlite:///{Path(folder).resolve() / 'flightlog.db'}"
    root = opts.get("root") or env.get(ARTIFACT_ROOT_ENV)
    destination = opts.get("destination") or env.get(DESTINATION_ENV)
    args = [
        sys.executable,
        "-m",
        "flightlog.server",
        "--host",
        opts.get("host", "127.0.0.1"),
        "--port",
        opts.get("port", "5000"),
        "--backend-store-uri",
        backend,
        "--allowed-hosts",
        "*",
        "--no-access-log",
    ]
    if root and not root.startswith("mlflow-artifacts:"):
        args += ["--default-artifact-root", root]
        destination = destination or root
    if destination:
        args += ["--artifacts-destination", destination]
    return args


class _SwappingPopen(subprocess.Popen):
    def __init__(self, args, *rest, **kwargs):
        argv = [args] if isinstance(args, (str, bytes)) else list(args)
        argv = [a.decode() if isinstance(a, bytes) else str(a) for a in argv]
        if len(argv) == 1 and kwargs.get("shell"):
            argv = argv[0].split()
        if _is_mlflow_server(argv):
            env = dict(kwargs.get("env") or os.environ)
            swapped = flightlog_command(argv, env)
            log = os.environ.get(SWAP_LOG_ENV)
            if log:
                with open(log, "a") as f:
                    f.write(" ".join(argv) + "\n  -> " + " ".join(swapped) + "\n")
            kwargs["shell"] = False
            args = swapped
        super().__init__(args, *rest, **kwargs)


# At import: `-p` loads this before MLflow's conftest files, which may `from subprocess import
# Popen` themselves.
subprocess.Popen = _SwappingPopen  # type: ignore[misc]
