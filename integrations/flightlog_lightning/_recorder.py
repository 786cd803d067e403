"""The one implementation behind FlightlogCallback, FlightlogLogger and Lightning autolog.

A LightningRecorder receives Lightning's hooks (from a callback, or from a logger through its
companion callback) and turns a `fit` into one run:

- fit start: `save_hyperparameters()` values, optimizer and scheduler settings, Trainer settings,
  early-stopping settings, the model summary (`model_summary.txt`);
- each epoch end: every metric in `trainer.callback_metrics` that was updated during the epoch
  (`train_loss`, `val_loss`, `val_precision`, ...; Lightning's `*_step` copies are left out and a
  `*_epoch` copy only kept when the plain name is absent) and the learning rates, with
  step = the epoch index. The epoch is written when the next epoch starts (or training ends), so
  values the LightningModule logs in its own `on_train_epoch_end` are included;
- every `log_every_n_step` optimizer steps (opt-in): the step-level values, as `<name>_step`,
  with step = `trainer.global_step`;
- fit end: early-stopping results, then the model: the best checkpoint of a ModelCheckpoint
  that monitors a metric, else (with EarlyStopping) the weights of the best epoch it saw, else
  the final weights; with a signature inferred from the first input the model was called on;
- `validate()` / `test()` outside fit: the metrics they produced, into the active run, else the
  run of this recorder's last fit, else a new run.

Only the global-zero process records anything, so a distributed fit is one run. Any fault is
reported once (one warning; an exception in test mode) and recording stops for that fit; the
training itself never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from flightlog_torch._tracking import RunTarget

from flightlog_lightning import _distributed
from flightlog_lightning._model_logging import (
    BestEpochWeights,
    LatestCheckpoint,
    log_trained_model,
)

MODEL_SUMMARY_FILE = "model_summary.txt"
_EXAMPLE_ROWS = 5


@dataclass
class RecorderOptions:
    log_models: bool = True
    log_model_signatures: bool = True
    log_input_examples: bool = False
    log_model_summary: bool = True
    log_every_n_epoch: int = 1
    log_every_n_step: int | None = None
    checkpoint: bool = True
    registered_model_name: str | None = None
    exclusive: bool = False
    silent: bool = False
    extra_tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    experiment_name: str | None = None
    run_name: str | None = None
    tracking_uri: str | None = None
    # Distributed fits: every rank also logs `rank<N>/...` epoch metrics (None: the
    # FLIGHTLOG_LOG_EVERY_RANK environment variable decides).
    log_every_rank: bool | None = None

    def check(self) -> None:
        """Refuse argument mistakes when the callback or logger is built, before training
        starts, naming the argument (nothing that happens during a fit may stop it)."""
        from flightlog.exceptions import InvalidParameterError

        for name in _BOOL_OPTIONS:
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise InvalidParameterError(f"{name} must be True or False, got {value!r}")
        for name in _TEXT_OPTIONS:
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and value):
                raise InvalidParameterError(
                    f"{name} must be a non-empty string or None, got {type(value).__name__}: "
                    f"{value!r}"
                )
        n = self.log_every_n_epoch
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidParameterError(f"log_every_n_epoch must be a positive integer, got {n!r}")
        n = self.log_every_n_step
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise InvalidParameterError(
                f"log_every_n_step must be a positive integer or None, got {n!r}"
            )


_BOOL_OPTIONS = (
    "log_models",
    "log_model_signatures",
    "log_input_examples",
    "log_model_summary",
    "checkpoint",
    "exclusive",
    "silent",
)
_TEXT_OPTIONS = ("run_id", "experiment_name", "run_name", "tracking_uri", "registered_model_name")


def make_options(**kwargs: Any) -> RecorderOptions:
    """RecorderOptions from keyword arguments; `tags` becomes `extra_tags`; a run_id may be
    the ActiveRun or Run itself."""
    from flightlog.exceptions import InvalidParameterError

    tags = kwargs.pop("tags", None)
    if tags is not None and not isinstance(tags, dict):
        raise InvalidParameterError(f"tags must be a dict or None, got {type(tags).__name__}")
    run_id = getattr(getattr(kwargs.get("run_id"), "info", None), "run_id", None)
    if isinstance(run_id, str):
        kwargs["run_id"] = run_id
    options = RecorderOptions(**kwargs)
    options.extra_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    return options


# The constructor arguments of FlightlogCallback and FlightlogLogger: every option, with
# `tags` in place of `extra_tags`.
_CONSTRUCTOR_OPTIONS = {"tags"} | {f.name for f in fields(RecorderOptions)} - {"extra_tags"}


def options_from_arguments(arguments: dict[str, Any]) -> RecorderOptions:
    """RecorderOptions from a constructor's `locals()`.

    FlightlogCallback and FlightlogLogger keep explicit signatures (what users and IDEs read) but
    share this one mapping to options; a signature that lacks an option fails here, loudly.
    """
    missing = _CONSTRUCTOR_OPTIONS - arguments.keys()
    if missing:  # pragma: no cover - a programming error, caught by any test constructing one
        raise TypeError(f"constructor arguments lack recorder options {sorted(missing)}")
    return make_options(**{name: arguments[name] for name in _CONSTRUCTOR_OPTIONS})


def _is_zero(trainer: Any) -> bool:
    return bool(getattr(trainer, "is_global_zero", True))


def _scalar(value: Any) -> float | None:
    try:
        if hasattr(value, "numel") and value.numel() != 1:
            return None
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        return None


def epoch_level(metrics: dict[str, Any]) -> dict[str, Any]:
    """Lightning's callback metrics without the per-step copies: `x_step` is dropped, and
    `x_epoch` too when `x` (the same epoch value under the name the user logged) is there."""
    out = {}
    for key, value in metrics.items():
        if key.endswith("_step") and (key[:-5] in metrics or f"{key[:-5]}_epoch" in metrics):
            continue
        if key.endswith("_epoch") and key[:-6] in metrics:
            continue
        out[key] = value
    return out


class LightningRecorder:
    """Lightning's hooks in, one run's params, metrics, artifacts and model out (see above)."""

    def __init__(self, options: RecorderOptions, integration: str = "lightning") -> None:
        options.check()
        self.options = options
        self.integration = integration
        self.last_run_id: str | None = None
        # MLflow's checkpoints/latest_checkpoint* artifacts: autolog's recorders only.
        self.mlflow_checkpoints = False
        self._pending_hparams: dict[str, Any] = {}
        self._target: RunTarget | None = None
        # A logger keeps one run across fit/validate/test (and later fits resume it).
        self.sticky_run = False
        self._rank = _distributed.RankState()
        self._resume_run_id: str | None = None  # from the checkpoint a fit resumes from
        self._reset()

    def _reset(self) -> None:
        """Forget the previous stage's state (an open run stays open)."""
        self._stage: str | None = None
        self._failed = False
        self._pending_epoch: int | None = None
        self._pending_lrs: dict[str, float] = {}
        self._epoch_lrs: dict[str, float] = {}
        # metric -> the value object last read: Lightning replaces it when the metric is updated
        # (kept, not its id(), so a freed tensor's address being reused cannot fool the check).
        self._seen: dict[str, Any] = {}
        # The model's input for the signature and the program: the first batch's first tensor,
        # replaced by the first input forward() really receives once it has been called.
        self._example: Any = None
        self._hook: Any = None
        self._best = BestEpochWeights()
        self._latest_checkpoint = LatestCheckpoint()
        self._last_step_logged = -1

    # --- pickling (ddp_spawn sends callbacks to the worker processes) ----------------------
    def __getstate__(self) -> dict[str, Any]:
        from flightlog import fluent
        from flightlog.config import get_tracking_uri

        options = RecorderOptions(**vars(self.options))
        inherited_uri = None
        if options.tracking_uri is None:
            inherited_uri = get_tracking_uri()  # the worker's default store is the parent's
        active = fluent.active_run()
        if options.run_id is None and active is not None and not options.exclusive:
            options.run_id = active.info.run_id  # the worker logs into the parent's run
        return {
            "options": options,
            "integration": self.integration,
            "last_run_id": None,
            "inherited_uri": inherited_uri,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.options = state["options"]
        self.integration = state["integration"]
        self.last_run_id = state["last_run_id"]
        inherited_uri = state.get("inherited_uri")
        if inherited_uri is not None:
            # The parent's store becomes this worker's current one (not a private client), so
            # the run is the worker's active run and its own log_metric calls reach it.
            from flightlog import config

            if config.get_tracking_uri() != inherited_uri:
                config.set_tracking_uri(inherited_uri)
        self._pending_hparams = {}
        self._target = None
        self.sticky_run = False
        self._rank = _distributed.RankState()
        self._resume_run_id = None
        self._reset()

    # --- fault isolation -------------------------------------------------------------------
    def _safely(self, what: str, fn: Any, *args: Any) -> Any:
        if self._failed:
            return None
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - a tracking fault must never stop training
            self._failed = True
            self._remove_hook()
            from flightlog.autolog.reporting import report

            report(self.integration, what, exc, silent=self.options.silent)
            return None

    @property
    def active(self) -> bool:
        return self._target is not None and not self._failed

    # --- run -------------------------------------------------------------------------------
    def _open(self, run_id: str | None = None) -> bool:
        o = self.options
        target = RunTarget(
            self.integration,
            run_id=run_id or o.run_id,
            exclusive=o.exclusive,
            tags=o.extra_tags,
            run_name=o.run_name,
            experiment_name=o.experiment_name,
            tracking_uri=o.tracking_uri,
            log_every_rank=o.log_every_rank,
        )
        if not target.open():
            return False
        self._target = target
        if self.sticky_run:
            self.options.run_id = target.run_id
        return True

    def open_run(self) -> str | None:
        """Open the run now (a logger's `version` is asked for before fit starts)."""
        if self._target is None and not self._failed:
            self._safely("starting the run", self._open)
        return self.run_id

    def _close(self, status: str) -> None:
        target, self._target = self._target, None
        self._stage = None
        if target is not None:
            self.last_run_id = target.run_id
            target.close(status)

    def _end(self, status: str) -> None:
        """End the stage's run whatever happened before (a run must never be left open)."""
        try:
            self._close(status)
        except Exception as exc:  # noqa: BLE001
            if not self._failed:
                self._failed = True
                from flightlog.autolog.reporting import report

                report(self.integration, "ending the run", exc, silent=self.options.silent)

    @property
    def run_id(self) -> str | None:
        return self._target.run_id if self._target is not None else self.last_run_id

    # --- fit -------------------------------------------------------------------------------
    def ensure_fit(self, trainer: Any, module: Any) -> None:
        """Begin recording a fit (idempotent; a companion attached late begins on any hook)."""
        if self._stage in ("fit", "rank"):
            return
        state = getattr(getattr(trainer, "state", None), "fn", None)
        if str(getattr(state, "value", state)) != "fit":
            return
        if _is_zero(trainer):
            self._reset()
            self._stage = "fit"
            self._safely("starting the run", self._begin_fit, trainer, module)
            self._share_run(trainer)
        else:
            self._share_run(trainer)
            self._join_run()

    # --- distributed fits (flightlog_lightning._distributed) -------------------------------
    def _share_run(self, trainer: Any) -> None:
        """Every rank, once per fit: rank 0's run id to all (a collective, so never skipped)."""
        try:
            _distributed.share_run(trainer, self._rank, self.run_id if self.active else None)
        except Exception as exc:  # noqa: BLE001 - tracking must never stop training
            from flightlog.autolog.reporting import report

            report(self.integration, "sharing the run id", exc, silent=self.options.silent)

    def _join_run(self) -> None:
        """A rank other than 0: the job's run becomes its active run; with per-rank logging its
        epoch metrics go there as `rank<N>/...` (never params or the model)."""
        self._stage = "rank"

        def join() -> None:
            _distributed.join(self._rank)
            if self._rank.run_id and _distributed.per_rank(self.options.log_every_rank):
                target = RunTarget(
                    self.integration,
                    run_id=self._rank.run_id,
                    tracking_uri=self.options.tracking_uri,
                    log_every_rank=True,
                )
                if target.open():
                    self._reset()
                    self._stage = "fit"
                    self._target = target

        self._safely("joining the job's run", join)

    def _leave_run(self) -> None:
        try:
            _distributed.leave(self._rank)
        except Exception as exc:  # noqa: BLE001
            from flightlog.autolog.reporting import report

            report(self.integration, "leaving the job's run", exc, silent=self.options.silent)

    # --- checkpoints: `fit(ckpt_path=...)` continues the run the checkpoint came from --------
    def save_checkpoint(self, checkpoint: Any) -> None:
        _distributed.save_run_id(checkpoint, self.run_id)

    def load_checkpoint(self, checkpoint: Any) -> None:
        self._resume_run_id = _distributed.saved_run_id(checkpoint)

    def _begin_fit(self, trainer: Any, module: Any) -> None:
        from flightlog import fluent
        from flightlog_lightning import _params

        resumed, self._resume_run_id = self._resume_run_id, None
        if self.options.run_id is not None or fluent.active_run() is not None:
            resumed = None  # a run named by the user, or active, wins over the checkpoint's
        if self._target is None and not self._open(resumed):
            self._stage = None
            return
        if resumed is not None and self._target.run_id == resumed:
            # The run has its params from the first fit (max_epochs may differ now).
            if self.options.log_models:
                self._hook = module.register_forward_pre_hook(self._capture_forward_input)
            return
        params: dict[str, Any] = {}
        params.update(_params.hyperparameters(trainer, module))
        params.update(self._pending_hparams)
        params.update(_params.optimizers(trainer))
        params.update(_params.schedulers(trainer))
        params.update(_params.trainer_settings(trainer))
        params.update(_params.early_stopping(trainer))
        # MLflow's names too (`lr`, `betas`, `epochs`, ...), unless a hyperparameter of the
        # user's already has the name: theirs wins.
        for key, value in _params.mlflow_names(trainer).items():
            params.setdefault(key, value)
        self._target.log_params(params)
        self._pending_hparams.clear()
        if self.options.log_model_summary:
            from flightlog_lightning._namespaces import module_summary

            self._target.log_text(module_summary(module), MODEL_SUMMARY_FILE)
        if self.options.log_models:
            self._hook = module.register_forward_pre_hook(self._capture_forward_input)

    def _capture_forward_input(self, module: Any, args: tuple) -> None:
        """Keep the first rows of the first input the model is called on (for the signature
        and for tracing the saved program), then remove this hook."""
        self._remove_hook()
        try:
            import torch

            if len(args) == 1 and isinstance(args[0], torch.Tensor) and args[0].dim() > 0:
                self._example = args[0][:_EXAMPLE_ROWS].detach().clone()
        except Exception:  # noqa: BLE001 - a hook must never break the forward pass
            pass  # the first batch's tensor (if any) stays the example

    def _remove_hook(self) -> None:
        hook, self._hook = self._hook, None
        if hook is not None:
            hook.remove()

    def hparams(self, params: dict[str, Any]) -> None:
        """Hyperparameters handed to a logger (`log_hyperparams`)."""
        from flightlog_torch._tracking import flatten

        flat = flatten(dict(params))
        if self.active:
            self._safely("logging hyperparameters", self._target.log_params, flat)
        else:
            self._pending_hparams.update(flat)

    def logger_metrics(self, metrics: dict[str, Any], step: int | None) -> None:
        """Metrics a logger was handed while no companion callback records the stage (the
        Trainer ran with enable_autolog_hparams=False, or the logger is used by hand): logged
        as given, with Lightning's step."""

        def log() -> None:
            if self._target is None and not self._open():
                return
            values = {}
            for key, value in metrics.items():
                number = _scalar(value)
                if key != "epoch" and number is not None:
                    values[key] = number
            self._target.log_metrics(values, int(step or 0))

        self._safely("logging metrics", log)

    def batch_start(self, trainer: Any, module: Any, batch: Any) -> None:
        if self._example is None and self._stage == "fit" and not self._failed:
            self._example = _first_tensor(batch)

    def batch_end(self, trainer: Any, module: Any) -> None:
        n = self.options.log_every_n_step
        if n is None or not self.active or self._stage != "fit":
            return
        step = int(trainer.global_step)
        if step % n or step == self._last_step_logged:
            return
        self._last_step_logged = step
        self._safely("logging step metrics", self._log_step, trainer, step)

    def _log_step(self, trainer: Any, step: int) -> None:
        values = _step_metrics(trainer)
        metrics = {}
        for key, value in values.items():
            number = _scalar(value)
            if number is not None:
                metrics[key if key.endswith("_step") else f"{key}_step"] = number
        self._target.log_metrics(metrics, step)

    def epoch_end(self, trainer: Any, module: Any) -> None:
        if self.active and self._stage == "fit" and not trainer.sanity_checking:
            self._pending_epoch = int(trainer.current_epoch)
            self._pending_lrs = self._epoch_lrs

    def epoch_start(self, trainer: Any, module: Any) -> None:
        self.ensure_fit(trainer, module)
        self.flush_epoch(trainer, module)
        if self.active and self._stage == "fit":
            # The rates this epoch trains with: an epoch-interval scheduler steps right after the
            # last batch, before any epoch-end hook.
            self._epoch_lrs = self._safely("reading learning rates", _learning_rates, trainer) or {}

    def flush_epoch(self, trainer: Any, module: Any) -> None:
        epoch, self._pending_epoch = self._pending_epoch, None
        if epoch is None or not self.active:
            return
        self._safely("logging epoch metrics", self._log_epoch, trainer, module, epoch)

    def _log_epoch(self, trainer: Any, module: Any, epoch: int) -> None:
        if self.options.log_models and self.options.checkpoint and _is_zero(trainer):
            self._best.update(trainer, module, epoch)
        # Set by autolog (checkpoint=True); a recorder unpickled in a spawned worker has none.
        if getattr(self, "mlflow_checkpoints", False) and _is_zero(trainer):
            self._safely(
                "logging the latest checkpoint",
                self._latest_checkpoint.update,
                self._target,
                trainer,
                epoch,
            )
        fresh = self._fresh(trainer.callback_metrics)
        if epoch % self.options.log_every_n_epoch:
            return
        metrics = {}
        for key, value in epoch_level(fresh).items():
            number = _scalar(value)
            if number is not None:
                metrics[key] = number
        metrics.update(self._pending_lrs)
        self._target.log_metrics(metrics, epoch)

    def _fresh(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """The metrics whose value changed since last read: Lightning keeps a metric in
        callback_metrics after its last update (a validation that runs every other epoch)."""
        out = {}
        for key, value in metrics.items():
            if self._seen.get(key) is not value:
                out[key] = value
                self._seen[key] = value
        return out

    def fit_end(self, trainer: Any, module: Any) -> None:
        self.flush_epoch(trainer, module)
        self._remove_hook()
        if self.active and self._stage == "fit" and _is_zero(trainer):
            self._safely("logging the training results", self._finish_fit, trainer, module)
        self._end("FINISHED")
        self._leave_run()

    def _finish_fit(self, trainer: Any, module: Any) -> None:
        from flightlog_lightning import _params

        params, metrics = _params.early_stopping_results(trainer)
        self._target.log_params(params)
        last_epoch = max(int(trainer.current_epoch) - 1, 0)  # the last epoch that was trained
        self._target.log_metrics(metrics, last_epoch)
        if self.options.log_models:
            log_trained_model(
                self._target, trainer, module, self._example, self.options, self._best
            )
            self._best = BestEpochWeights()

    def failed(self, trainer: Any, exception: BaseException) -> None:
        self._remove_hook()
        if self._stage is not None:
            if self.active:
                self.flush_epoch(trainer, getattr(trainer, "lightning_module", None))
            self._end("KILLED" if isinstance(exception, KeyboardInterrupt) else "FAILED")
        self._leave_run()

    def finalize(self, status: str) -> None:
        """The logger's finalize: end the run if a hook has not already."""
        if self._target is not None:
            self._end("FINISHED" if status == "success" else "FAILED")

    # --- validate / test -------------------------------------------------------------------
    def eval_start(self, trainer: Any, module: Any) -> None:
        if trainer.sanity_checking or not _is_zero(trainer) or self._stage == "fit":
            return
        state = getattr(trainer.state, "fn", None)
        if str(getattr(state, "value", state)) not in ("validate", "test"):
            return
        self._stage = "eval"
        self._failed = False
        # Metrics held over from an earlier stage are not this stage's results.
        self._seen = dict(trainer.callback_metrics)

    def eval_end(self, trainer: Any, module: Any) -> None:
        if self._stage != "eval":
            return
        self._safely("logging evaluation results", self._log_eval, trainer, module)
        self._end("FINISHED")

    def _log_eval(self, trainer: Any, module: Any) -> None:
        from flightlog import fluent
        from flightlog_lightning import _params

        run_id = None
        if fluent.active_run() is None and self.options.run_id is None:
            run_id = self.last_run_id  # the results belong to the model this recorder trained
        if self._target is None and not self._open(run_id):
            return
        if run_id is None and self.last_run_id is None:
            self._target.log_params(_params.hyperparameters(trainer, module))
        metrics = {}
        for key, value in self._fresh(trainer.callback_metrics).items():
            number = _scalar(value)
            if number is not None:
                metrics[key] = number
        self._target.log_metrics(metrics, int(trainer.current_epoch))


def _learning_rates(trainer: Any) -> dict[str, float]:
    from flightlog_lightning._params import learning_rates

    return learning_rates(trainer)


def _first_tensor(batch: Any) -> Any:
    """The model input a batch most likely holds: the batch itself or its first element."""
    import torch

    candidate = batch
    if isinstance(batch, list | tuple) and batch:
        candidate = batch[0]
    if isinstance(candidate, torch.Tensor) and candidate.dim() > 0:
        return candidate[:_EXAMPLE_ROWS].detach().clone()
    return None


def _step_metrics(trainer: Any) -> dict[str, Any]:
    """The values logged for the current step (on_step=True)."""
    results = getattr(trainer, "_results", None)
    try:
        return dict(results.metrics(True)["callback"])
    except Exception:  # noqa: BLE001 - Lightning internals moved; fall back to the _step copies
        return {k: v for k, v in trainer.callback_metrics.items() if k.endswith("_step")}
