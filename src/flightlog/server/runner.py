"""Starting the server under uvicorn, with one worker in-process or several worker processes."""

from __future__ import annotations

import logging
import os

from flightlog.server.settings import ServerSettings

log = logging.getLogger("flightlog.server")


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
    if workers <= 1:
        from flightlog.server.app import create_app

        uvicorn.run(create_app(settings), **common)
        return

    # Create or upgrade the schema once, here, so workers never race to migrate it.
    from flightlog.server.app import build_store

    build_store(settings).close()
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
