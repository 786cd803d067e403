"""`flightlog experiments list|create|delete`."""

from __future__ import annotations

import argparse

from flightlog.commands.output import format_time, print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("experiments", help="list, create and delete experiments")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="list experiments")
    ls.add_argument("--view", choices=["active", "deleted", "all"], default="active")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)

    create = sub.add_parser("create", help="create an experiment")
    create.add_argument("name")
    create.add_argument("--artifact-location")
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(handler=_create)

    delete = sub.add_parser("delete", help="delete an experiment (and mark its runs deleted)")
    delete.add_argument("experiment_id")
    delete.set_defaults(handler=_delete)


def _view(name: str) -> int:
    from flightlog.entities import ViewType

    return {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY}.get(
        name, ViewType.ALL
    )


def _list(args: argparse.Namespace) -> int:
    import flightlog

    experiments = flightlog.search_experiments(view_type=_view(args.view))
    if args.json:
        print_json([e.to_dict() for e in experiments])
        return 0
    rows = [
        (
            e.experiment_id,
            e.name,
            e.lifecycle_stage,
            format_time(e.creation_time),
            e.artifact_location,
        )
        for e in experiments
    ]
    print_table(["ID", "NAME", "STAGE", "CREATED", "ARTIFACT LOCATION"], rows)
    return 0


def _create(args: argparse.Namespace) -> int:
    import flightlog

    experiment_id = flightlog.create_experiment(args.name, args.artifact_location)
    if args.json:
        print_json({"experiment_id": experiment_id, "name": args.name})
    else:
        print(f"Created experiment {args.name!r} with id {experiment_id}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    import flightlog

    flightlog.delete_experiment(args.experiment_id)
    print(f"Deleted experiment {args.experiment_id}")
    return 0
