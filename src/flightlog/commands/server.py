"""`flightlog server`: an MLflow-compatible tracking server over a SQL store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port (default: 5000)")
    parser.add_argument(
        "--backend-store-uri",
        help="SQL store: sqlite:///path.db, postgresql://..., mysql+pymysql://... "
        "(default: ./flightlog-runs/flightlog.db)",
    )
    parser.add_argument(
        "--artifacts-destination",
        help="where proxied artifacts are stored: a folder or a storage URI "
        "(default: the 'artifacts' folder beside a SQLite store, else ./flightlog-runs/artifacts)",
    )
    parser.add_argument(
        "--default-artifact-root",
        metavar="URI",
        help="give new experiments '<URI>/<experiment id>' (a folder, file:// or s3://...) "
        "instead of proxied 'mlflow-artifacts:/<id>' locations; clients then read and write "
        "those artifacts there directly",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default: 1; use a PostgreSQL or MySQL store for several)",
    )
    parser.add_argument(
        "--auth-token",
        help="require 'Authorization: Bearer <token>' on every request but /health; none "
        "means no authentication. A token given here is visible to other local users in the "
        "process list: prefer --auth-token-file or $FLIGHTLOG_SERVER_TOKEN",
    )
    parser.add_argument(
        "--auth-token-file",
        metavar="PATH",
        help="read the token from this file (default: $FLIGHTLOG_SERVER_TOKEN_FILE, then "
        "the token itself from $FLIGHTLOG_SERVER_TOKEN)",
    )
    parser.add_argument(
        "--allowed-hosts",
        metavar="NAMES",
        help="comma-separated Host names the server answers to besides localhost, IP "
        "addresses and the --host address (patterns like '*.example.com' work; '*' accepts "
        "any). Other names get 403: a guard against DNS rebinding",
    )
    parser.add_argument(
        "--cors-allowed-origins",
        metavar="ORIGINS",
        help="comma-separated origins (e.g. https://dash.example.com) whose web pages may "
        "call the API; default none: CORS is off and cross-origin writes get 403",
    )
    parser.add_argument(
        "--max-json-body-mb",
        type=float,
        default=16.0,
        help="largest JSON API request body in MiB (default: 16)",
    )
    parser.add_argument(
        "--max-artifact-body-mb",
        type=float,
        default=100.0,
        help="largest artifact upload in MiB (default: 100)",
    )
    parser.add_argument(
        "--statement-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="PostgreSQL/MySQL cancel any SQL statement of a request running longer than this "
        "(default: 30; 0 turns it off)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument(
        "--no-access-log", action="store_true", help="do not log one line per request"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "server", help="run an MLflow-compatible tracking server (REST API + artifact proxy)"
    )
    add_arguments(parser)
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from flightlog.exceptions import InvalidParameterError
    from flightlog.server.runner import run_server
    from flightlog.server.settings import MIB, ServerSettings

    if args.workers < 1:
        raise InvalidParameterError(f"--workers must be at least 1, got {args.workers}")
    settings = ServerSettings.build(
        backend_store_uri=args.backend_store_uri,
        artifacts_destination=args.artifacts_destination,
        default_artifact_root=args.default_artifact_root,
        auth_token=args.auth_token,
        max_json_bytes=int(args.max_json_body_mb * MIB),
        max_artifact_bytes=int(args.max_artifact_body_mb * MIB),
        auth_token_file=args.auth_token_file,
        bind_host=args.host,
        allowed_hosts=args.allowed_hosts,
        cors_allowed_origins=args.cors_allowed_origins,
        statement_timeout_s=args.statement_timeout,
    )
    if args.workers > 1 and settings.backend_store_uri.startswith("sqlite"):
        print(
            "note: several workers share one SQLite file through its write lock; use "
            "PostgreSQL or MySQL for heavy concurrent logging",
            file=sys.stderr,
        )
    run_server(
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=not args.no_access_log,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from flightlog.exceptions import FlightlogError

    parser = argparse.ArgumentParser(prog="flightlog server", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return _serve(args)
    except FlightlogError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
