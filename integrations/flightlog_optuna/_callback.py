"""FlightlogCallback: the explicit form of the Optuna integration.

    callback = FlightlogCallback()
    study.optimize(objective, n_trials=50, callbacks=[callback])   # children made after each trial

    @callback.track_in_flightlog()        # children made when the objective starts, so the
    def objective(trial): ...             # objective's own logging and autolog land in them

The study becomes a sweep (parent run keyed by the study name), one child run per trial; the
parent is closed by `callback.close(study)`, or at the latest when the process exits.
"""

from __future__ import annotations

import atexit
import functools
import threading
from collections.abc import Callable
from typing import Any

from flightlog_optuna._study import StudyTracker


class FlightlogCallback:
    """An Optuna callback (`callbacks=[FlightlogCallback()]`) recording every trial in flightlog."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        metric_name: str | list[str] | None = None,
        experiment_id: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> None:
        self._options = {
            "tracking_uri": tracking_uri,
            "metric_name": metric_name,
            "experiment_id": experiment_id,
            "tags": tags,
        }
        self._trackers: dict[int, StudyTracker] = {}
        self._lock = threading.Lock()
        self._catch: tuple = ()
        atexit.register(self.close)

    def tracker(self, study: Any) -> StudyTracker:
        """This study's sweep (opened on first use)."""
        with self._lock:
            tracker = self._trackers.get(id(study))
            if tracker is None:
                tracker = self._trackers[id(study)] = StudyTracker(study, **self._options)
            return tracker

    def __call__(self, study: Any, frozen_trial: Any) -> None:
        self.tracker(study).finish(frozen_trial)

    def track_in_flightlog(self, catch: tuple = ()) -> Callable:
        """Decorate the objective so each trial's child run is active while it runs. Pass the
        same `catch` as to optimize(), so trials Optuna re-raises are ended FAILED at once."""

        def decorator(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
            @functools.wraps(func)
            def objective(trial: Any) -> Any:
                return self.tracker(trial.study).wrap(func, tuple(catch))(trial)

            return objective

        return decorator

    def close(self, study: Any = None) -> None:
        """Leave the sweep of `study` (all studies when None): the last process ends the parent."""
        with self._lock:
            if study is None:
                trackers = list(self._trackers.values())
                self._trackers.clear()
            else:
                found = self._trackers.pop(id(study), None)
                trackers = [found] if found is not None else []
        for tracker in trackers:
            tracker.close()
