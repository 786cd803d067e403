"""The `flightlog` command. Each command group lives in flightlog/commands/<group>.py and adds
itself through a `register(subparsers)` function listed in COMMAND_MODULES."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "flightlog.commands.check",
    "flightlog.commands.db",
    "flightlog.commands.experiments",
    "flightlog.commands.models",
    "flightlog.commands.runs",
    "flightlog.commands.server",
    "flightlog.commands.sync",
    "flightlog.commands.ui",
)


def build_parser() -> argparse.ArgumentParser:
    from flightlog import __version__

    parser = argparse.ArgumentParser(
        prog="flightlog", description="flightlog: a flight recorder for model training."
    )
    parser.add_argument("--version", action="version", version=f"flightlog {__version__}")
    parser.add_argument(
        "--tracking-uri",
        help="store to use (default: $FLIGHTLOG_TRACKING_URI, $MLFLOW_TRACKING_URI, "
        "else ./flightlog-runs)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from flightlog.exceptions import FlightlogError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    if args.tracking_uri:
        from flightlog import config

        config.set_tracking_uri(args.tracking_uri)
    try:
        return int(args.handler(args) or 0)
    except FlightlogError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
