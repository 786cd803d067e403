"""System-metrics settings: on/off, sampling interval, samples per logged point, node id.

Each setting has a process-wide value set through the public functions
(`flightlog.enable_system_metrics_logging()`, ...) and an environment variable read when the
function was never called. flightlog's variables win over MLflow's, which are honoured so an
MLflow job configured by environment behaves the same.
"""

from __future__ import annotations

import os

from flightlog.exceptions import InvalidParameterError

DEFAULT_INTERVAL_S = 10.0
MIN_INTERVAL_S = 1.0
DEFAULT_SAMPLES_BEFORE_LOGGING = 1

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})

# None: not set by a call, so the environment decides.
_enabled: bool | None = None
_interval: float | None = None
_samples: int | None = None
# What `autolog(log_system_metrics=...)` asked for runs that autolog starts (None: not given).
_autolog: bool | None = None


def _env(name: str) -> str | None:
    """FLIGHTLOG_<name>, else MLFLOW_<name>, else None."""
    for prefix in ("FLIGHTLOG_", "MLFLOW_"):
        value = os.environ.get(prefix + name)
        if value is not None:
            return value
    return None


def _env_flag(name: str) -> bool:
    value = _env(name)
    if value is None:
        return False
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameterError(
        f"Environment variable {name} (FLIGHTLOG_ or MLFLOW_ prefixed) must be true or false, "
        f"got {value!r}"
    )


def enabled() -> bool:
    """Whether new runs record system metrics when start_run is not told either way."""
    return _enabled if _enabled is not None else _env_flag("ENABLE_SYSTEM_METRICS_LOGGING")


def set_enabled(value: bool) -> None:
    global _enabled
    _enabled = bool(value)


def check_interval(seconds: object) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise InvalidParameterError(
            f"The system metrics sampling interval must be a number of seconds, got {seconds!r}"
        )
    value = float(seconds)
    if not value >= MIN_INTERVAL_S:  # also refuses NaN
        raise InvalidParameterError(
            f"The system metrics sampling interval must be at least {MIN_INTERVAL_S:g} s "
            f"(sampling faster costs more than it tells), got {seconds!r}"
        )
    return value


def check_samples(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidParameterError(f"samples_before_logging must be a positive integer, got {n!r}")
    return n


def interval() -> float:
    if _interval is not None:
        return _interval
    value = _env("SYSTEM_METRICS_SAMPLING_INTERVAL")
    if value is None:
        return DEFAULT_INTERVAL_S
    try:
        return check_interval(float(value))
    except ValueError:
        raise InvalidParameterError(
            f"SYSTEM_METRICS_SAMPLING_INTERVAL must be a number of seconds, got {value!r}"
        ) from None


def set_interval(seconds: float | None) -> None:
    """`None` goes back to the environment / the default."""
    global _interval
    _interval = None if seconds is None else check_interval(seconds)


def samples_before_logging() -> int:
    if _samples is not None:
        return _samples
    value = _env("SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING")
    if value is None:
        return DEFAULT_SAMPLES_BEFORE_LOGGING
    try:
        return check_samples(int(value))
    except ValueError:
        raise InvalidParameterError(
            f"SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING must be a positive integer, got {value!r}"
        ) from None


def set_samples_before_logging(n: int | None) -> None:
    global _samples
    _samples = None if n is None else check_samples(n)


def node_id() -> str | None:
    """The node name metrics go under (`system/<node>/...`): set explicitly, else the node's
    rank in a distributed job, else None (a single process: plain `system/...`)."""
    explicit = _env("SYSTEM_METRICS_NODE_ID")
    if explicit:
        return explicit
    from flightlog import distributed

    if distributed.world_size() > 1:
        return f"node{distributed.node_rank()}"
    return None


def set_autolog(value: bool | None) -> None:
    global _autolog
    _autolog = value


def autolog_setting() -> bool | None:
    return _autolog


def reset() -> None:
    """Back to the environment and defaults (tests)."""
    global _enabled, _interval, _samples, _autolog
    _enabled = _interval = _samples = _autolog = None
