"""`flightlog models list|versions|alias` against the embedded store."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import flightlog
import flightlog.sklearn


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "flightlog.cli", "models", *args],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=60,
    )


def test_models_commands(model):
    with flightlog.start_run() as run:
        flightlog.sklearn.log_model(model, "model", registered_model_name="churn")
    flightlog.register_model(f"runs:/{run.info.run_id}/model", "churn")

    listed = _cli("list")
    assert listed.returncode == 0, listed.stderr
    assert "churn" in listed.stdout and " 2 " in listed.stdout
    aliased = _cli("alias", "churn", "champion", "1")
    assert aliased.returncode == 0 and "version 1" in aliased.stdout
    versions = json.loads(_cli("versions", "churn", "--json").stdout)
    assert [(v["version"], v["aliases"]) for v in versions] == [("2", []), ("1", ["champion"])]
    assert versions[0]["run_id"] == run.info.run_id
    table = _cli("versions", "churn").stdout
    assert "champion" in table and run.info.run_id in table

    missing = _cli("versions", "nobody")
    assert missing.returncode == 1 and "nobody" in missing.stderr
    bad_alias = _cli("alias", "churn", "latest", "1")
    assert bad_alias.returncode == 1 and "reserved" in bad_alias.stderr
