"""GPU metrics through the real pynvml, against a stand-in libnvidia-ml.so.1 (fake_nvml.c).

pynvml dlopens "libnvidia-ml.so.1"; the dynamic loader reads LD_LIBRARY_PATH when a process
starts, so each case runs a child Python with it pointing at the compiled stand-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import flightlog
from flightlog.system_metrics.gpu import visible_indices

pytest.importorskip("pynvml")
pytest.importorskip("psutil")

CHILD = textwrap.dedent(
    """
    import json, sys, time, threading
    import flightlog
    from flightlog.system_metrics import sampler_stats
    flightlog.set_system_metrics_sampling_interval(1)
    with flightlog.start_run(log_system_metrics=True) as run:
        end = time.monotonic() + 120
        while sampler_stats().get("samples_taken", 0) < 3 and time.monotonic() < end:
            time.sleep(0.05)
    left = [t.name for t in threading.enumerate() if t.name == "flightlog-system-metrics"]
    print(json.dumps({"run_id": run.info.run_id, "threads": left}))
    """
)


def run_child(fake_nvml_dir, visible: str | None) -> tuple[str, dict[str, list]]:
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(fake_nvml_dir)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=240
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["threads"] == []
    client = flightlog.MlflowClient()
    run = client.get_run(result["run_id"])
    series = {
        key: [p.value for p in client.get_metric_history(result["run_id"], key)]
        for key in run.data.metrics
        if key.startswith("system/gpu_")
    }
    return result["run_id"], series


def test_every_gpu_with_utilisation_memory_power_temperature_and_clocks(fake_nvml_dir):
    _, series = run_child(fake_nvml_dir, None)
    assert {k.split("_")[1] for k in series} == {"0", "1", "2"}
    assert all(len(values) >= 3 for values in series.values())
    # Values the stand-in derives from the device index, read through the real pynvml.
    assert set(series["system/gpu_1_utilization_percentage"]) == {30.0}
    assert set(series["system/gpu_1_memory_usage_megabytes"]) == {2000.0}
    assert set(series["system/gpu_1_memory_total_megabytes"]) == {16000.0}
    assert set(series["system/gpu_1_memory_usage_percentage"]) == {12.5}
    assert set(series["system/gpu_1_power_usage_watts"]) == {101.0}
    assert series["system/gpu_1_power_usage_percentage"][0] == pytest.approx(25.25)
    assert set(series["system/gpu_1_temperature_celsius"]) == {41.0}
    assert set(series["system/gpu_1_sm_clock_mhz"]) == {1401.0}
    assert set(series["system/gpu_1_memory_clock_mhz"]) == {5001.0}
    # Device 2 does not support power readings: the rest of it is still recorded.
    assert "system/gpu_2_power_usage_watts" not in series
    assert set(series["system/gpu_2_utilization_percentage"]) == {50.0}


def test_only_the_gpus_cuda_visible_devices_leaves(fake_nvml_dir):
    _, series = run_child(fake_nvml_dir, "2,0")
    assert {k.split("_")[1] for k in series} == {"0", "2"}


def test_visible_devices_by_uuid(fake_nvml_dir):
    _, series = run_child(fake_nvml_dir, "GPU-00000001")
    assert {k.split("_")[1] for k in series} == {"1"}


def test_no_visible_gpu_records_no_gpu_metric(fake_nvml_dir):
    _, series = run_child(fake_nvml_dir, "")
    assert series == {}


def test_visible_indices_parses_as_cuda_does():
    uuids = [f"GPU-{i:08d}-aaaa" for i in range(4)].__getitem__
    assert visible_indices(4, uuids, None) == [0, 1, 2, 3]
    assert visible_indices(4, uuids, "") == []
    assert visible_indices(4, uuids, "-1") == []
    assert visible_indices(4, uuids, "3,1") == [3, 1]
    assert visible_indices(4, uuids, "1,7,2") == [1]  # CUDA stops at the first bad entry
    assert visible_indices(4, uuids, "GPU-00000002") == [2]
    assert visible_indices(4, uuids, "GPU-0000") == []  # ambiguous prefix
    assert visible_indices(4, uuids, "MIG-abc") == []
    assert visible_indices(4, uuids, "0,0") == [0]
