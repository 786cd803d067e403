"""FlightlogLogger: a Lightning Logger (`Trainer(logger=FlightlogLogger())`).

A Logger only receives `log_hyperparams` and `log_metrics(metrics, step)` dicts, which cannot
tell an epoch value from a step value. So the logger shares FlightlogCallback's recorder and,
when the Trainer hands it the model (`log_graph`, at the start of fit) or autolog sees it,
attaches a companion callback that feeds the recorder Lightning's hooks: the records are then
exactly FlightlogCallback's (epoch metrics with step = epoch, the model at the end, ...). Without
a companion (a Trainer with enable_autolog_hparams=False), metrics are logged as Lightning hands
them, with Lightning's step.

One logger is one run: created on first use (or the `run_id` given), ended by `finalize`, and
resumed by a later fit/validate/test with the same logger.

Importing this module imports the installed Lightning package(s).
"""

from __future__ import annotations

import weakref
from typing import Any

from flightlog_lightning import _namespaces
from flightlog_lightning._hooks import RecorderLoggerMarker
from flightlog_lightning._recorder import LightningRecorder, options_from_arguments

_bases = tuple(_namespaces.load(ns).loggers.Logger for ns in _namespaces.installed())
if not _bases:  # pragma: no cover - the package is only imported where Lightning is
    raise ImportError("FlightlogLogger needs `lightning` or `pytorch_lightning` installed")


def _is_rank_zero() -> bool:
    try:
        from lightning_utilities.core.rank_zero import rank_zero_only
    except ImportError:  # pragma: no cover
        return True
    return getattr(rank_zero_only, "rank", 0) == 0


class FlightlogLogger(RecorderLoggerMarker, *_bases):  # type: ignore[misc]
    """Log a Lightning run to flightlog: `Trainer(logger=FlightlogLogger())`.

    Records what FlightlogCallback records (params, epoch metrics with step = epoch, learning
    rates, model summary, the best checkpoint or final model with a signature, validate/test
    results). Arguments as FlightlogCallback's, plus `experiment_name` (the logger's `name`).
    `version` and `run_id` are the run id.
    """

    def __init__(
        self,
        experiment_name: str | None = None,
        run_name: str | None = None,
        tags: dict[str, Any] | None = None,
        *,
        run_id: str | None = None,
        tracking_uri: str | None = None,
        log_models: bool = True,
        log_model_signatures: bool = True,
        log_input_examples: bool = False,
        log_model_summary: bool = True,
        log_every_n_epoch: int = 1,
        log_every_n_step: int | None = None,
        checkpoint: bool = True,
        registered_model_name: str | None = None,
        exclusive: bool = False,
        silent: bool = False,
        log_every_rank: bool | None = None,
    ) -> None:
        super().__init__()
        self._recorder = LightningRecorder(options_from_arguments(locals()))
        self._recorder.sticky_run = True
        self._companion_for: Any = None  # weakref to the trainer the companion is attached to

    @property
    def recorder(self) -> LightningRecorder:
        return self._recorder

    # --- Logger properties ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._recorder.options.experiment_name or "flightlog"

    @property
    def version(self) -> str | None:
        """The run id (the run is started when first asked for, on the global-zero process)."""
        if self._recorder.run_id is None and _is_rank_zero():
            self._recorder.open_run()
        return self._recorder.run_id

    @property
    def run_id(self) -> str | None:
        return self.version

    @property
    def save_dir(self) -> str | None:
        return None

    @property
    def experiment(self) -> Any:
        """A TrackingClient for the logger's store (MLFlowLogger's `experiment` is a client)."""
        from flightlog.client import TrackingClient

        return TrackingClient(self._recorder.options.tracking_uri)

    # --- Logger methods ----------------------------------------------------------------------
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        if not _is_rank_zero():
            return
        if not isinstance(params, dict):
            params = vars(params)  # an argparse Namespace
        self._recorder.hparams(params)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if not _is_rank_zero() or self._companion_active():
            return  # the companion callback records the stage, with epoch steps
        self._recorder.logger_metrics(metrics, step)

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        trainer = getattr(model, "_trainer", None)
        if trainer is not None:
            self.attach(trainer)
            self._recorder.ensure_fit(trainer, model)

    def save(self) -> None:
        """Nothing to do: records are queued and written by flightlog's writer."""

    def finalize(self, status: str) -> None:
        if _is_rank_zero():
            self._recorder.finalize(status)

    # --- the companion callback --------------------------------------------------------------
    def attach(self, trainer: Any) -> None:
        """Put the companion callback on `trainer` (once) so the recorder gets its hooks."""
        from flightlog_lightning._hooks import callback_class

        if not self._has_companion(trainer):
            trainer.callbacks.append(callback_class(_namespaces.of(trainer))(self._recorder))
        self._companion_for = weakref.ref(trainer)

    def _companion_active(self) -> bool:
        trainer = self._companion_for() if self._companion_for is not None else None
        return trainer is not None and self._has_companion(trainer)

    def _has_companion(self, trainer: Any) -> bool:
        """Whether `trainer` has a callback feeding this logger's recorder."""
        from flightlog_lightning._hooks import RecorderHooks

        return any(
            isinstance(cb, RecorderHooks) and cb.recorder is self._recorder
            for cb in trainer.callbacks
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_companion_for"] = None
        return state
