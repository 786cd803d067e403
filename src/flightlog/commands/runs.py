"""`flightlog runs list|show|delete`."""

from __future__ import annotations

import argparse
import sys

from flightlog.commands.output import format_time, print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("runs", help="list, show and delete runs")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="list the runs of an experiment (default: of every one)")
    ls.add_argument(
        "--experiment-id",
        action="append",
        help="experiment id (repeatable; default: every active experiment)",
    )
    ls.add_argument("--filter", default="", help='MLflow filter, e.g. "metrics.acc > 0.9"')
    ls.add_argument("--order-by", action="append", help='e.g. "metrics.acc DESC"')
    ls.add_argument("--max-results", type=int, default=100)
    ls.add_argument("--view", choices=["active", "deleted", "all"], default="active")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)

    show = sub.add_parser("show", help="show one run: info, params, metrics, tags")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)

    delete = sub.add_parser("delete", help="mark a run deleted")
    delete.add_argument("run_id")
    delete.set_defaults(handler=_delete)


def _list(args: argparse.Namespace) -> int:
    from flightlog.client import TrackingClient
    from flightlog.commands.experiments import _view

    client = TrackingClient()
    experiment_ids = args.experiment_id
    names: dict[str, str] = {}
    if not experiment_ids:
        # No experiment named: every active one, each run tagged with its experiment (a table
        # of experiment 0 alone was silently empty for runs logged elsewhere).
        experiments = client.search_experiments()
        names = {e.experiment_id: e.name for e in experiments}
        experiment_ids = list(names)
    runs = client.search_runs(
        experiment_ids, args.filter, _view(args.view), args.max_results, args.order_by
    )
    if args.json:
        print_json([r.to_dict() for r in runs])
        return 0
    rows = []
    for r in runs:
        i = r.info
        duration = (
            f"{(i.end_time - i.start_time) / 1000:.1f}s" if i.end_time and i.start_time else "-"
        )
        experiment = names.get(i.experiment_id, i.experiment_id)
        row = (i.run_id, i.run_name, i.status, format_time(i.start_time), duration)
        rows.append((*row, f"{i.experiment_id} ({experiment})") if names else row)
    headers = ["RUN ID", "NAME", "STATUS", "STARTED", "DURATION"]
    print_table([*headers, "EXPERIMENT"] if names else headers, rows)
    if names:
        listed = ", ".join(f"{k} ({v})" for k, v in names.items())
        print(
            f"Runs of every active experiment: {listed}. Pick one with --experiment-id.",
            file=sys.stderr,
        )
    elif not rows:
        print(f"No runs in experiment {', '.join(experiment_ids)}.", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    from flightlog.client import TrackingClient

    run = TrackingClient().get_run(args.run_id)
    if args.json:
        print_json(run.to_dict())
        return 0
    i = run.info
    print(f"Run {i.run_id} ({i.run_name})")
    for label, value in (
        ("experiment", i.experiment_id),
        ("status", i.status),
        ("started", format_time(i.start_time)),
        ("ended", format_time(i.end_time)),
        ("artifacts", i.artifact_uri),
    ):
        print(f"  {label:<11}{value}")
    for title, mapping in (
        ("Params", run.data.params),
        ("Metrics", run.data.metrics),
        ("Tags", run.data.tags),
    ):
        if mapping:
            print(f"\n{title}:")
            print_table(["KEY", "VALUE"], sorted(mapping.items()))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from flightlog.client import TrackingClient

    TrackingClient().delete_run(args.run_id)
    print(f"Deleted run {args.run_id}")
    return 0
