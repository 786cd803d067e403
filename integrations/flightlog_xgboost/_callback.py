"""The XGBoost training callback that streams every eval metric to a run, round by round.

Importing this module imports xgboost: the plugin package only loads it when training starts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import xgboost

# MLflow's metric-name alphabet; XGBoost metrics such as "ndcg@5" or "error@0.7" fall outside it.
_INVALID_KEY_CHARS = re.compile(r"[^/\w.\- :]")


def metric_key(data_name: str, metric_name: str) -> str:
    """`<eval name>-<metric>`, the name MLflow's XGBoost autolog uses, made a legal key."""
    key = f"{data_name}-{metric_name}".replace("@", "_at_")
    return _INVALID_KEY_CHARS.sub("_", key)


def _run_id_argument(value: Any) -> str | None:
    """A run id from a run id, an ActiveRun or a Run; InvalidParameterError for anything else."""
    if value is None or (isinstance(value, str) and value):
        return value
    run_id = getattr(getattr(value, "info", None), "run_id", None)
    if isinstance(run_id, str):
        return run_id
    from flightlog.exceptions import InvalidParameterError

    raise InvalidParameterError(
        f"run_id must be a run id string, an ActiveRun or a Run, got {type(value).__name__}: "
        f"{value!r}"
    )


class FlightlogCallback(xgboost.callback.TrainingCallback):
    """Log each eval metric after every boosting round, with step = the round's index.

    Pass it to `xgboost.train(..., callbacks=[FlightlogCallback()])` or to an `XGBModel`'s
    `callbacks`; autolog injects one for you. Logging goes through the async queue, so a live UI
    sees the curves grow during training while the round itself only pays for a queue append.
    A fault inside flightlog is reported once and never stops training.

    Mistakes in the arguments (a run id that is not a string or a run, an `on_fault` that is
    not callable) raise InvalidParameterError here, before training starts; once training runs,
    a fault is only warned about.

    Args:
        run_id: the run to log into: a run id, or the ActiveRun / Run itself; default: the
            active run (one is started if none is).
        on_fault: called with (what, exception) instead of warning (autolog collects faults
            and reports them once, when the training call returns).
    """

    def __init__(
        self,
        run_id: Any = None,
        on_fault: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        super().__init__()
        run_id = _run_id_argument(run_id)
        if on_fault is not None and not callable(on_fault):
            from flightlog.exceptions import InvalidParameterError

            raise InvalidParameterError(
                f"on_fault must be a callable or None, got {type(on_fault).__name__}"
            )
        self.run_id = run_id
        self._given_run_id = run_id
        self.last_iteration: int | None = None
        self._on_fault = on_fault
        self._client: Any = None
        self._failed = False
        self._keys: dict[tuple[str, str], str] = {}

    def before_training(self, model: Any) -> Any:
        # A callback reused for another training logs into the run active now, unless given one.
        self.run_id, self._client, self._failed = self._given_run_id, None, False
        self.last_iteration = None
        try:
            self._bind()
        except Exception as exc:  # noqa: BLE001 - a tracking fault must not stop training
            self._fail(exc)
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
        self.last_iteration = epoch
        if self._failed or not evals_log:
            return False
        try:
            if self._client is None:
                self._bind()
            self._log_round(epoch, evals_log)
        except Exception as exc:  # noqa: BLE001 - a tracking fault must not stop training
            self._fail(exc)
        return False  # never ask XGBoost to stop: that is the user's callbacks' decision

    def _bind(self) -> None:
        from flightlog import fluent

        if self.run_id is None:
            self.run_id = fluent._run_id_or_active()
        self._client = fluent._client()

    def _log_round(self, epoch: int, evals_log: dict) -> None:
        client = self._client
        timestamp = time.time_ns() // 1_000_000
        for data_name, metrics in evals_log.items():
            for metric_name, history in metrics.items():
                if not history:
                    continue
                latest = history[-1]
                key = self._keys.get((data_name, metric_name))
                if key is None:
                    key = self._keys[data_name, metric_name] = metric_key(data_name, metric_name)
                if isinstance(latest, tuple):
                    # xgboost.cv reports (mean, std) per round.
                    client.log_metric(self.run_id, key, float(latest[0]), timestamp, epoch)
                    client.log_metric(self.run_id, f"{key}-std", float(latest[1]), timestamp, epoch)
                else:
                    client.log_metric(self.run_id, key, float(latest), timestamp, epoch)

    def _fail(self, exc: BaseException) -> None:
        # One report per training: a store that failed once would fail every round.
        self._failed = True
        what = "logging metrics during training"
        if self._on_fault is not None:
            self._on_fault(what, exc)
        else:
            from flightlog.autolog.reporting import report

            report("xgboost", what, exc)
