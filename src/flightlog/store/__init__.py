"""Tracking backends, chosen by the tracking URI's scheme.

`get_store(uri)` returns one shared store per URI per process, so connection pools are reused.
"""

from __future__ import annotations

import os
import threading

from flightlog.exceptions import UnsupportedUriError
from flightlog.store.base import AbstractStore

_SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql")
_REST_SCHEMES = ("http", "https")

_stores: dict[str, AbstractStore] = {}
_lock = threading.Lock()


def _scheme(uri: str) -> str:
    head = uri.split(":", 1)[0].lower()
    return head.split("+", 1)[0]


# SQLAlchemy's default driver per scheme, and the one to use instead when only that one is
# installed (our extras install psycopg2 and PyMySQL; users type plain `postgresql://`).
_DRIVER_FALLBACKS = {
    "postgresql": (("psycopg",), "psycopg2", "psycopg2"),
    "postgres": (("psycopg",), "psycopg2", "psycopg2"),
    "mysql": (("MySQLdb",), "pymysql", "pymysql"),
    "mariadb": (("MySQLdb",), "pymysql", "pymysql"),
}


def with_installed_driver(uri: str) -> str:
    """`postgresql://...` -> `postgresql+psycopg2://...` when SQLAlchemy's default driver is
    missing but the one our extras install is present; URIs that name a driver are untouched."""
    head, sep, rest = uri.partition("://")
    if not sep or "+" in head:
        return uri
    fallback = _DRIVER_FALLBACKS.get(head.lower())
    if fallback is None:
        return uri
    import importlib.util

    defaults, module, driver = fallback
    if any(importlib.util.find_spec(d) for d in defaults) or not importlib.util.find_spec(module):
        return uri
    scheme = "postgresql" if head.lower() == "postgres" else head.lower()
    return f"{scheme}+{driver}://{rest}"


def _build_store(uri: str) -> AbstractStore:
    scheme = _scheme(uri)
    if scheme in _SQL_SCHEMES:
        from flightlog.config import default_artifact_root_for
        from flightlog.store.sql import SqlStore

        db_uri = with_installed_driver(uri)
        return SqlStore(db_uri, default_artifact_root=default_artifact_root_for(db_uri))
    if scheme in _REST_SCHEMES:
        try:
            from flightlog.store.rest import RestStore
        except ImportError as exc:  # pragma: no cover - until the REST store lands
            raise UnsupportedUriError(f"HTTP tracking URIs are not supported yet: {exc}") from exc
        return RestStore(uri)
    raise UnsupportedUriError(
        f"Unsupported tracking URI {uri!r}: use sqlite:///path.db, postgresql://..., "
        "mysql+pymysql://..., or http(s)://host:port"
    )


def get_store(uri: str | None = None) -> AbstractStore:
    """The shared store for `uri` (default: the current tracking URI)."""
    if uri is None:
        from flightlog.config import get_tracking_uri

        uri = get_tracking_uri()
    store = _stores.get(uri)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(uri)
        if store is None:
            store = _build_store(uri)
            _stores[uri] = store
        return store


def _reset_stores_after_fork() -> None:
    for store in list(_stores.values()):
        try:
            store.reset_after_fork()
        except Exception:  # noqa: BLE001 - a child must start even if cleanup fails
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_stores_after_fork)

__all__ = ["AbstractStore", "get_store"]
