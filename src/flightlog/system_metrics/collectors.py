"""Host and process readings through psutil, under MLflow's system-metric names.

Each collector's `sample()` returns {name: value} for one instant; the sampler averages a
gauge over the samples of one logged point and keeps the last value of a counter
(`COUNTERS`). psutil is an optional dependency (`pip install flightlog[system]`): without it
`host_collectors()` returns nothing and says why once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

# Values that only grow (amounts since sampling began): a logged point is the last sample.
COUNTERS = frozenset({"network_receive_megabytes", "network_transmit_megabytes"})

_MB = 1e6


class CpuMemoryCollector:
    """System CPU (percent of all cores, 0..100 as MLflow reports it) and memory."""

    def __init__(self, psutil: Any) -> None:
        self._psutil = psutil
        psutil.cpu_percent(interval=None)  # the first call only starts the measurement

    def sample(self) -> dict[str, float]:
        ps = self._psutil
        memory = ps.virtual_memory()
        return {
            "cpu_utilization_percentage": ps.cpu_percent(interval=None),
            "system_memory_usage_megabytes": memory.used / _MB,
            "system_memory_usage_percentage": memory.used / memory.total * 100,
        }


class ProcessCollector:
    """This process's own CPU (percent of one core: 200 = two cores busy) and resident memory."""

    def __init__(self, psutil: Any) -> None:
        self._process = psutil.Process(os.getpid())
        self._process.cpu_percent(interval=None)

    def sample(self) -> dict[str, float]:
        process = self._process
        with process.oneshot():
            cpu = process.cpu_percent(interval=None)
            rss = process.memory_info().rss
        return {
            "process_cpu_utilization_percentage": cpu,
            "process_memory_rss_megabytes": rss / _MB,
        }


class DiskCollector:
    """The disk holding the working directory's root filesystem (MLflow reads `/` too)."""

    def __init__(self, psutil: Any, path: str = os.sep) -> None:
        self._psutil = psutil
        self._path = path

    def sample(self) -> dict[str, float]:
        usage = self._psutil.disk_usage(self._path)
        return {
            "disk_usage_percentage": usage.percent,
            "disk_usage_megabytes": usage.used / _MB,
            "disk_available_megabytes": usage.free / _MB,
        }


class NetworkCollector:
    """Megabytes received and sent by the host since sampling began."""

    def __init__(self, psutil: Any) -> None:
        self._psutil = psutil
        start = psutil.net_io_counters()
        self._recv0 = start.bytes_recv if start is not None else 0
        self._sent0 = start.bytes_sent if start is not None else 0

    def sample(self) -> dict[str, float]:
        now = self._psutil.net_io_counters()
        if now is None:  # no network interfaces (some containers)
            return {}
        return {
            "network_receive_megabytes": (now.bytes_recv - self._recv0) / _MB,
            "network_transmit_megabytes": (now.bytes_sent - self._sent0) / _MB,
        }


def host_collectors(note: Callable[[str], None]) -> list[Any]:
    """The psutil collectors, or [] (with one note) when psutil is not installed."""
    try:
        import psutil
    except ImportError:
        note(
            "psutil is not installed, so CPU, memory, disk and network metrics are not "
            "recorded; install it with `pip install 'flightlog[system]'`"
        )
        return []
    return [
        CpuMemoryCollector(psutil),
        ProcessCollector(psutil),
        DiskCollector(psutil),
        NetworkCollector(psutil),
    ]
