"""System-metrics fixtures: settings reset around each test, no sampler left behind, and the
stand-in NVML library (fake_nvml.c compiled with gcc) for GPU readings."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

SAMPLER_THREAD = "flightlog-system-metrics"
FAKE_NVML_SOURCE = Path(__file__).with_name("fake_nvml.c")


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == SAMPLER_THREAD]


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch):
    from flightlog.system_metrics import settings

    for prefix in ("FLIGHTLOG_", "MLFLOW_"):
        for name in (
            "ENABLE_SYSTEM_METRICS_LOGGING",
            "SYSTEM_METRICS_SAMPLING_INTERVAL",
            "SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING",
            "SYSTEM_METRICS_NODE_ID",
        ):
            monkeypatch.delenv(prefix + name, raising=False)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture(scope="session")
def fake_nvml_dir(tmp_path_factory) -> Path:
    """A folder holding libnvidia-ml.so.1 built from fake_nvml.c (pynvml dlopens that name,
    so LD_LIBRARY_PATH pointing here makes the real pynvml talk to it)."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler to build the stand-in NVML library")
    out = tmp_path_factory.mktemp("fake-nvml")
    subprocess.run(
        [
            gcc,
            "-shared",
            "-fPIC",
            "-O2",
            "-o",
            str(out / "libnvidia-ml.so.1"),
            str(FAKE_NVML_SOURCE),
        ],
        check=True,
    )
    return out
