"""What a server was started with.

The CLI builds a ServerSettings; with several workers each worker process rebuilds it from the
environment (uvicorn starts workers by importing an app factory), so `to_env`/`from_env` are the
one way settings travel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIB = 1024 * 1024
DEFAULT_MAX_JSON_BYTES = 16 * MIB
DEFAULT_MAX_ARTIFACT_BYTES = 100 * MIB

_ENV = {
    "backend_store_uri": "FLIGHTLOG_SERVER_BACKEND_STORE_URI",
    "artifacts_destination": "FLIGHTLOG_SERVER_ARTIFACTS_DESTINATION",
    "auth_token": "FLIGHTLOG_SERVER_TOKEN",
    "max_json_bytes": "FLIGHTLOG_SERVER_MAX_JSON_BYTES",
    "max_artifact_bytes": "FLIGHTLOG_SERVER_MAX_ARTIFACT_BYTES",
    "bind_host": "FLIGHTLOG_SERVER_BIND_HOST",
    "allowed_hosts": "FLIGHTLOG_SERVER_ALLOWED_HOSTS",
    "cors_allowed_origins": "FLIGHTLOG_SERVER_CORS_ALLOWED_ORIGINS",
    "session_dir": "FLIGHTLOG_SERVER_SESSION_DIR",
    "statement_timeout_s": "FLIGHTLOG_SERVER_STATEMENT_TIMEOUT_S",
    "default_artifact_root": "FLIGHTLOG_SERVER_DEFAULT_ARTIFACT_ROOT",
}
# Read by `build` when no token is given: the token itself, or a file holding it (neither shows
# in the process list, as a command-line argument does).
TOKEN_ENV = "FLIGHTLOG_SERVER_TOKEN"
TOKEN_FILE_ENV = "FLIGHTLOG_SERVER_TOKEN_FILE"
# How long one SQL statement of a request may run on PostgreSQL/MySQL before the database
# cancels it (a pathological search must not hold a connection and a CPU for minutes).
DEFAULT_STATEMENT_TIMEOUT_S = 30.0
_TUPLE_FIELDS = ("allowed_hosts", "cors_allowed_origins")

# The artifact root the server gives new experiments: clients resolve it against the tracking
# URI and upload through the proxy, exactly as with `mlflow server`'s defaults.
PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:/"


@dataclass(frozen=True)
class ServerSettings:
    backend_store_uri: str
    artifacts_destination: str
    auth_token: str | None = None
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES
    # The address the server listens on (None: not known, e.g. an app built for a test).
    bind_host: str | None = None
    # Host names accepted beyond the defaults (see flightlog.server.guard); "*" accepts any.
    allowed_hosts: tuple[str, ...] = ()
    # Origins whose pages may call the API (CORS); empty: none but the server's own.
    cors_allowed_origins: tuple[str, ...] = ()
    # Where web UI sessions live when several worker processes must share them.
    session_dir: str | None = None
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S
    # Where new experiments' artifacts go (`<root>/<experiment id>`) instead of the proxied
    # `mlflow-artifacts:/<id>`: a folder, file:// or an object-store URI (--default-artifact-root).
    default_artifact_root: str | None = None

    @classmethod
    def build(
        cls,
        backend_store_uri: str | None = None,
        artifacts_destination: str | None = None,
        auth_token: str | None = None,
        max_json_bytes: int | None = None,
        max_artifact_bytes: int | None = None,
        *,
        auth_token_file: str | None = None,
        bind_host: str | None = None,
        allowed_hosts: str | tuple[str, ...] | list[str] | None = None,
        cors_allowed_origins: str | tuple[str, ...] | list[str] | None = None,
        session_dir: str | None = None,
        statement_timeout_s: float | None = None,
        default_artifact_root: str | None = None,
    ) -> ServerSettings:
        """Fill what was not given with the defaults (SQLite under ./flightlog-runs)."""
        from flightlog.config import _normalize, default_artifact_root_for, default_tracking_uri

        uri = _normalize(backend_store_uri) if backend_store_uri else default_tracking_uri()
        if not artifacts_destination:
            artifacts_destination = default_artifact_root_for(uri)
        elif "://" not in artifacts_destination and not artifacts_destination.startswith("file:"):
            artifacts_destination = os.path.abspath(artifacts_destination)
        token = (
            auth_token
            or read_token_file(auth_token_file or os.environ.get(TOKEN_FILE_ENV))
            or os.environ.get(TOKEN_ENV)
            or None
        )
        return cls(
            backend_store_uri=uri,
            artifacts_destination=artifacts_destination,
            auth_token=token,
            max_json_bytes=max_json_bytes or DEFAULT_MAX_JSON_BYTES,
            max_artifact_bytes=max_artifact_bytes or DEFAULT_MAX_ARTIFACT_BYTES,
            bind_host=bind_host,
            allowed_hosts=_names(allowed_hosts),
            cors_allowed_origins=_names(cors_allowed_origins),
            session_dir=session_dir,
            statement_timeout_s=(
                DEFAULT_STATEMENT_TIMEOUT_S if statement_timeout_s is None else statement_timeout_s
            ),
            default_artifact_root=_artifact_root(default_artifact_root),
        )

    def to_env(self) -> dict[str, str]:
        env = {}
        for field, name in _ENV.items():
            value = getattr(self, field)
            if field in _TUPLE_FIELDS:
                value = ",".join(value) or None
            if value is not None:
                env[name] = str(value)
        return env

    @classmethod
    def from_env(cls) -> ServerSettings:
        def number(name: str) -> int | None:
            raw = os.environ.get(name)
            return int(raw) if raw else None

        return cls.build(
            backend_store_uri=os.environ.get(_ENV["backend_store_uri"]),
            artifacts_destination=os.environ.get(_ENV["artifacts_destination"]),
            auth_token=os.environ.get(_ENV["auth_token"]),
            max_json_bytes=number(_ENV["max_json_bytes"]),
            max_artifact_bytes=number(_ENV["max_artifact_bytes"]),
            bind_host=os.environ.get(_ENV["bind_host"]),
            allowed_hosts=os.environ.get(_ENV["allowed_hosts"]),
            cors_allowed_origins=os.environ.get(_ENV["cors_allowed_origins"]),
            session_dir=os.environ.get(_ENV["session_dir"]),
            statement_timeout_s=(
                float(os.environ[_ENV["statement_timeout_s"]])
                if os.environ.get(_ENV["statement_timeout_s"])
                else None
            ),
            default_artifact_root=os.environ.get(_ENV["default_artifact_root"]),
        )


def _artifact_root(value: str | None) -> str | None:
    """A plain folder becomes an absolute path (as MLflow resolves one); URIs stay as given."""
    if not value:
        return None
    if "://" in value or value.startswith(("file:", "mlflow-artifacts:")):
        return value.rstrip("/") or value
    return os.path.abspath(value)


def _names(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A comma-separated list (CLI, environment) or a sequence, as a tuple of trimmed names."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(item.strip() for item in items if item and item.strip())


def read_token_file(path: str | None) -> str | None:
    """The token in `path` (surrounding whitespace dropped), or None when no path is given."""
    from flightlog.exceptions import InvalidParameterError

    if not path:
        return None
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as exc:
        raise InvalidParameterError(
            f"Cannot read the auth token file {path!r}: {exc.strerror or exc}"
        ) from exc
    if not token:
        raise InvalidParameterError(f"The auth token file {path!r} is empty")
    return token
