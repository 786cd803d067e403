"""The fluent API: experiments, the active-run stack, logging and system tags."""

import math
import os
import subprocess
import sys

import pytest

import flightlog
from flightlog.exceptions import ExperimentNotActiveError, InvalidParameterError


def test_new_store_has_default_experiment():
    default = flightlog.get_experiment("0")
    assert default.name == "Default"
    assert flightlog.get_experiment_by_name("Default").experiment_id == "0"


def test_run_without_experiment_goes_to_default_and_context_marks_finished():
    with flightlog.start_run() as run:
        flightlog.log_metric("m", 1.0)
        assert flightlog.active_run().info.run_id == run.info.run_id
    assert flightlog.active_run() is None
    stored = flightlog.get_run(run.info.run_id)
    assert stored.info.experiment_id == "0"
    assert stored.info.status == "FINISHED"
    assert stored.info.run_name  # a generated name
    assert flightlog.last_active_run().info.run_id == run.info.run_id


def test_exception_in_block_marks_run_failed_and_propagates():
    with pytest.raises(ZeroDivisionError), flightlog.start_run() as run:
        flightlog.log_param("p", 1)
        1 / 0  # noqa: B018
    stored = flightlog.get_run(run.info.run_id)
    assert stored.info.status == "FAILED"
    assert stored.data.params == {"p": "1"}


def test_nested_runs_stack_and_tag_parent():
    with flightlog.start_run(run_name="parent") as parent:
        with flightlog.start_run(run_name="child", nested=True) as child:
            assert flightlog.active_run().info.run_id == child.info.run_id
            with flightlog.start_run(nested=True) as grandchild:
                pass
        assert flightlog.active_run().info.run_id == parent.info.run_id
    assert (
        flightlog.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    )
    assert (
        flightlog.get_run(grandchild.info.run_id).data.tags["mlflow.parentRunId"]
        == child.info.run_id
    )


def test_second_top_level_run_without_nested_is_refused():
    with flightlog.start_run() as run:
        with pytest.raises(InvalidParameterError, match=run.info.run_id):
            flightlog.start_run()
        assert flightlog.active_run().info.run_id == run.info.run_id


def test_system_tags_set_at_start():
    with flightlog.start_run() as run:
        pass
    tags = flightlog.get_run(run.info.run_id).data.tags
    assert tags["mlflow.user"]
    assert tags["mlflow.source.name"]
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.runName"] == run.info.run_name


def test_git_commit_tag_when_script_is_in_a_git_repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=a@b", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    script = repo / "train.py"
    script.write_text(
        "import flightlog\n"
        "with flightlog.start_run() as r:\n"
        "    pass\n"
        "print(flightlog.get_run(r.info.run_id).data.tags.get('mlflow.source.git.commit'))\n"
    )
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    out = subprocess.run(
        [sys.executable, str(script)], check=True, capture_output=True, text=True, env=os.environ
    )
    assert out.stdout.strip().splitlines()[-1] == head


def test_metrics_steps_timestamps_and_latest_value():
    client = flightlog.MlflowClient()
    with flightlog.start_run() as run:
        for step in range(5):
            flightlog.log_metric("loss", 1.0 / (step + 1), step=step)
        flightlog.log_metric("loss", 9.0, step=2, timestamp=1)  # an older point, not the latest
        flightlog.log_metrics({"a": 1, "b": 2.5}, step=7)
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 2, 3, 4]
    data = flightlog.get_run(run.info.run_id).data
    assert data.metrics["loss"] == pytest.approx(0.2)
    assert data.metrics["a"] == 1.0 and data.metrics["b"] == 2.5


def test_nan_and_inf_are_stored_as_mlflow_does():
    with flightlog.start_run() as run:
        flightlog.log_metric("nan", float("nan"))
        flightlog.log_metric("pinf", float("inf"))
        flightlog.log_metric("ninf", float("-inf"))
    metrics = flightlog.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["pinf"] == sys.float_info.max
    assert metrics["ninf"] == -sys.float_info.max


def test_tags_set_and_delete():
    with flightlog.start_run() as run:
        flightlog.set_tag("a", "1")
        flightlog.set_tags({"b": 2, "c": "three"})
        flightlog.delete_tag("a")
    tags = flightlog.get_run(run.info.run_id).data.tags
    assert "a" not in tags
    assert tags["b"] == "2" and tags["c"] == "three"


def test_log_without_active_run_starts_one():
    flightlog.log_metric("x", 1.0)
    run = flightlog.active_run()
    assert run is not None
    flightlog.end_run()
    assert flightlog.get_run(run.info.run_id).data.metrics == {"x": 1.0}


def test_resume_a_finished_run_by_id():
    with flightlog.start_run() as run:
        flightlog.log_metric("x", 1.0, step=0)
    with flightlog.start_run(run_id=run.info.run_id):
        flightlog.log_metric("x", 2.0, step=1)
    stored = flightlog.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.metrics["x"] == 2.0


def test_set_experiment_creates_and_reuses():
    exp = flightlog.set_experiment("my-exp")
    again = flightlog.set_experiment("my-exp")
    assert exp.experiment_id == again.experiment_id
    with flightlog.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id
    by_id = flightlog.set_experiment(experiment_id=exp.experiment_id)
    assert by_id.name == "my-exp"


def test_set_deleted_experiment_is_refused():
    exp_id = flightlog.create_experiment("gone")
    flightlog.delete_experiment(exp_id)
    with pytest.raises(ExperimentNotActiveError, match="gone"):
        flightlog.set_experiment("gone")
    flightlog.restore_experiment(exp_id)
    assert flightlog.set_experiment("gone").experiment_id == exp_id


def test_delete_and_restore_run_and_experiment_views():
    exp_id = flightlog.create_experiment("views")
    with flightlog.start_run(experiment_id=exp_id) as run:
        pass
    flightlog.delete_run(run.info.run_id)
    assert flightlog.search_runs([exp_id], output_format="list") == []
    deleted = flightlog.search_runs([exp_id], run_view_type="DELETED_ONLY", output_format="list")
    assert [r.info.run_id for r in deleted] == [run.info.run_id]
    flightlog.restore_run(run.info.run_id)
    assert len(flightlog.search_runs([exp_id], output_format="list")) == 1

    flightlog.delete_experiment(exp_id)
    names = [e.name for e in flightlog.search_experiments()]
    assert "views" not in names
    assert "views" in [e.name for e in flightlog.search_experiments(view_type="DELETED_ONLY")]
    flightlog.restore_experiment(exp_id)
    assert "views" in [e.name for e in flightlog.search_experiments()]


def test_search_runs_list_without_pandas_flag():
    with flightlog.start_run() as run:
        flightlog.log_metric("acc", 0.7)
    runs = flightlog.search_runs(output_format="list")
    assert [r.info.run_id for r in runs] == [run.info.run_id]


def test_flush_and_queue_stats_are_exposed():
    with flightlog.start_run():
        flightlog.log_metric("m", 1.0)
        assert flightlog.flush(timeout=10) is True
    stats = flightlog.queue_stats()
    for key in ("queued", "written", "retried", "spooled", "failed"):
        assert key in stats
