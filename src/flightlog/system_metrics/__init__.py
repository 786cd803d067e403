"""System metrics: CPU, memory, disk, network and GPUs, sampled beside the training curves.

    flightlog.enable_system_metrics_logging()        # every new run, or:
    with flightlog.start_run(log_system_metrics=True): ...
    flightlog.autolog(log_system_metrics=True)        # the runs autolog starts

One daemon thread per process samples every `set_system_metrics_sampling_interval(s)` seconds
(default 10, at least 1) and logs the mean of every `set_system_metrics_samples_before_logging(n)`
samples under MLflow's names with the prefix `system/` (`system/cpu_utilization_percentage`,
`system/gpu_0_utilization_percentage`, ...). In a distributed job only local rank 0 of each node
samples, under `system/<node>/...`. The thread stops when the last run recording it ends.

Environment: FLIGHTLOG_ENABLE_SYSTEM_METRICS_LOGGING, ..._SAMPLING_INTERVAL,
..._SAMPLES_BEFORE_LOGGING, ..._NODE_ID (the MLFLOW_ names are honoured too).
psutil and nvidia-ml-py are optional (`pip install 'flightlog[system]'`).
"""

from __future__ import annotations

import threading
from typing import Any

from flightlog.system_metrics import settings

_lock = threading.Lock()
_sampler: Any = None


def enable_system_metrics_logging() -> None:
    """Record system metrics in every run started from now on (unless start_run says no)."""
    settings.set_enabled(True)


def disable_system_metrics_logging() -> None:
    """Stop recording system metrics in new runs (runs already sampling keep going)."""
    settings.set_enabled(False)


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Seconds between two readings (at least 1; None: back to the default of 10)."""
    settings.set_interval(interval)


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """How many readings are averaged into one logged point (None: back to 1)."""
    settings.set_samples_before_logging(samples)


def set_system_metrics_node_id(node_id: str | None) -> None:
    """Log under `system/<node_id>/...` (MLflow's name; an env variable does the same)."""
    import os

    if node_id is None:
        os.environ.pop("FLIGHTLOG_SYSTEM_METRICS_NODE_ID", None)
    else:
        os.environ["FLIGHTLOG_SYSTEM_METRICS_NODE_ID"] = str(node_id)


def wanted(log_system_metrics: bool | None, autologged: bool) -> bool:
    """Whether a run being started records system metrics."""
    if log_system_metrics is None and autologged:
        log_system_metrics = settings.autolog_setting()
    if log_system_metrics is None:
        return settings.enabled()
    return bool(log_system_metrics)


def start_for_run(run_id: str, client: Any, resumed: bool = False) -> bool:
    """Attach `run_id` to the process's sampler (starting it); False where this process
    does not sample (a rank other than its node's local rank 0)."""
    global _sampler
    from flightlog import distributed
    from flightlog.system_metrics.sampler import Sampler

    if distributed.local_rank() != 0:
        return False
    node = settings.node_id()
    step = _next_step(client, run_id) if resumed else 0
    with _lock:
        if _sampler is None:
            _sampler = Sampler(settings.interval(), settings.samples_before_logging())
        _sampler.attach(run_id, client, step, node)
    return True


def stop_for_run(run_id: str) -> None:
    """Detach `run_id`; the thread is stopped and joined when no run is left."""
    global _sampler
    with _lock:
        sampler = _sampler
        if sampler is None:
            return
        if not sampler.detach(run_id):
            return
        _sampler = None
    sampler.stop()


def sampler_stats() -> dict[str, Any]:
    """The running sampler's counters (empty when none runs)."""
    sampler = _sampler
    if sampler is None:
        return {}
    return {
        "interval": sampler.interval,
        "samples_before_logging": sampler.samples_before_logging,
        "samples_taken": sampler.samples_taken,
        "points_logged": sampler.points_logged,
        "runs": sampler.attached(),
    }


def _next_step(client: Any, run_id: str) -> int:
    """The step after the last system point of a resumed run (latest values hold the step)."""
    try:
        run = client.get_run(run_id)
    except Exception:  # noqa: BLE001 - a fresh count is better than no sampling
        return 0
    steps = [m.step for m in getattr(run.data, "_metric_objs", ()) if m.key.startswith("system/")]
    return max(steps) + 1 if steps else 0


__all__ = [
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "sampler_stats",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "start_for_run",
    "stop_for_run",
]
