"""flightlog.check and `flightlog check`: conditions on a run's metrics, pass/fail tags, and
exit codes a CI job can use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from eval_data import tabular

import flightlog
from flightlog.evaluation.checks import parse
from flightlog.evaluation.errors import (
    CheckMetricNotFoundError,
    ConditionSyntaxError,
    ModelValidationFailedError,
)


@pytest.mark.parametrize(
    ("text", "metric", "op", "value"),
    [
        ("share_of_drifted_columns < 0.3", "share_of_drifted_columns", "<", 0.3),
        ("accuracy_score>=0.9", "accuracy_score", ">=", 0.9),
        ("  drift/x/drifted == 0 ", "drift/x/drifted", "==", 0.0),
        ("log_loss != -1e-3", "log_loss", "!=", -0.001),
        ("r2 > -inf", "r2", ">", float("-inf")),
    ],
)
def test_conditions_parse(text, metric, op, value):
    c = parse(text)
    assert (c.metric, c.op, c.value) == (metric, op, value)


@pytest.mark.parametrize("text", ["accuracy", "accuracy > high", "> 0.3", "a << 1", "a = 1"])
def test_bad_conditions_are_refused(text):
    with pytest.raises(ConditionSyntaxError, match="Cannot read condition"):
        parse(text)


def _drift_run(shift: float) -> str:
    with flightlog.start_run() as run:
        flightlog.log_drift(tabular(800, 1), tabular(800, 2, shift=shift))
        flightlog.log_metric("accuracy_score", 0.93)
    return run.info.run_id


def test_check_resolves_names_and_tags_the_outcomes():
    run_id = _drift_run(shift=0.5)  # x drifts: share 0.25
    summary = flightlog.check(
        ["share_of_drifted_columns < 0.3", "accuracy_score > 0.95", "x/drifted == 1"],
        run_id=run_id,
    )
    assert [(r.metric, r.passed) for r in summary] == [
        ("drift/share_of_drifted_columns", True),
        ("accuracy_score", False),
        ("drift/x/drifted", True),
    ]
    assert not summary.passed and summary.results[0].value == 0.25
    tags = flightlog.get_run(run_id).data.tags  # the run has ended: tags still land
    assert tags["flightlog.check"] == "fail"
    assert tags["flightlog.check.share_of_drifted_columns.lt.0.3"] == "pass"
    assert tags["flightlog.check.accuracy_score.gt.0.95"] == "fail"


def test_check_uses_the_last_run_and_can_raise():
    _drift_run(shift=0.0)
    assert flightlog.check("dataset_drifted == 0").passed
    with pytest.raises(ModelValidationFailedError, match="accuracy_score"):
        flightlog.check("accuracy_score > 0.99", raise_on_failure=True)


def test_unknown_and_ambiguous_metrics():
    run_id = _drift_run(shift=0.0)
    with pytest.raises(CheckMetricNotFoundError, match="no metric 'nope'"):
        flightlog.check("nope > 1", run_id=run_id)
    with pytest.raises(CheckMetricNotFoundError, match="ambiguous"):
        flightlog.check("missing_share < 0.1", run_id=run_id)  # quality/<each column>/...
    assert flightlog.check("q > 1", metrics={"q": 2.0}, log=False).passed


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flightlog.cli", *args],
        capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )  # fmt: skip


def test_cli_exit_codes():
    run_id = _drift_run(shift=0.5)
    ok = _cli("check", run_id, "share_of_drifted_columns < 0.3", "accuracy_score > 0.9")
    assert ok.returncode == 0, ok.stderr
    assert "2 of 2 checks passed" in ok.stdout
    failed = _cli("check", run_id, "dataset_drifted == 0", "drift/x/drifted == 0", "--json")
    assert failed.returncode == 1, failed.stderr
    assert '"passed": false' in failed.stdout
    assert _cli("check", run_id, "nope > 1").returncode == 2
    bad = _cli("check", run_id, "accuracy >>> 1")
    assert bad.returncode == 2 and "Cannot read condition" in bad.stderr
    assert flightlog.get_run(run_id).data.tags["flightlog.check.drift/x/drifted.eq.0"] == "fail"
