"""flightlog's Ray Tune integration (a plugin in the `flightlog.integrations` group).

    flightlog.autolog()        # Tuner(...).fit() is one sweep: a parent, a child per trial
    # or explicitly:
    tune.RunConfig(callbacks=[flightlog_ray.FlightlogCallback(metric="loss", mode="min")])

Each trial's child run is made from the driver and from the trial's worker process alike (one
id, derived from the parent and the trial id), so what the trainable logs (and autologged
training inside it) lands in that child. Reported results are metric history with
step = training_iteration; trials end COMPLETE, PRUNED (stopped early: KILLED + tag) or FAILED.
Details: docs/sweeps.md. Importing this package does not import ray.
"""

from __future__ import annotations

from typing import Any

from flightlog_ray._integration import RayTuneIntegration

integration = RayTuneIntegration()


def autolog(**config: Any) -> None:
    """Enable (or with disable=True revert) tracking every `Tuner.fit` as a sweep."""
    integration.autolog(**config)


def __getattr__(name: str) -> Any:
    if name == "FlightlogCallback":
        from flightlog_ray._callback import FlightlogCallback

        return FlightlogCallback
    raise AttributeError(f"module 'flightlog_ray' has no attribute {name!r}")


__all__ = ["FlightlogCallback", "RayTuneIntegration", "autolog", "integration"]
