"""Ray Tune: a Tune run is one parent with one child per trial; the trial's worker process logs
into the same child; reported results are history; failed trials end FAILED."""

from __future__ import annotations

from collections import Counter

import pytest

ray = pytest.importorskip("ray")
tune = pytest.importorskip("ray.tune")

from sweep_helpers import sweep_runs  # noqa: E402

import flightlog  # noqa: E402
from flightlog.sweeps import names  # noqa: E402


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()
    flightlog.autolog(disable=True)


def test_eight_trials_one_parent_eight_children_with_their_results(local_ray, tmp_path):
    def _train(config):  # a local function: Ray pickles it by value to the workers
        from ray import tune

        import flightlog

        for i in range(3):
            flightlog.log_metric("from_worker", config["x"], step=i)  # in the worker process
            if config["x"] == 3 and i == 1:
                raise ValueError("x=3 diverged")
            tune.report({"loss": (config["x"] - 4) ** 2 + i, "acc": i / 3})

    flightlog.autolog()
    tuner = tune.Tuner(
        _train,
        param_space={"x": tune.grid_search(list(range(8)))},
        tune_config=tune.TuneConfig(metric="loss", mode="min"),
        run_config=tune.RunConfig(name="ray-sweep", storage_path=str(tmp_path / "ray"), verbose=0),
    )
    tuner.fit()
    client = flightlog.TrackingClient()
    parents, children, top = sweep_runs(client)
    assert len(parents) == 1 and len(children) == 8 and top == parents
    parent = client.get_run(parents[0].info.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags[names.SWEEP_KEY_TAG] == "ray-sweep"
    assert parent.data.tags[names.OBJECTIVE_TAG] == "loss"
    by_x = {int(c.data.params["x"]): c for c in children}
    assert sorted(by_x) == list(range(8))
    assert Counter(c.data.tags[names.TRIAL_STATE_TAG] for c in children) == {
        "COMPLETE": 7,
        "FAILED": 1,
    }
    failed = by_x[3]
    assert failed.info.status == "FAILED" and "diverged" in failed.data.tags[names.TRIAL_ERROR_TAG]
    for x, child in by_x.items():
        worker_points = client.get_metric_history(child.info.run_id, "from_worker")
        assert {m.value for m in worker_points} == {float(x)}
        if x == 3:
            continue
        history = client.get_metric_history(child.info.run_id, "loss")
        assert sorted((m.step, m.value) for m in history) == [
            (1, (x - 4) ** 2),
            (2, (x - 4) ** 2 + 1),
            (3, (x - 4) ** 2 + 2),
        ]
    assert parent.data.tags[names.BEST_RUN_TAG] == by_x[4].info.run_id
    assert parent.data.params["best_x"] == "4"
    assert parent.data.tags["flightlog.sweep.n_failed"] == "1"
