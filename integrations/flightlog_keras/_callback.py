"""`FlightlogCallback`: a Keras 3 callback that records a `fit()` into a flightlog run.

Importing this module imports keras; the plugin package only loads it when it is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import keras

SUMMARY_FILE = "model_summary.txt"


class FlightlogCallback(keras.callbacks.Callback):
    """Log a Keras training run: settings when it starts, every `logs` entry as it goes.

    At train begin: `epochs`, `steps_per_epoch`, `batch_size`, the optimizer's name and config
    (`optimizer_name`, `optimizer_learning_rate`, ...), early-stopping settings when an
    `EarlyStopping` callback is in the same `fit()`, and the model summary (`model_summary.txt`).
    At each epoch end: every numeric `logs` entry (`loss`, `val_loss`, `precision`,
    `val_precision`, ...) with step = epoch, plus `learning_rate`. With `log_every_n_steps=N`,
    also the batch logs every N batches as `batch_<name>` with step = the global batch index.
    At train end: `stopped_epoch` when early stopping ended training.

    Logging goes through the async queue; a fault inside flightlog is reported once and never
    stops training.

    MLflow's spellings all work (`MlflowCallback` is an alias of this class): MLflow 3's
    `MlflowCallback(log_every_epoch, log_every_n_steps)` and MLflow 2's
    `MlflowCallback(run, log_every_epoch=..., log_every_n_steps=...)`, whose first argument is
    the run (an ActiveRun, a Run or a run id) to log into.

    Mistakes in the arguments are refused here, before training starts, with an
    InvalidParameterError naming the argument (a wrong type, a non-positive step interval, an
    argument given twice, a run id that contradicts `run`). Nothing that happens once `fit()`
    runs (a store that is down, no run to log into, a param conflict) stops training: it is
    warned about once.

    Args:
        log_every_epoch: log the epoch-end `logs` (default True).
        log_every_n_steps: also log batch-level `logs` every N batches.
        run: the run to log into (MLflow 2's argument): an ActiveRun, a Run or a run id.
        run_id: the run to log into; default: the active run (one is started if none is).
        model_id: accepted for MLflow 3 compatibility (its logged-model link); not used.
        log_model_summary: log `model.summary()` as a text artifact.
        on_fault: called with (what, exception) instead of warning (autolog collects faults
            and reports them once, when `fit` returns).
    """

    def __init__(
        self,
        *args: Any,
        log_every_epoch: bool | None = None,
        log_every_n_steps: int | None = None,
        run: Any = None,
        run_id: str | None = None,
        model_id: str | None = None,
        log_model_summary: bool = True,
        on_fault: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        super().__init__()
        log_every_epoch, log_every_n_steps, run_id = callback_arguments(
            args, log_every_epoch, log_every_n_steps, run, run_id
        )
        self.model_id = model_id
        self.run_id = run_id
        self._given_run_id = run_id
        self.log_every_epoch = log_every_epoch
        self.log_every_n_steps = log_every_n_steps
        self.log_model_summary = log_model_summary
        self._on_fault = on_fault
        self._client: Any = None
        self._faulted: set[str] = set()
        self._no_run = False
        self._global_step = 0
        self._early_stopping: Any = None

    # --- Keras hooks ----------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        # A callback reused for another fit() logs into the run active now, unless given one.
        self.run_id, self._client, self._no_run = self._given_run_id, None, False
        self._safely("logging the training settings", self._log_settings)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.log_every_epoch and logs:
            self._safely("logging epoch metrics", self._log_epoch, epoch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._global_step += 1
        n = self.log_every_n_steps
        if n is not None and logs and self._global_step % n == 0:
            self._safely("logging batch metrics", self._log_batch, logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._safely("logging early stopping", self._log_early_stop)

    # --- work -----------------------------------------------------------------------------
    def _safely(self, what: str, fn: Any, *args: Any) -> None:
        if self._no_run:
            return
        try:
            if self._client is None:
                try:
                    self._bind()
                except Exception:
                    self._no_run = True  # no run to log into: stop trying for this callback
                    what = "finding the run to log into"
                    raise
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - a tracking fault must not stop training
            # Each kind of step reports once: a store that is down fails every epoch, and one
            # failed step (a param conflict in a resumed run) must not stop the metrics.
            if what in self._faulted:
                return
            self._faulted.add(what)
            if self._on_fault is not None:
                self._on_fault(what, exc)
            else:
                from flightlog.autolog.reporting import report

                report("keras", what, exc)

    def _bind(self) -> None:
        from flightlog import fluent

        if self.run_id is None:
            self.run_id = fluent._run_id_or_active()
        self._client = fluent._client()

    def _log_settings(self) -> None:
        from flightlog_keras._settings import (
            early_stopping_params,
            find_fit_context,
            optimizer_params,
        )

        params: dict[str, Any] = {}
        if "epochs" in self.params:
            params["epochs"] = self.params["epochs"]
        if self.params.get("steps") is not None:
            params["steps_per_epoch"] = self.params["steps"]
        batch_size, callbacks = find_fit_context(self.model)
        if batch_size is not None:
            params["batch_size"] = batch_size
        self._early_stopping = next(
            (cb for cb in callbacks if isinstance(cb, keras.callbacks.EarlyStopping)), None
        )
        if self._early_stopping is not None:
            params.update(early_stopping_params(self._early_stopping))
        params.update(optimizer_params(self.model.optimizer))
        self._log_params(params)
        if self.log_model_summary:
            self._client.log_text(self.run_id, model_summary(self.model), SUMMARY_FILE)

    def _log_params(self, params: dict[str, Any]) -> None:
        from flightlog.entities import Param

        # Params already in the run with the same value are fine; a different value is refused
        # by the store (params are immutable), which a resumed run with new settings would hit.
        self._client.log_batch(self.run_id, params=[Param(k, v) for k, v in params.items()])

    def _log_epoch(self, epoch: int, logs: dict) -> None:
        metrics = numeric_logs(logs)
        if "learning_rate" not in metrics:
            lr = current_learning_rate(self.model.optimizer)
            if lr is not None:
                metrics["learning_rate"] = lr
        self._log_metrics(metrics, epoch)

    def _log_batch(self, logs: dict) -> None:
        metrics = {f"batch_{k}": v for k, v in numeric_logs(logs).items()}
        self._log_metrics(metrics, self._global_step)

    def _log_metrics(self, metrics: dict[str, float], step: int) -> None:
        timestamp = time.time_ns() // 1_000_000
        for key, value in metrics.items():
            self._client.log_metric(self.run_id, key, value, timestamp, step)

    def _log_early_stop(self) -> None:
        es = self._early_stopping
        if es is not None and getattr(es, "stopped_epoch", 0) > 0:
            self._log_metrics({"stopped_epoch": float(es.stopped_epoch)}, 0)


_POSITIONAL = ("log_every_epoch", "log_every_n_steps")


def callback_arguments(
    args: tuple[Any, ...],
    log_every_epoch: bool | None,
    log_every_n_steps: int | None,
    run: Any,
    run_id: str | None,
) -> tuple[bool, int | None, str | None]:
    """(log_every_epoch, log_every_n_steps, run_id) from the constructor's arguments, in MLflow
    3's order or MLflow 2's (a run first); InvalidParameterError for anything else, so a
    mistake shows before training starts rather than as a TypeError about argument binding."""
    from flightlog.exceptions import InvalidParameterError

    args = list(args)
    if args and _is_run(args[0]):
        if run is not None:
            raise InvalidParameterError(
                "FlightlogCallback got the run twice: as its first argument and as run="
            )
        run = args.pop(0)
    if len(args) > len(_POSITIONAL):
        raise InvalidParameterError(
            f"FlightlogCallback takes at most {len(_POSITIONAL)} positional arguments after the "
            f"run ({', '.join(_POSITIONAL)}), got {len(args)}: {args!r}"
        )
    given = {"log_every_epoch": log_every_epoch, "log_every_n_steps": log_every_n_steps}
    for name, value in zip(_POSITIONAL, args, strict=False):
        if given[name] is not None:
            raise InvalidParameterError(
                f"FlightlogCallback got {name} twice: positionally ({value!r}) and as a keyword "
                f"({given[name]!r})"
            )
        given[name] = value
    every_epoch = True if given["log_every_epoch"] is None else given["log_every_epoch"]
    if type(every_epoch).__name__ not in ("bool", "bool_"):  # Python's or numpy's bool
        raise InvalidParameterError(f"log_every_epoch must be True or False, got {every_epoch!r}")
    n = given["log_every_n_steps"]
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InvalidParameterError(
            f"log_every_n_steps must be a positive integer or None, got {n!r}"
        )
    if run is not None:
        if not _is_run(run):
            raise InvalidParameterError(
                f"run must be an ActiveRun, a Run or a run id, got {type(run).__name__}: {run!r}"
            )
        from_run = run if isinstance(run, str) else run.info.run_id
        if run_id is not None and run_id != from_run:
            raise InvalidParameterError(
                f"FlightlogCallback got run {from_run!r} and run_id {run_id!r}: give one"
            )
        run_id = from_run
    return bool(every_epoch), n, run_id


def _is_run(value: Any) -> bool:
    """An ActiveRun, a Run (anything with info.run_id) or a run id string."""
    if isinstance(value, str):
        return bool(value)
    return isinstance(getattr(getattr(value, "info", None), "run_id", None), str)


def numeric_logs(logs: dict) -> dict[str, float]:
    """The scalar entries of Keras `logs` as floats (tensors, numpy scalars, Python numbers)."""
    out: dict[str, float] = {}
    for key, value in logs.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue  # a non-scalar entry (a user callback may put anything there)
    return out


def current_learning_rate(optimizer: Any) -> float | None:
    lr = getattr(optimizer, "learning_rate", None)
    if lr is None:
        return None
    try:
        return float(keras.ops.convert_to_numpy(lr))
    except Exception:  # noqa: BLE001 - a schedule object or an exotic optimizer
        return None


def model_summary(model: Any) -> str:
    lines: list[str] = []
    # Keras prints the summary with rich; line_length keeps it readable in a text file.
    model.summary(print_fn=lambda line, *a, **k: lines.append(line), line_length=100)
    return "\n".join(lines) + "\n"
