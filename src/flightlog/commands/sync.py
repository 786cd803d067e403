"""`flightlog sync`: send what processes left in the local spool and journal.

A process that could not reach its tracking store (or was killed while batches were on their
way to a remote one) leaves a folder under the spool root. `sync` takes over the folders whose
process is gone (their lock is free), sends each batch to the store URI recorded with it, in
order and exactly once, and removes the folder when everything is through.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sync", help="send batches left in the local spool/journal by ended processes"
    )
    parser.add_argument(
        "--spool-dir",
        help="spool root (default: $FLIGHTLOG_SPOOL_DIR, else ~/.cache/flightlog/spool)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be sent, send nothing"
    )
    parser.set_defaults(handler=_sync)


def _sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flightlog import spool
    from flightlog.commands.output import print_table

    root = Path(args.spool_dir).expanduser() if args.spool_dir else spool.spool_root()
    folders = spool.owner_folders(root)
    if not folders:
        print(f"Nothing to sync in {root}")
        return 0
    rows = []
    status = 0
    for folder in folders:
        with spool.claim(folder) as ours:
            if not ours:
                rows.append((folder.name, "-", "-", "skipped: its process is still running"))
                continue
            if args.dry_run:
                damage = spool.Damage()
                entities, run_ids = 0, set()
                for record in spool.iter_folder(folder, damage):
                    entities += record.size
                    run_ids.add(record.run_id)
                outcome = "would send" + _damaged(damage.lines)
                rows.append((folder.name, len(run_ids), entities, outcome))
                continue
            report = spool.replay_folder(folder, _store_for(args))
        if report.complete:
            outcome = "sent" if not report.failed else f"sent; {report.failed} batch(es) refused"
        else:
            outcome = f"backend unavailable, kept for later: {report.unavailable}"
            status = 1
        if report.damaged:
            # Never "sent" alone when part of the folder could not be read: say how much.
            outcome += _damaged(report.damaged)
            print(
                f"damaged: {report.damaged} unreadable line(s) in {folder} were skipped",
                file=sys.stderr,
            )
            status = 1
        rows.append((folder.name, len(report.runs), report.entities, outcome))
        for error in report.errors:
            print(f"refused: {error}", file=sys.stderr)
        if report.failed:
            status = 1
    print_table(["SPOOL", "RUNS", "POINTS/PARAMS/TAGS", "RESULT"], rows)
    return status


def _damaged(lines: int) -> str:
    return f"; {lines} damaged line(s) skipped" if lines else ""


def _store_for(args: argparse.Namespace):
    """Stores by the URI each record carries; records without one go to the current store."""
    from flightlog.config import get_tracking_uri
    from flightlog.rest_client import strip_password
    from flightlog.store import get_store

    def store_for(uri: str | None):
        current = get_tracking_uri()
        if uri is None:
            return get_store(current)
        # Records carry their URI without its password: the tracking URI of this environment
        # supplies it when it names the same place.
        if strip_password(current) == uri:
            return get_store(current)
        return get_store(uri)

    return store_for
