"""`flightlog models list|versions|alias`: the model registry from the command line."""

from __future__ import annotations

import argparse

from flightlog.commands.output import format_time, print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("models", help="list registered models, versions and aliases")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="list registered models")
    ls.add_argument("--filter", default=None, help="e.g. \"name LIKE 'churn%%'\"")
    ls.add_argument("--max-results", type=int, default=1000)
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)

    versions = sub.add_parser("versions", help="list the versions of a registered model")
    versions.add_argument("name")
    versions.add_argument("--json", action="store_true", help="print JSON")
    versions.set_defaults(handler=_versions)

    alias = sub.add_parser("alias", help="point an alias (e.g. champion) at a version")
    alias.add_argument("name")
    alias.add_argument("alias")
    alias.add_argument("version")
    alias.set_defaults(handler=_alias)


def _list(args: argparse.Namespace) -> int:
    from flightlog.client import TrackingClient

    client = TrackingClient()
    models = []
    token = None
    while len(models) < args.max_results:
        page = client.search_registered_models(
            args.filter, min(1000, args.max_results - len(models)), page_token=token
        )
        models.extend(page)
        token = page.token
        if not token:
            break
    if args.json:
        print_json([m.to_dict() for m in models])
        return 0
    rows = []
    for m in models:
        latest = max((int(v.version) for v in m.latest_versions), default=None)
        aliases = ", ".join(f"{a}->v{v}" for a, v in sorted(m.aliases.items()))
        rows.append(
            (
                m.name,
                latest if latest is not None else "-",
                aliases,
                format_time(m.last_updated_timestamp),
            )
        )
    print_table(["NAME", "LATEST", "ALIASES", "UPDATED"], rows)
    return 0


def _versions(args: argparse.Namespace) -> int:
    from flightlog.client import TrackingClient

    client = TrackingClient()
    client.get_registered_model(args.name)  # a clear error for an unknown name
    versions = []
    token = None
    while True:
        page = client.search_model_versions(
            f"name = '{_quoted(args.name)}'", 10_000, ["version_number DESC"], token
        )
        versions.extend(page)
        token = page.token
        if not token:
            break
    if args.json:
        print_json([v.to_dict() for v in versions])
        return 0
    rows = [
        (
            v.version,
            ", ".join(v.aliases),
            v.current_stage,
            v.run_id or "-",
            format_time(v.creation_timestamp),
            v.source,
        )
        for v in versions
    ]
    print_table(["VERSION", "ALIASES", "STAGE", "RUN ID", "CREATED", "SOURCE"], rows)
    return 0


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _alias(args: argparse.Namespace) -> int:
    from flightlog.client import TrackingClient

    TrackingClient().set_registered_model_alias(args.name, args.alias, args.version)
    print(f"Alias {args.alias!r} of model {args.name!r} now points to version {args.version}")
    return 0
