"""The `flightlog` command and the cost of `import flightlog`."""

import json
import os
import subprocess
import sys

import flightlog


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "flightlog.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=60,
    )


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"flightlog {flightlog.__version__}"


def test_experiments_create_list_delete():
    created = run_cli("experiments", "create", "cli-exp", "--json")
    assert created.returncode == 0, created.stderr
    exp_id = json.loads(created.stdout)["experiment_id"]
    listed = run_cli("experiments", "list")
    assert "cli-exp" in listed.stdout and "Default" in listed.stdout
    as_json = json.loads(run_cli("experiments", "list", "--json").stdout)
    assert {e["name"] for e in as_json} == {"Default", "cli-exp"}
    assert run_cli("experiments", "delete", exp_id).returncode == 0
    assert "cli-exp" not in run_cli("experiments", "list").stdout
    assert "cli-exp" in run_cli("experiments", "list", "--view", "deleted").stdout


def test_runs_list_show_delete():
    with flightlog.start_run(run_name="cli-run") as run:
        flightlog.log_param("lr", 0.1)
        flightlog.log_metric("acc", 0.9)
    rid = run.info.run_id
    listed = run_cli("runs", "list")
    assert rid in listed.stdout and "cli-run" in listed.stdout and "FINISHED" in listed.stdout
    filtered = run_cli("runs", "list", "--filter", "metrics.acc < 0.5", "--json")
    assert json.loads(filtered.stdout) == []
    shown = run_cli("runs", "show", rid)
    assert "lr" in shown.stdout and "0.9" in shown.stdout
    shown_json = json.loads(run_cli("runs", "show", rid, "--json").stdout)
    assert shown_json["info"]["run_id"] == rid
    assert run_cli("runs", "delete", rid).returncode == 0
    assert rid not in run_cli("runs", "list").stdout


def test_errors_are_one_line_not_tracebacks():
    out = run_cli("runs", "show", "nosuchrun")
    assert out.returncode == 1
    assert out.stderr.startswith("error:") and "nosuchrun" in out.stderr
    assert "Traceback" not in out.stderr


def test_import_flightlog_loads_no_heavy_modules():
    code = (
        "import sys, flightlog\n"
        "heavy = [m for m in ('sqlalchemy', 'pandas', 'requests', 'numpy', 'alembic', 'yaml')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_runs_list_without_an_experiment_shows_every_experiment_and_says_so():
    flightlog.set_experiment("elsewhere")
    with flightlog.start_run(run_name="not-in-default") as run:
        pass
    listed = run_cli("runs", "list")
    assert listed.returncode == 0, listed.stderr
    assert run.info.run_id in listed.stdout and "EXPERIMENT" in listed.stdout
    assert "elsewhere" in listed.stdout
    assert "every active experiment" in listed.stderr and "--experiment-id" in listed.stderr
    only_default = run_cli("runs", "list", "--experiment-id", "0")
    assert run.info.run_id not in only_default.stdout
    assert "No runs in experiment 0" in only_default.stderr
    picked = run_cli("runs", "list", "--experiment-id", run.info.experiment_id, "--json")
    assert [r["info"]["run_id"] for r in json.loads(picked.stdout)] == [run.info.run_id]
