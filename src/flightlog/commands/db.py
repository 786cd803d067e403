"""`flightlog db`: store maintenance. `flightlog db import-mlflow SOURCE` copies an MLflow
tracking store (experiments, runs, metrics, params, tags, artifacts, the model registry) into
the flightlog store given by --to (default: the tracking URI); see flightlog.mlflow_import."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="store maintenance: import an MLflow store")
    commands = parser.add_subparsers(dest="db_command", metavar="COMMAND")
    imp = commands.add_parser(
        "import-mlflow",
        help="copy an MLflow store (sqlite:///mlflow.db, postgresql://..., ./mlruns, or "
        "http://an-mlflow-server; 'mlflow://' prefix optional) into a flightlog store",
    )
    imp.add_argument("source", help="the MLflow store's tracking URI")
    imp.add_argument(
        "--to",
        dest="dest",
        help="the flightlog store to copy into (default: --tracking-uri, "
        "$FLIGHTLOG_TRACKING_URI, else ./flightlog-runs)",
    )
    imp.add_argument("--no-artifacts", action="store_true", help="copy no artifact files")
    imp.add_argument("--quiet", action="store_true", help="print only the summary")
    imp.set_defaults(handler=_import_mlflow)
    parser.set_defaults(handler=lambda _args: parser.print_help() or 2)


def _import_mlflow(args: argparse.Namespace) -> int:
    from flightlog.config import get_tracking_uri
    from flightlog.mlflow_import import import_mlflow

    dest = args.dest or get_tracking_uri()
    progress = None if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    report = import_mlflow(args.source, dest, artifacts=not args.no_artifacts, progress=progress)
    print(f"Imported into {dest}: {report.summary()}")
    if report.skipped_models:
        print(f"Already there, not changed: {', '.join(report.skipped_models)}")
    return 0
