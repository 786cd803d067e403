"""Run MLflow's own live-server tests against `mlflow server` and against `flightlog server`.

    python tests/interop/mlflow_parity.py /path/to/mlflow-checkout [--files F ...] [-k EXPR]

The checkout is one the user points at (MLflow's test code is not part of this repository;
check out the tag matching the installed mlflow client where you can). For each test file
(default: tests/tracking/test_rest_tracking.py, test_model_registry.py, test_mlflow_artifacts.py)
pytest runs twice in the checkout: as it is, then with the `mlflow_parity_swap` plugin, which
turns every MLflow server the fixtures start into a `flightlog server` with the same backend
URI, artifact root and port. The table lists passes per file for both servers; tests out of
flightlog's scope (MLflow 3 GenAI features, tests that open the server's database with
MLflow's own schema) are counted apart, with the reasons in OUT_OF_SCOPE (also in
docs/server.md). Exit status 0 when every in-scope test that passes against `mlflow server`
passes against `flightlog server` too.

Not collected by pytest (the name does not start with test_).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FILES = (
    "tests/tracking/test_rest_tracking.py",
    "tests/tracking/test_model_registry.py",
    "tests/tracking/test_mlflow_artifacts.py",
)

# Test-name patterns (regular expressions on the test id) outside flightlog's scope, and why.
OUT_OF_SCOPE: dict[str, str] = {
    r"trace|span|assessment": "MLflow 3 GenAI tracing (traces, spans, assessments)",
    r"gateway|secret|endpoint_config|provider": "MLflow AI Gateway secrets and endpoints",
    r"evaluation_dataset|dataset_record": "GenAI evaluation datasets",
    r"scorer|judge|genai": "GenAI scorers and judges",
    r"prompt": "the prompt registry (GenAI)",
    r"\bissue|_issue": "GenAI issues",
    r"label_schema|labeling": "GenAI labeling sessions",
    r"webhook": "registry webhooks (MLflow-only server feature)",
    r"workspace": "MLflow workspaces (multi-tenant server feature)",
    r"job": "MLflow's server-side job runner",
    r"sqlalchemy_store|SqlAlchemyStore|_db_|database|migrat|alembic": (
        "opens the server's database with MLflow's own schema (SqlAlchemyStore, migrations)"
    ),
    r"graphql": "MLflow's GraphQL endpoint for its web app (not served; see docs/server.md)",
}


def out_of_scope_reason(test_id: str) -> str | None:
    for pattern, reason in OUT_OF_SCOPE.items():
        if re.search(pattern, test_id, flags=re.IGNORECASE):
            return reason
    return None


def _outcomes(junit: Path) -> dict[str, str]:
    """test id -> passed / failed / skipped, from a JUnit XML report."""
    out: dict[str, str] = {}
    if not junit.exists():
        return out
    for case in ET.parse(junit).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        tags = {child.tag for child in case}
        if "failure" in tags or "error" in tags:
            out[test_id] = "failed"
        elif "skipped" in tags:
            out[test_id] = "skipped"
        else:
            out[test_id] = "passed"
    return out


def run_file(
    checkout: Path, test_file: str, swap: bool, keyword: str | None, timeout: float, work: Path
) -> tuple[dict[str, str], str]:
    which = "flightlog" if swap else "mlflow"
    junit = work / f"{Path(test_file).stem}-{which}.xml"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        test_file,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        "-o",
        "addopts=",
    ]
    if keyword:
        cmd += ["-k", keyword]
    env = dict(os.environ)
    paths = [str(checkout)]
    if swap:
        cmd += ["-p", "mlflow_parity_swap"]
        paths.append(str(HERE))
        env["FLIGHTLOG_PARITY_SWAP_LOG"] = str(work / f"{Path(test_file).stem}-swaps.log")
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    for var in ("MLFLOW_TRACKING_URI", "FLIGHTLOG_TRACKING_URI"):
        env.pop(var, None)
    try:
        result = subprocess.run(
            cmd, cwd=checkout, env=env, capture_output=True, text=True, timeout=timeout
        )
        tail = (result.stdout + result.stderr)[-3000:]
    except subprocess.TimeoutExpired as exc:
        tail = f"timed out after {timeout:.0f} s: {str(exc.stdout or '')[-2000:]}"
    return _outcomes(junit), tail


def summarize(mlflow: dict[str, str], flightlog: dict[str, str]) -> dict:
    in_scope_regressions, out = [], {"out_of_scope": {}}
    counts = {"mlflow": 0, "flightlog": 0, "in_scope_mlflow": 0, "in_scope_both": 0}
    for test_id in sorted(set(mlflow) | set(flightlog)):
        theirs, ours = mlflow.get(test_id), flightlog.get(test_id)
        counts["mlflow"] += theirs == "passed"
        counts["flightlog"] += ours == "passed"
        reason = out_of_scope_reason(test_id)
        if reason is not None:
            out["out_of_scope"][test_id] = reason
            continue
        if theirs == "passed":
            counts["in_scope_mlflow"] += 1
            if ours == "passed":
                counts["in_scope_both"] += 1
            else:
                in_scope_regressions.append(test_id)
    out.update(counts)
    out["total"] = len(set(mlflow) | set(flightlog))
    out["regressions"] = in_scope_regressions
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="an MLflow source checkout")
    parser.add_argument("--files", nargs="+", default=list(DEFAULT_FILES))
    parser.add_argument("-k", dest="keyword", help="pytest -k expression (a subset)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per pytest run")
    parser.add_argument("--flightlog-only", action="store_true", help="skip the mlflow runs")
    parser.add_argument("--verbose", action="store_true", help="list every failing test")
    args = parser.parse_args(argv)
    checkout = args.checkout.resolve()
    if not (checkout / "tests").is_dir():
        parser.error(f"{checkout} does not look like an MLflow checkout (no tests/ folder)")
    all_ok = True
    rows = []
    with tempfile.TemporaryDirectory(prefix="flightlog-parity-") as tmp:
        work = Path(tmp)
        for test_file in args.files:
            if not (checkout / test_file).is_file():
                print(f"{test_file}: not in this checkout, skipped", file=sys.stderr)
                continue
            theirs, their_tail = ({}, "")
            if not args.flightlog_only:
                theirs, their_tail = run_file(
                    checkout, test_file, False, args.keyword, args.timeout, work
                )
            ours, our_tail = run_file(checkout, test_file, True, args.keyword, args.timeout, work)
            summary = summarize(theirs, ours)
            swaps = work / f"{Path(test_file).stem}-swaps.log"
            summary["swapped_servers"] = swaps.read_text().count("\n  -> ") if swaps.exists() else 0
            rows.append((test_file, summary))
            if summary["regressions"] and not args.flightlog_only:
                all_ok = False
            if not ours and not theirs:
                print(f"{test_file}: no results; pytest said:\n{our_tail or their_tail}")
    width = max([len(f) for f, _ in rows] + [4])
    print(
        f"{'file':<{width}}  {'tests':>5}  {'mlflow':>6}  {'flightlog':>9}  "
        f"{'in scope: mlflow':>16}  {'both':>5}  {'out of scope':>12}  {'swaps':>5}"
    )
    for test_file, s in rows:
        print(
            f"{test_file:<{width}}  {s['total']:>5}  {s['mlflow']:>6}  {s['flightlog']:>9}  "
            f"{s['in_scope_mlflow']:>16}  {s['in_scope_both']:>5}  "
            f"{len(s['out_of_scope']):>12}  {s['swapped_servers']:>5}"
        )
    for test_file, s in rows:
        if s["regressions"]:
            shown = s["regressions"] if args.verbose else s["regressions"][:20]
            print(f"\n{test_file}: pass on mlflow server, fail on flightlog server:")
            for test_id in shown:
                print(f"  {test_id}")
            if len(shown) < len(s["regressions"]):
                print(f"  ... and {len(s['regressions']) - len(shown)} more (--verbose)")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
