"""`flightlog ui`: the web UI (and the REST API) over the local store, on 127.0.0.1."""

from __future__ import annotations

import argparse
import socket
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="open the web UI over the local store (experiments, runs, charts, models)",
        description="Serve the web UI and the REST API over a local store, on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=5000, help="port (default: 5000)")
    parser.add_argument(
        "--backend-store-uri",
        help="the store to show: sqlite:///path.db, a folder, postgresql://..., mysql+pymysql://"
        "... (default: the tracking URI: $FLIGHTLOG_TRACKING_URI, else ./flightlog-runs)",
    )
    parser.add_argument(
        "--artifacts-destination",
        help="the folder (or storage URI) holding the runs' artifacts (default: the store's "
        "artifact root, the 'artifacts' folder beside a SQLite store)",
    )
    parser.add_argument(
        "--auth-token",
        help="require this token to sign in (default: $FLIGHTLOG_SERVER_TOKEN; none means open)",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.set_defaults(handler=_serve)


def _check_port_free(host: str, port: int) -> None:
    from flightlog.exceptions import InvalidParameterError

    if not 0 < port < 65536:
        raise InvalidParameterError(f"--port must be between 1 and 65535, got {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: connections of an earlier server in TIME_WAIT do not block it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InvalidParameterError(
                f"Cannot listen on {host}:{port} ({exc.strerror}); pick another with --port"
            ) from exc


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from flightlog.config import _normalize, default_artifact_root_for, get_tracking_uri
    from flightlog.exceptions import UnsupportedUriError
    from flightlog.server.app import create_app
    from flightlog.server.settings import ServerSettings
    from flightlog.store.sql import SqlStore

    host = "127.0.0.1"
    uri = _normalize(args.backend_store_uri) if args.backend_store_uri else get_tracking_uri()
    if uri.split(":", 1)[0].lower() in ("http", "https"):
        raise UnsupportedUriError(
            f"The tracking URI {uri} is a server: open its web UI in a browser instead "
            "(`flightlog ui` serves a local SQL store)"
        )
    artifact_root = default_artifact_root_for(uri)
    settings = ServerSettings.build(
        backend_store_uri=uri,
        artifacts_destination=args.artifacts_destination or artifact_root,
        auth_token=args.auth_token,
    )
    # New experiments keep their artifacts where local runs put them (not behind the proxy):
    # the UI shows a local store that scripts on this machine also write to directly.
    store = SqlStore(uri, default_artifact_root=artifact_root)
    store.engine  # noqa: B018 - open (and migrate) now: a bad URI fails before the URL prints
    _check_port_free(host, args.port)
    app = create_app(settings, store=store)
    url = f"http://{host}:{args.port}"
    print(f"flightlog UI: {url}", flush=True)
    print(f"  store:     {store!r}", flush=True)
    print(f"  artifacts: {settings.artifacts_destination}", flush=True)
    if settings.auth_token:
        print("  sign in with the server token (--auth-token)", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m flightlog.commands.ui`: the same as `flightlog ui`."""
    from flightlog.cli import main as cli_main

    return cli_main(["ui", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
