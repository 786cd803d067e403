"""Every validation rule raises a specific error naming the culprit, and stored data is intact."""

import pytest

import flightlog
from flightlog.entities import Metric, Param
from flightlog.exceptions import (
    ExperimentAlreadyExistsError,
    ExperimentNotFoundError,
    InvalidKeyError,
    InvalidValueError,
    ParamConflictError,
    RunNotActiveError,
    RunNotFoundError,
)
from flightlog.validation import MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH


@pytest.fixture()
def run_with_data():
    """An open run holding one param, one metric and one tag."""
    run = flightlog.start_run()
    flightlog.log_param("lr", "0.1")
    flightlog.log_metric("loss", 0.5, step=0)
    flightlog.set_tag("team", "a")
    flightlog.flush()
    yield run
    flightlog.end_run()


def assert_intact(run_id):
    data = flightlog.get_run(run_id).data
    assert data.params == {"lr": "0.1"}
    assert data.metrics == {"loss": 0.5}
    assert data.tags["team"] == "a"
    history = flightlog.MlflowClient().get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.5)]


@pytest.mark.parametrize(
    "bad_key",
    ["", "a" * (MAX_KEY_LENGTH + 1), "bad!key", "semi;colon", "../escape", "/abs", "a//b", "a/./b"],
)
def test_bad_metric_param_and_tag_keys(run_with_data, bad_key):
    for call in (
        lambda: flightlog.log_metric(bad_key, 1.0),
        lambda: flightlog.log_param(bad_key, 1),
        lambda: flightlog.set_tag(bad_key, "x"),
    ):
        with pytest.raises(InvalidKeyError) as info:
            call()
        shown = bad_key[:40] if bad_key else "empty"
        assert shown in str(info.value)
    assert_intact(run_with_data.info.run_id)


def test_key_of_exactly_the_limit_is_accepted(run_with_data):
    key = "k" * MAX_KEY_LENGTH
    flightlog.log_metric(key, 1.0)
    flightlog.flush()
    assert flightlog.get_run(run_with_data.info.run_id).data.metrics[key] == 1.0


@pytest.mark.parametrize("bad_value", ["0.5", None, [1.0], {"a": 1}, 1 + 2j])
def test_non_numeric_metric_values(run_with_data, bad_value):
    with pytest.raises(InvalidValueError, match="loss"):
        flightlog.log_metric("loss", bad_value, step=1)
    assert_intact(run_with_data.info.run_id)


def test_numpy_scalars_are_numbers(run_with_data):
    np = pytest.importorskip("numpy")
    flightlog.log_metric("np", np.float32(0.25), step=np.int64(3))
    flightlog.flush()
    history = flightlog.MlflowClient().get_metric_history(run_with_data.info.run_id, "np")
    assert [(m.step, m.value) for m in history] == [(3, 0.25)]


def test_too_long_param_and_tag_values(run_with_data):
    with pytest.raises(InvalidValueError, match="'big'.*6001"):
        flightlog.log_param("big", "x" * (MAX_PARAM_VALUE_LENGTH + 1))
    with pytest.raises(InvalidValueError, match="'big'.*8001"):
        flightlog.set_tag("big", "x" * (MAX_TAG_VALUE_LENGTH + 1))
    flightlog.log_param("ok_param", "x" * MAX_PARAM_VALUE_LENGTH)
    flightlog.set_tag("ok_tag", "x" * MAX_TAG_VALUE_LENGTH)
    flightlog.flush()
    data = flightlog.get_run(run_with_data.info.run_id).data
    assert len(data.params["ok_param"]) == MAX_PARAM_VALUE_LENGTH
    assert "big" not in data.params and "big" not in data.tags


def test_param_relogged_with_other_value(run_with_data):
    flightlog.log_param("lr", "0.1")  # the same value again is fine
    with pytest.raises(ParamConflictError) as info:
        flightlog.log_param("lr", "0.2")
    message = str(info.value)
    assert "lr" in message and "0.1" in message and "0.2" in message
    assert_intact(run_with_data.info.run_id)


def test_param_conflict_in_a_batch_stores_nothing_of_it(run_with_data):
    client = flightlog.MlflowClient()
    with pytest.raises(ParamConflictError, match="lr"):
        client.log_batch(
            run_with_data.info.run_id,
            metrics=[Metric("other", 1.0, 0, 0)],
            params=[Param("fresh", "1"), Param("lr", "9")],
            synchronous=True,
        )
    flightlog.flush()
    assert_intact(run_with_data.info.run_id)
    assert "fresh" not in flightlog.get_run(run_with_data.info.run_id).data.params


def test_unknown_run_and_experiment_ids():
    client = flightlog.MlflowClient()
    with pytest.raises(RunNotFoundError, match="deadbeef"):
        client.get_run("deadbeef")
    with pytest.raises(RunNotFoundError, match="deadbeef"):
        client.log_metric("deadbeef", "m", 1.0)
    with pytest.raises(ExperimentNotFoundError, match="12345"):
        client.get_experiment("12345")
    with pytest.raises(ExperimentNotFoundError, match="12345"):
        client.create_run("12345")


def test_duplicate_experiment_name():
    exp_id = flightlog.create_experiment("dup", tags={"v": "1"})
    with pytest.raises(ExperimentAlreadyExistsError, match="dup"):
        flightlog.create_experiment("dup", tags={"v": "2"})
    exp = flightlog.get_experiment(exp_id)
    assert exp.tags == {"v": "1"}
    assert [e.name for e in flightlog.search_experiments()].count("dup") == 1


def test_logging_to_finished_run_is_refused():
    with flightlog.start_run() as run:
        flightlog.log_metric("m", 1.0)
    client = flightlog.MlflowClient()
    for call in (
        lambda: client.log_metric(run.info.run_id, "m", 2.0),
        lambda: client.log_param(run.info.run_id, "p", 1),
        lambda: client.set_tag(run.info.run_id, "t", "x"),
    ):
        with pytest.raises(RunNotActiveError, match=run.info.run_id):
            call()
    data = flightlog.get_run(run.info.run_id).data
    assert data.metrics == {"m": 1.0}
    assert data.params == {}
    assert "t" not in data.tags


def test_logging_to_deleted_run_is_refused_even_by_a_fresh_client():
    with flightlog.start_run() as run:
        flightlog.log_metric("m", 1.0)
    flightlog.delete_run(run.info.run_id)
    from flightlog.client import _writable_runs

    _writable_runs.clear()  # as a different process would see it
    with pytest.raises(RunNotActiveError, match="deleted"):
        flightlog.MlflowClient().log_metric(run.info.run_id, "m", 2.0)
    flightlog.restore_run(run.info.run_id)
    assert flightlog.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_bad_experiment_names():
    from flightlog.exceptions import InvalidParameterError

    for bad in ("", "   ", None, 5):
        with pytest.raises(InvalidParameterError):
            flightlog.create_experiment(bad)
    assert [e.name for e in flightlog.search_experiments()] == ["Default"]
