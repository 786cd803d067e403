"""The compatibility suite: MLflow-style user scripts (tests/interop/compat/scripts/) run twice,
with the real mlflow 3.17.2 (its own store in a temp folder) and with `import flightlog as
mlflow`, then what each library reads back from its store is compared: runs, params, metric keys
and point counts, tags (less the volatile ones), artifacts, dataset inputs, logged models,
registered models, and each script's own results (predictions, search results).

Every difference must be listed in compat/allowlist.py with its reason (the same list is in
docs/user-guide.md, "Deliberate differences from MLflow"); anything else fails the test. The full
list of differences found is printed and written to <tmp>/compat-report.txt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "compat"
sys.path.insert(0, str(HERE))

from allowlist import DELIBERATE, allowed_for  # noqa: E402
from compare import diff, unexplained  # noqa: E402
from runner import to_flightlog  # noqa: E402

SCRIPTS = sorted(p.stem for p in (HERE / "scripts").glob("*.py"))


def _run(mode: str, script: str, tmp_path: Path) -> dict:
    work = tmp_path / mode
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "FLIGHTLOG_"))}
    if mode == "mlflow":
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{work / 'mlflow.db'}"
    else:
        env["MLFLOW_TRACKING_URI"] = str(work / "flightlog-runs")
    env["KERAS_BACKEND"] = "torch"  # keras 3 with the installed CPU torch (no tensorflow)
    env["PYTHONHASHSEED"] = "0"
    env["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    env["TQDM_DISABLE"] = "1"
    script_path = HERE / "scripts" / f"{script}.py"
    result = subprocess.run(
        [sys.executable, str(HERE / "runner.py"), mode, str(script_path), str(work / "out")],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, f"{script} under {mode} failed:\n{result.stderr[-6000:]}"
    return json.loads((work / "out" / "state.json").read_text())


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_stores_what_mlflow_stores(script, tmp_path):
    theirs = _run("mlflow", script, tmp_path)
    ours = _run("flightlog", script, tmp_path)
    found = diff(theirs, ours)
    allowed = allowed_for(script)
    report = tmp_path / "compat-report.txt"
    report.write_text("\n".join(found) + "\n")
    print(f"\n{script}: {len(found)} difference(s), report in {report}")
    for line in found:
        print("  ", line)
    bad = unexplained(found, allowed)
    assert not bad, f"{script}: differences not in the allow-list:\n" + "\n".join(bad)
    # the scripts ran for real: every one stores at least one run with something in it
    runs = [r for e in ours["experiments"].values() for r in e["runs"].values()]
    assert runs and any(
        r["params"] or r["metric_points"] or r["artifacts"] or r["model_copies"] for r in runs
    )


def test_imports_are_rewritten_as_a_user_would():
    source = (
        "import mlflow\nimport mlflow.sklearn\n  import mlflow.pyfunc as pf\n"
        "from mlflow.models import infer_signature\nfrom mlflow import MlflowClient\n"
        "x = 'import mlflow'\n"
    )
    assert to_flightlog(source).splitlines() == [
        "import flightlog as mlflow",
        "import flightlog as mlflow",
        "import flightlog.sklearn",
        "  import flightlog.pyfunc as pf",
        "from flightlog.models import infer_signature",
        "from flightlog import MlflowClient",
        "x = 'import mlflow'",
    ]


def test_compare_reports_each_difference_by_path():
    theirs = {"runs": {"a": {"params": {"x": "1"}, "artifacts": ["m/MLmodel", "n.txt"]}}}
    ours = {"runs": {"a": {"params": {"x": "2"}, "artifacts": ["n.txt", "extra"]}}}
    assert diff(theirs, ours) == [
        "runs/a/artifacts/m/MLmodel: mlflow=present flightlog=<missing>",
        "runs/a/artifacts/extra: mlflow=<missing> flightlog=present",
        "runs/a/params/x: mlflow='1' flightlog='2'",
    ]
    assert unexplained(diff(theirs, ours), [("runs/*/artifacts/*", "why")]) == [
        "runs/a/params/x: mlflow='1' flightlog='2'"
    ]


def test_every_deliberate_difference_is_documented():
    guide = (Path(__file__).parents[2] / "docs" / "user-guide.md").read_text()
    section = guide.split("## Deliberate differences from MLflow", 1)
    assert len(section) == 2, "docs/user-guide.md has no 'Deliberate differences' section"

    def words(text: str) -> str:
        # Markdown emphasis and capitals aside: the docs write the reason as a sentence.
        return " ".join(text.replace("`", "").replace("*", "").lower().split())

    for entries in DELIBERATE.values():
        for _pattern, reason in entries:
            # the docs give each reason; the first words are enough to find it
            assert " ".join(words(reason).split()[:6]) in words(section[1]), reason
