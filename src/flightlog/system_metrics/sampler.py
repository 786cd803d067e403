"""The one sampler thread: reads the collectors every interval and logs into attached runs.

A process has at most one sampler thread however many runs record system metrics: the
readings describe the machine, not a run, so each sample is logged into every attached run
(each with its own step counter, so a resumed run continues its steps). The thread starts when
the first run attaches and is stopped and joined when the last one detaches; a run that
detaches gets one last point from a fresh reading, so a short run is not left without its
final seconds.

Cost: each tick is a handful of psutil/NVML reads and one queued log_batch (no store round
trip on this thread), measured in benchmarks/bench_system_metrics.py.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flightlog.system_metrics.collectors import COUNTERS

PREFIX = "system/"
_logger = logging.getLogger("flightlog.system_metrics")
_noted: set[str] = set()


def note(message: str, quiet: bool = False) -> None:
    """Say once per process why something is not recorded (`quiet`: expected, e.g. no NVIDIA
    driver on a CPU machine, so info rather than a warning)."""
    if message not in _noted:
        _noted.add(message)
        level = logging.INFO if quiet else logging.WARNING
        _logger.log(level, "flightlog system metrics: %s", message)


@dataclass
class _Attached:
    client: Any
    step: int
    prefix: str


@dataclass
class _Buffer:
    """Readings not yet logged: gauges are averaged, counters keep their last value."""

    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    samples: int = 0
    timestamp_ms: int = 0

    def add(self, reading: dict[str, float], timestamp_ms: int) -> None:
        for key, value in reading.items():
            if key in COUNTERS:
                self.last[key] = value
            else:
                self.sums[key] = self.sums.get(key, 0.0) + value
                self.counts[key] = self.counts.get(key, 0) + 1
        self.samples += 1
        self.timestamp_ms = timestamp_ms

    def values(self) -> dict[str, float]:
        out = {key: total / self.counts[key] for key, total in self.sums.items()}
        out.update(self.last)
        return out


class Sampler:
    """The process's sampler thread and the runs it logs into."""

    def __init__(self, interval: float, samples_before_logging: int) -> None:
        self.interval = interval
        self.samples_before_logging = samples_before_logging
        self._runs: dict[str, _Attached] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._collectors: list[Any] | None = None
        self._buffer = _Buffer()
        self._thread: threading.Thread | None = None
        self.samples_taken = 0
        self.points_logged = 0
        self._last_read = time.monotonic()

    # --- runs -----------------------------------------------------------------------------
    def attach(self, run_id: str, client: Any, step: int, node: str | None) -> None:
        prefix = PREFIX + (f"{node}/" if node else "")
        with self._lock:
            self._runs[run_id] = _Attached(client, step, prefix)
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._loop, name="flightlog-system-metrics", daemon=True
                )
                self._thread.start()

    def detach(self, run_id: str) -> bool:
        """Log a last point into `run_id` and stop logging there; True if no run is left."""
        with self._lock:
            attached = self._runs.get(run_id)
            if attached is None:
                return not self._runs
            if self._collectors:
                self._log_final(run_id, attached)
            self._runs.pop(run_id, None)
            return not self._runs

    def _log_final(self, run_id: str, attached: _Attached) -> None:
        """The readings since the last logged point, with a fresh one when enough time has
        passed for rates (CPU percent) to mean something."""
        final = _Buffer()
        final.sums, final.counts = dict(self._buffer.sums), dict(self._buffer.counts)
        final.last, final.samples = dict(self._buffer.last), self._buffer.samples
        final.timestamp_ms = self._buffer.timestamp_ms
        if time.monotonic() - self._last_read >= 0.25 * self.interval:
            final.add(self._read(), _now_ms())
        if final.samples:
            self._log_into(run_id, attached, final.values(), final.timestamp_ms)

    def attached(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop and join the thread (called once no run is attached)."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._close_collectors()

    # --- the thread -------------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._open_collectors()
        except Exception as exc:  # noqa: BLE001 - a broken collector must not break the run
            note(f"the collectors could not start ({exc!r})")
            return
        while not self._stop.wait(self.interval):
            try:
                self._tick()
            except Exception as exc:  # noqa: BLE001
                note(f"a reading failed and sampling stopped ({exc!r})")
                break
            with self._lock:
                if not self._runs:  # every run was ended elsewhere (client.set_terminated)
                    break
        with self._lock:
            if self._thread is threading.current_thread():
                self._thread = None
        if self._stop.is_set() or not self.attached():
            self._close_collectors()

    def _open_collectors(self) -> None:
        from flightlog.system_metrics.collectors import host_collectors
        from flightlog.system_metrics.gpu import gpu_collectors

        collectors = host_collectors(note) + gpu_collectors(note)
        with self._lock:
            self._collectors = collectors

    def _close_collectors(self) -> None:
        with self._lock:
            collectors, self._collectors = self._collectors or [], None
        for collector in collectors:
            close = getattr(collector, "close", None)
            if close is not None:
                close()

    def _read(self) -> dict[str, float]:
        reading: dict[str, float] = {}
        for collector in self._collectors or ():
            reading.update(collector.sample())
        self.samples_taken += 1
        self._last_read = time.monotonic()
        return reading

    def _tick(self) -> None:
        with self._lock:
            if not self._collectors:
                return
            self._buffer.add(self._read(), _now_ms())
            if self._buffer.samples < self.samples_before_logging:
                return
            buffer, self._buffer = self._buffer, _Buffer()
            values = buffer.values()
            for run_id, attached in list(self._runs.items()):
                self._log_into(run_id, attached, values, buffer.timestamp_ms)

    def _log_into(
        self, run_id: str, attached: _Attached, values: dict[str, float], timestamp_ms: int
    ) -> None:
        from flightlog.entities import Metric

        if not values:
            return
        metrics = [
            Metric(attached.prefix + k, v, timestamp_ms, attached.step) for k, v in values.items()
        ]
        try:
            attached.client.log_batch(run_id, metrics=metrics)
        except Exception as exc:  # noqa: BLE001 - the run was ended elsewhere, or deleted
            self._runs.pop(run_id, None)
            _logger.debug("system metrics for run %s stopped: %r", run_id, exc)
            return
        attached.step += 1
        self.points_logged += 1


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
