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
}

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

    @classmethod
    def build(
        cls,
        backend_store_uri: str | None = None,
        artifacts_destination: str | None = None,
        auth_token: str | None = None,
        max_json_bytes: int | None = None,
        max_artifact_bytes: int | None = None,
    ) -> ServerSettings:
        """Fill what was not given with the defaults (SQLite under ./flightlog-runs)."""
        from flightlog.config import _normalize, default_artifact_root_for, default_tracking_uri

        uri = _normalize(backend_store_uri) if backend_store_uri else default_tracking_uri()
        if not artifacts_destination:
            artifacts_destination = default_artifact_root_for(uri)
        elif "://" not in artifacts_destination and not artifacts_destination.startswith("file:"):
            artifacts_destination = os.path.abspath(artifacts_destination)
        token = auth_token or os.environ.get("FLIGHTLOG_SERVER_TOKEN") or None
        return cls(
            backend_store_uri=uri,
            artifacts_destination=artifacts_destination,
            auth_token=token,
            max_json_bytes=max_json_bytes or DEFAULT_MAX_JSON_BYTES,
            max_artifact_bytes=max_artifact_bytes or DEFAULT_MAX_ARTIFACT_BYTES,
        )

    def to_env(self) -> dict[str, str]:
        env = {}
        for field, name in _ENV.items():
            value = getattr(self, field)
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
        )
