"""Starting the server under uvicorn, with one worker in-process or several worker processes."""

from __future__ import annotations

import logging
import os

from flightlog.server.settings import ServerSettings

log = logging.getLogger("flightlog.server")


def open_checked_store(settings: ServerSettings):
    """The server's store, opened, migrated and checked; FlightlogError says what is wrong."""
    from flightlog.exceptions import FlightlogError, StoreUnavailableError
    from flightlog.server.app import build_store
    from flightlog.server.errors import redact_uri_passwords

    store = build_store(settings)
    try:
        store.engine  # noqa: B018 - opens: validates the file, migrates, creates Default
        if getattr(store, "read_only", False):
            raise FlightlogError(
                f"The tracking database {store!r} is read-only for this process, and the server "
                "must write to it: make the file and its folder writable (a read-only copy can "
                "still be read with flightlog's Python API)"
            )
        store.check_health()
    except FlightlogError as exc:
        store.close()
        exc.message = redact_uri_passwords(exc.message)
        raise
    except Exception as exc:  # noqa: BLE001 - driver errors: one line instead of a traceback
        store.close()
        detail = redact_uri_passwords(str(exc).strip().splitlines()[0] if str(exc) else "")
        raise StoreUnavailableError(
            f"Cannot open the tracking database {store!r}: {type(exc).__name__}: {detail}"
        ) from exc
    return store


def run_server(
    settings: ServerSettings,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve until interrupted. Blocks."""
    import uvicorn

    common = dict(
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=10,
        # Proxy headers only matter behind a reverse proxy; never trust them by default.
        proxy_headers=False,
        server_header=False,
    )
    # Open the store now: a database that cannot serve (damaged, read-only, another tool's,
    # unreachable) stops the server here with one clear line, before /health could say OK.
    # This also creates or upgrades the schema once, so that workers never race to migrate it.
    store = open_checked_store(settings)
    if workers <= 1:
        from flightlog.server.app import create_app

        uvicorn.run(create_app(settings, store=store), **common)
        return
    store.close()
    # Web UI sessions must be the same on every worker (a sign-out on one holds on all): they
    # live in a private folder of this server's own, removed when it stops.
    import dataclasses
    import shutil
    import tempfile

    session_dir = tempfile.mkdtemp(prefix="flightlog-sessions-")
    settings = dataclasses.replace(settings, session_dir=session_dir)
    os.environ.update(settings.to_env())
    try:
        uvicorn.run(
            "flightlog.server.app:create_app_from_env", factory=True, workers=workers, **common
        )
    finally:
        shutil.rmtree(session_dir, ignore_errors=True)
