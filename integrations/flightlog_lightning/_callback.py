"""FlightlogCallback: a Lightning Callback that records a fit (and validate/test) into a run.

`FlightlogCallback` subclasses the Callback class of every installed Lightning namespace
(`lightning.pytorch` and/or `pytorch_lightning`), so one class works with either Trainer.
Importing this module imports the installed Lightning package(s).
"""

from __future__ import annotations

from typing import Any

from flightlog_lightning import _namespaces
from flightlog_lightning._hooks import RecorderHooks
from flightlog_lightning._recorder import LightningRecorder, options_from_arguments

_bases = tuple(_namespaces.load(ns).Callback for ns in _namespaces.installed())
if not _bases:  # pragma: no cover - the package is only imported where Lightning is
    raise ImportError("FlightlogCallback needs `lightning` or `pytorch_lightning` installed")


class FlightlogCallback(RecorderHooks, *_bases):  # type: ignore[misc]
    """Record a Lightning fit into a flightlog run: `Trainer(callbacks=[FlightlogCallback()])`.

    What it records: hyperparameters from `save_hyperparameters()`, optimizer, scheduler, Trainer
    and early-stopping settings (params); every metric you `self.log` at each epoch end, with
    step = epoch, and the learning rates; the model summary; at the end, the best checkpoint
    (or the final weights) as a logged model with a signature from a real batch. `validate()`
    and `test()` results are logged too. See flightlog_lightning._recorder for the details.

    Args:
        run_id: log into this run (resumed if ended); default: the active run, else a new run
            that is ended when fit ends.
        experiment_name, run_name, tags: for a new run.
        tracking_uri: log to this store instead of the current one.
        log_models: log the model at the end of fit.
        log_model_signatures, log_input_examples: with the model.
        log_model_summary: log `model_summary.txt`.
        log_every_n_epoch: log epoch metrics every N epochs.
        log_every_n_step: also log step-level values every N optimizer steps (as `<name>_step`).
        checkpoint: log the best checkpoint (of a ModelCheckpoint monitoring a metric, or the
            best epoch EarlyStopping saw) rather than the final weights.
        registered_model_name: also register the logged model under this name.
        exclusive: do not log into a run you started yourself.
        silent: no warning when flightlog fails (training is never affected either way).
        log_every_rank: in a multi-process fit, every rank also logs its epoch metrics as
            `rank<N>/<name>` (default: the FLIGHTLOG_LOG_EVERY_RANK environment variable).
            Either way the job is one run, with params and the model logged once, by rank 0.
    """

    def __init__(
        self,
        *,
        run_id: str | None = None,
        experiment_name: str | None = None,
        run_name: str | None = None,
        tags: dict[str, Any] | None = None,
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
        RecorderHooks.__init__(self, LightningRecorder(options_from_arguments(locals())))
