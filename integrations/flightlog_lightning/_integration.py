"""The Lightning integration object: `Trainer.fit`, `validate` and `test` attach a recorder.

Patched, in `lightning.pytorch` and in `pytorch_lightning` (whichever get imported):
`Trainer.fit`, `Trainer.validate`, `Trainer.test`. The wrapper appends a one-namespace
FlightlogCallback to `trainer.callbacks` for the duration of the call, unless the user already
attached a FlightlogCallback (it records, not autolog) or passed a FlightlogLogger (its companion
callback is attached instead). A trainer keeps its autolog recorder between calls, so `test()`
after `fit()` logs into the fit's run.
"""

from __future__ import annotations

import weakref
from types import ModuleType
from typing import Any

from flightlog.autolog import reporting, session
from flightlog.autolog.integration import AutologIntegration
from flightlog.autolog.patching import Patcher

# mlflow.pytorch.autolog's Lightning options. flightlog logs the Trainer's own best checkpoint
# (or EarlyStopping's best epoch) as the model; the checkpoint_* options that configure
# MLflow's separate checkpoint callback are accepted so MLflow code runs unchanged.
EXTRA_OPTIONS = {
    "log_every_n_epoch": 1,
    "log_every_n_step": None,
    "log_model_summary": True,
    "checkpoint": True,
    "checkpoint_monitor": "val_loss",
    "checkpoint_mode": "min",
    "checkpoint_save_best_only": True,
    "checkpoint_save_weights_only": False,
    "checkpoint_save_freq": "epoch",
    # Multi-process fits: every rank also logs `rank<N>/...` epoch metrics (None: env decides).
    "log_every_rank": None,
}

_PATCHED_METHODS = ("fit", "validate", "test")


class LightningIntegration(AutologIntegration):
    name = "lightning"
    module = "lightning"
    extra_options = EXTRA_OPTIONS

    def __init__(self) -> None:
        super().__init__()
        self._recorders: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def patch_targets(self):
        return {"lightning.pytorch": self._patch, "pytorch_lightning": self._patch}

    def check_options(self, values: dict[str, Any]) -> None:
        from flightlog.exceptions import AutologConfigError

        if values.get("log_every_rank") not in (None, True, False):
            raise AutologConfigError(
                "Autolog option 'log_every_rank' must be True, False or None, got "
                f"{values['log_every_rank']!r}"
            )
        for key in ("log_every_n_epoch", "log_every_n_step"):
            n = values[key]
            if n is None and key == "log_every_n_step":
                continue
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise AutologConfigError(
                    f"Autolog option {key!r} must be a positive integer"
                    + (" or None" if key == "log_every_n_step" else "")
                    + f", got {n!r}"
                )

    def on_revert(self) -> None:
        self._recorders = weakref.WeakKeyDictionary()

    def _patch(self, module: ModuleType, patcher: Patcher) -> None:
        trainer_class = module.Trainer
        wrapper = self._wrapper(module.__name__)
        for method in _PATCHED_METHODS:
            patcher.wrap(trainer_class, method, wrapper)

    def _wrapper(self, namespace: str):
        integration = self

        def autolog_trainer_call(wrapped, instance, args, kwargs):
            config = integration.config
            if config is None or session.active():
                return wrapped(*args, **kwargs)
            added = None
            try:
                added = integration._attach(instance, namespace, config)
            except Exception as exc:  # noqa: BLE001 - the Trainer runs without flightlog then
                reporting.report(
                    integration.name, "attaching the recorder", exc, silent=config.silent
                )
            try:
                with session.frame(integration.name):
                    return wrapped(*args, **kwargs)
            finally:
                if added is not None:
                    try:
                        instance.callbacks.remove(added)
                    except ValueError:
                        pass

        return autolog_trainer_call

    def _attach(self, trainer: Any, namespace: str, config: Any) -> Any:
        """Attach the recorder callback for one call; the callback added, or None."""
        from flightlog_lightning._hooks import RecorderHooks, RecorderLoggerMarker, callback_class

        if any(isinstance(cb, RecorderHooks) for cb in trainer.callbacks):
            return None  # the user's FlightlogCallback records this call
        loggers = [lg for lg in (trainer.loggers or []) if isinstance(lg, RecorderLoggerMarker)]
        if loggers:
            loggers[0].attach(trainer)
            return None
        recorder = self._recorders.get(trainer)
        if recorder is None or recorder.config is not config:
            recorder = _AutologRecorder(self._recorder_for(config), config)
            self._recorders[trainer] = recorder
        callback = callback_class(namespace)(recorder.recorder)
        trainer.callbacks.append(callback)
        return callback

    def _recorder_for(self, config: Any) -> Any:
        from flightlog_lightning._recorder import LightningRecorder, RecorderOptions

        options = RecorderOptions(
            log_models=config.log_models,
            log_model_signatures=config.log_model_signatures,
            log_input_examples=config.log_input_examples,
            log_model_summary=config.log_model_summary,
            log_every_n_epoch=config.log_every_n_epoch,
            log_every_n_step=config.log_every_n_step,
            checkpoint=config.checkpoint,
            registered_model_name=config.registered_model_name,
            exclusive=config.exclusive,
            silent=config.silent,
            extra_tags=dict(config.extra_tags or {}),
            log_every_rank=config.get("log_every_rank"),
        )
        recorder = LightningRecorder(options, integration=self.name)
        recorder.mlflow_checkpoints = bool(config.checkpoint)  # MLflow's checkpoint artifacts
        return recorder


class _AutologRecorder:
    """A trainer's autolog recorder and the config it was made with."""

    def __init__(self, recorder: Any, config: Any) -> None:
        self.recorder = recorder
        self.config = config
