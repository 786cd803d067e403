"""System metrics on CPU: the sampler thread, its names and values, when it runs and stops."""

from __future__ import annotations

import os
import time

import pytest

import flightlog
from flightlog.exceptions import InvalidParameterError
from flightlog.system_metrics import sampler_stats
from tests.system_metrics.conftest import sampler_threads

pytest.importorskip("psutil")

CPU_MEMORY = (
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/process_cpu_utilization_percentage",
    "system/process_memory_rss_megabytes",
)
ALL_HOST = CPU_MEMORY + (
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
    "system/network_receive_megabytes",
    "system/network_transmit_megabytes",
)


def wait_for_samples(n: int, deadline_s: float = 120.0) -> None:
    """Wait until the sampler has taken `n` readings (never a fixed sleep: CI is slow)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if sampler_stats().get("samples_taken", 0) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(
        f"the sampler took fewer than {n} samples in {deadline_s} s: {sampler_stats()}"
    )


def history(run_id: str, key: str):
    return flightlog.MlflowClient().get_metric_history(run_id, key)


def test_one_second_sampling_records_every_host_metric_with_plausible_values():
    flightlog.set_system_metrics_sampling_interval(1)
    with flightlog.start_run(log_system_metrics=True) as run:
        assert len(sampler_threads()) == 1
        wait_for_samples(4)
    run_id = run.info.run_id
    cores = os.cpu_count() or 1
    for key in ALL_HOST:
        points = history(run_id, key)
        assert len(points) >= 4, (key, len(points))
        steps = [p.step for p in points]
        assert steps == list(range(len(points))), (key, steps)
    for p in history(run_id, "system/cpu_utilization_percentage"):
        assert 0 <= p.value <= 100
    for p in history(run_id, "system/process_cpu_utilization_percentage"):
        assert 0 <= p.value <= 100 * cores
    for p in history(run_id, "system/system_memory_usage_percentage"):
        assert 0 < p.value <= 100
    assert all(p.value > 0 for p in history(run_id, "system/process_memory_rss_megabytes"))
    assert all(p.value >= 0 for p in history(run_id, "system/network_receive_megabytes"))
    # The sampler stops with the run: no thread is left.
    assert sampler_threads() == []
    assert sampler_stats() == {}


def test_a_run_without_system_metrics_has_none_and_starts_no_thread():
    with flightlog.start_run() as run:
        flightlog.log_metric("loss", 1.0)
        assert sampler_threads() == []
    flightlog.flush()
    keys = flightlog.get_run(run.info.run_id).data.metrics
    assert keys == {"loss": 1.0}


def test_enable_and_disable_apply_to_new_runs():
    flightlog.set_system_metrics_sampling_interval(1)
    flightlog.enable_system_metrics_logging()
    with flightlog.start_run() as on:
        wait_for_samples(1)
    flightlog.disable_system_metrics_logging()
    with flightlog.start_run() as off:
        assert sampler_threads() == []
    # start_run(log_system_metrics=False) overrides the global switch.
    flightlog.enable_system_metrics_logging()
    with flightlog.start_run(log_system_metrics=False) as refused:
        assert sampler_threads() == []
    flightlog.flush()
    assert any(k.startswith("system/") for k in flightlog.get_run(on.info.run_id).data.metrics)
    assert not flightlog.get_run(off.info.run_id).data.metrics
    assert not flightlog.get_run(refused.info.run_id).data.metrics


@pytest.mark.parametrize("prefix", ["FLIGHTLOG_", "MLFLOW_"])
def test_environment_switches_it_on(monkeypatch, prefix):
    monkeypatch.setenv(prefix + "ENABLE_SYSTEM_METRICS_LOGGING", "true")
    monkeypatch.setenv(prefix + "SYSTEM_METRICS_SAMPLING_INTERVAL", "1")
    with flightlog.start_run() as run:
        assert sampler_stats()["interval"] == 1.0
        wait_for_samples(2)
    flightlog.flush()
    assert "system/cpu_utilization_percentage" in flightlog.get_run(run.info.run_id).data.metrics
    assert sampler_threads() == []


def test_bad_environment_value_is_a_clear_warning_and_the_run_still_starts(monkeypatch):
    monkeypatch.setenv("FLIGHTLOG_ENABLE_SYSTEM_METRICS_LOGGING", "maybe")
    with pytest.warns(UserWarning, match="ENABLE_SYSTEM_METRICS_LOGGING"):
        run = flightlog.start_run()
    assert flightlog.active_run().info.run_id == run.info.run_id
    flightlog.end_run()
    assert sampler_threads() == []


def test_samples_before_logging_averages_readings_into_one_point():
    flightlog.set_system_metrics_sampling_interval(1)
    flightlog.set_system_metrics_samples_before_logging(3)
    with flightlog.start_run(log_system_metrics=True) as run:
        wait_for_samples(6)
        stats = sampler_stats()
    points = history(run.info.run_id, "system/process_memory_rss_megabytes")
    # Two full points of three readings by the time we ended (maybe a third, partial, one).
    assert stats["points_logged"] >= 2
    assert 2 <= len(points) <= stats["samples_taken"] // 3 + 2


def test_interval_and_samples_are_checked():
    for bad in (0.5, 0, -1, "10", True, float("nan")):
        with pytest.raises(InvalidParameterError, match="interval"):
            flightlog.set_system_metrics_sampling_interval(bad)
    for bad in (0, -3, 1.5, "2", False):
        with pytest.raises(InvalidParameterError, match="samples_before_logging"):
            flightlog.set_system_metrics_samples_before_logging(bad)
    flightlog.set_system_metrics_sampling_interval(None)
    from flightlog.system_metrics import settings

    assert settings.interval() == 10.0
    assert settings.samples_before_logging() == 1


def test_node_id_prefixes_the_names():
    flightlog.set_system_metrics_sampling_interval(1)
    flightlog.set_system_metrics_node_id("trainer-a")
    try:
        with flightlog.start_run(log_system_metrics=True) as run:
            wait_for_samples(1)
    finally:
        flightlog.set_system_metrics_node_id(None)
    flightlog.flush()
    keys = set(flightlog.get_run(run.info.run_id).data.metrics)
    assert "system/trainer-a/cpu_utilization_percentage" in keys
    assert not any(k.startswith("system/cpu") for k in keys)


def test_two_runs_share_one_thread_and_it_stops_after_the_last():
    flightlog.set_system_metrics_sampling_interval(1)
    client = flightlog.MlflowClient()
    with flightlog.start_run(log_system_metrics=True) as outer:
        with flightlog.start_run(nested=True, log_system_metrics=True) as inner:
            assert len(sampler_threads()) == 1
            assert set(sampler_stats()["runs"]) == {outer.info.run_id, inner.info.run_id}
            wait_for_samples(2)
        assert len(sampler_threads()) == 1  # the outer run still samples
        assert sampler_stats()["runs"] == [outer.info.run_id]
    assert sampler_threads() == []
    for run in (outer, inner):
        assert client.get_metric_history(run.info.run_id, "system/cpu_utilization_percentage")


def test_resumed_run_continues_the_steps():
    flightlog.set_system_metrics_sampling_interval(1)
    with flightlog.start_run(log_system_metrics=True) as run:
        wait_for_samples(2)
    first = [p.step for p in history(run.info.run_id, "system/process_memory_rss_megabytes")]
    with flightlog.start_run(run_id=run.info.run_id, log_system_metrics=True):
        wait_for_samples(2)
    steps = [p.step for p in history(run.info.run_id, "system/process_memory_rss_megabytes")]
    assert steps[: len(first)] == first
    assert len(steps) > len(first)
    assert sorted(steps) == list(range(len(steps)))  # no step used twice


def test_a_run_ended_through_the_client_stops_the_thread():
    flightlog.set_system_metrics_sampling_interval(1)
    run = flightlog.start_run(log_system_metrics=True)
    wait_for_samples(1)
    flightlog.MlflowClient().set_terminated(run.info.run_id)
    deadline = time.monotonic() + 60
    while sampler_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sampler_threads() == []
    from flightlog import fluent

    with fluent._lock:  # the run stays on the stack; end it without a second terminate
        fluent._active_runs.clear()


def test_autolog_option_is_checked_and_applies_to_autolog_runs():
    from flightlog.exceptions import AutologConfigError
    from flightlog.system_metrics import settings

    with pytest.raises(AutologConfigError, match="log_system_metrics"):
        flightlog.autolog(log_system_metrics="yes")
    flightlog.autolog(log_system_metrics=True)
    try:
        assert settings.autolog_setting() is True
        flightlog.set_system_metrics_sampling_interval(1)
        # A run autolog starts (tagged mlflow.autologging) samples; a user's run does not.
        with flightlog.start_run(tags={"mlflow.autologging": "sklearn"}):
            assert len(sampler_threads()) == 1
        with flightlog.start_run():
            assert sampler_threads() == []
    finally:
        flightlog.autolog(disable=True)
