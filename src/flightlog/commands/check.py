"""`flightlog check RUN_ID CONDITION...`: exit 0 when every condition holds, 1 when one fails
(so a CI step fails), 2 for a condition that does not parse or a metric the run lacks."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "check",
        help="check a run's metrics against thresholds (non-zero exit on failure)",
        description="Check conditions like 'share_of_drifted_columns < 0.3' or "
        "'accuracy_score > 0.9' against a run's latest metrics; outcomes are tagged on the run.",
    )
    cmd.add_argument("run_id")
    cmd.add_argument("conditions", nargs="+", metavar="CONDITION", help="'<metric> <op> <number>'")
    cmd.add_argument("--no-tags", action="store_true", help="do not tag the outcomes on the run")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    from flightlog.commands.output import print_json, print_table
    from flightlog.evaluation.checks import check
    from flightlog.evaluation.errors import CheckMetricNotFoundError, ConditionSyntaxError

    try:
        summary = check(args.conditions, run_id=args.run_id, log=not args.no_tags)
    except (ConditionSyntaxError, CheckMetricNotFoundError) as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print_json({"passed": summary.passed, "results": [r.to_dict() for r in summary]})
    else:
        rows = [
            (r.condition, r.metric, f"{r.value:.6g}", "PASS" if r.passed else "FAIL")
            for r in summary
        ]
        print_table(["CONDITION", "METRIC", "VALUE", "RESULT"], rows)
        print(f"\n{len(summary) - len(summary.failed)} of {len(summary)} checks passed")
    return 0 if summary.passed else 1
