"""What a Lightning fit is configured with, as params: hyperparameters, optimizers, schedulers,
Trainer settings and early stopping."""

from __future__ import annotations

from typing import Any

from flightlog_torch._tracking import flatten

# Optimizer defaults that are implementation switches, not hyperparameters.
_IMPLEMENTATION_FLAGS = frozenset({"foreach", "fused", "capturable", "differentiable"})

# Trainer arguments worth recording, under their Trainer names.
_TRAINER_SETTINGS = (
    "max_epochs",
    "min_epochs",
    "max_steps",
    "min_steps",
    "precision",
    "accumulate_grad_batches",
    "gradient_clip_val",
    "gradient_clip_algorithm",
    "check_val_every_n_epoch",
    "val_check_interval",
    "log_every_n_steps",
    "limit_train_batches",
    "limit_val_batches",
    "num_devices",
    "num_nodes",
)

# Scheduler state that changes while training (not a setting).
_SCHEDULER_STATE = frozenset(
    {"last_epoch", "base_lrs", "verbose", "best", "num_bad_epochs", "cooldown_counter", "eps"}
)


def hyperparameters(trainer: Any, module: Any) -> dict[str, Any]:
    """`save_hyperparameters()` values of the module and the datamodule, flattened."""
    out: dict[str, Any] = {}
    datamodule = getattr(trainer, "datamodule", None)
    for owner in (module, datamodule):
        hparams = getattr(owner, "hparams_initial", None) if owner is not None else None
        if hparams:
            out.update(flatten({k: v for k, v in dict(hparams).items() if k != "_class_path"}))
    return out


def _optimizer_prefix(index: int) -> str:
    return "optimizer" if index == 0 else f"optimizer{index + 1}"


def optimizers(trainer: Any) -> dict[str, Any]:
    """`optimizer_name` and the optimizer's hyperparameters (`optimizer_lr`, ...); a second
    optimizer is `optimizer2_*`. Param groups that override a default add `optimizer_pg<i>_*`."""
    out: dict[str, Any] = {}
    for index, optimizer in enumerate(getattr(trainer, "optimizers", None) or []):
        prefix = _optimizer_prefix(index)
        defaults = {
            k: v
            for k, v in (getattr(optimizer, "defaults", None) or {}).items()
            if k not in _IMPLEMENTATION_FLAGS
        }
        out[f"{prefix}_name"] = type(optimizer).__name__
        out.update({f"{prefix}_{k}": v for k, v in defaults.items()})
        groups = getattr(optimizer, "param_groups", [])
        if len(groups) > 1:
            for g, group in enumerate(groups):
                for key, value in group.items():
                    if key in defaults and value != defaults[key]:
                        out[f"{prefix}_pg{g + 1}_{key}"] = value
    return out


def schedulers(trainer: Any) -> dict[str, Any]:
    """`scheduler_name`, how it steps (`scheduler_interval`, `scheduler_frequency`,
    `scheduler_monitor`) and its settings (`scheduler_step_size`, `scheduler_gamma`, ...)."""
    out: dict[str, Any] = {}
    for index, config in enumerate(getattr(trainer, "lr_scheduler_configs", None) or []):
        prefix = "scheduler" if index == 0 else f"scheduler{index + 1}"
        scheduler = config.scheduler
        out[f"{prefix}_name"] = type(scheduler).__name__
        out[f"{prefix}_interval"] = config.interval
        out[f"{prefix}_frequency"] = config.frequency
        if getattr(config, "monitor", None):
            out[f"{prefix}_monitor"] = config.monitor
        try:
            state = scheduler.state_dict()
        except Exception:  # noqa: BLE001 - an exotic scheduler; its name is still recorded
            state = {}
        for key, value in state.items():
            if key.startswith("_") or key in _SCHEDULER_STATE:
                continue
            if isinstance(value, bool | int | float | str):
                out[f"{prefix}_{key}"] = value
    return out


def trainer_settings(trainer: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _TRAINER_SETTINGS:
        try:
            value = getattr(trainer, name)
        except Exception:  # noqa: BLE001 - a property that needs state the trainer lacks
            continue
        if value is not None:
            out[name] = getattr(value, "value", value)  # enums (gradient_clip_algorithm)
    strategy = getattr(trainer, "strategy", None)
    if strategy is not None:
        out["strategy"] = type(strategy).__name__
        accelerator = getattr(strategy, "accelerator", None)
        if accelerator is not None:
            out["accelerator"] = type(accelerator).__name__
    return out


def early_stopping_callbacks(trainer: Any) -> list[Any]:
    from flightlog_lightning import _namespaces

    cls = _namespaces.early_stopping_class(_namespaces.of(trainer))
    return [cb for cb in getattr(trainer, "callbacks", []) if isinstance(cb, cls)]


def early_stopping_prefix(index: int) -> str:
    return "early_stopping" if index == 0 else f"early_stopping{index + 1}"


def early_stopping(trainer: Any) -> dict[str, Any]:
    """`early_stopping_monitor`, `_mode`, `_patience`, `_min_delta` (as given, not negated as
    Lightning stores it for mode="min") and the thresholds when set."""
    out: dict[str, Any] = {}
    for index, callback in enumerate(early_stopping_callbacks(trainer)):
        prefix = early_stopping_prefix(index)
        out[f"{prefix}_monitor"] = callback.monitor
        out[f"{prefix}_mode"] = callback.mode
        out[f"{prefix}_patience"] = callback.patience
        out[f"{prefix}_min_delta"] = abs(float(callback.min_delta))
        for name in ("stopping_threshold", "divergence_threshold", "check_finite"):
            value = getattr(callback, name, None)
            if value is not None:
                out[f"{prefix}_{name}"] = value
    return out


def early_stopping_results(trainer: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """After fit: params (`early_stopping_stopped_epoch`: the epoch training stopped at, or
    -1 when it ran to the end) and metrics (`stopped_epoch` when it stopped early, as MLflow
    names it; `early_stopping_best_score`; `early_stopping_wait_count`)."""
    params: dict[str, Any] = {}
    metrics: dict[str, float] = {}
    for index, callback in enumerate(early_stopping_callbacks(trainer)):
        prefix = early_stopping_prefix(index)
        stopped = int(getattr(callback, "stopped_epoch", 0) or 0)
        params[f"{prefix}_stopped_epoch"] = stopped if stopped > 0 else -1
        if stopped > 0:
            metrics["stopped_epoch" if index == 0 else f"{prefix}_stopped_epoch"] = float(stopped)
        best = getattr(callback, "best_score", None)
        if best is not None:
            try:
                value = float(best)
            except (TypeError, ValueError):
                value = None
            if value is not None and value == value and abs(value) != float("inf"):
                metrics[f"{prefix}_best_score"] = value
        metrics[f"{prefix}_wait_count"] = float(getattr(callback, "wait_count", 0) or 0)
    return params, metrics


def learning_rates(trainer: Any) -> dict[str, float]:
    """Current learning rates as Lightning's LearningRateMonitor names them: `lr-Adam`,
    `lr-Adam/pg2` for further param groups, `lr-Adam-1` for a second optimizer of a class."""
    out: dict[str, float] = {}
    seen: dict[str, int] = {}
    for optimizer in getattr(trainer, "optimizers", None) or []:
        base = f"lr-{type(optimizer).__name__}"
        count = seen.get(base, 0)
        seen[base] = count + 1
        if count:
            base = f"{base}-{count}"
        groups = optimizer.param_groups
        for g, group in enumerate(groups):
            lr = group.get("lr")
            try:
                value = float(lr)
            except (TypeError, ValueError):
                continue
            out[base if len(groups) == 1 else f"{base}/pg{g + 1}"] = value
    return out


def mlflow_names(trainer: Any) -> dict[str, Any]:
    """The params `mlflow.pytorch.autolog()` logs for a Lightning fit, under its names, so a
    search written for MLflow (`params.lr = '0.05'`) finds the run: `epochs` (max_epochs),
    `optimizer_name` and every default of the first optimizer as it stands (`lr`, `betas`,
    `eps`, `weight_decay`, `amsgrad`, `foreach`, ...), and the first EarlyStopping's `monitor`,
    `mode`, `patience`, `min_delta` (as Lightning holds it: negated for mode="min") and
    `stopped_epoch` (0 when training starts). flightlog's own names (`optimizer_lr`,
    `max_epochs`, `early_stopping_*`) say more (every optimizer, param groups) and stay too."""
    out: dict[str, Any] = {"epochs": getattr(trainer, "max_epochs", None)}
    found = getattr(trainer, "optimizers", None) or []
    if found:
        optimizer = found[0]
        inner = getattr(optimizer, "_optimizer", None)  # a LightningOptimizer wrapper
        out["optimizer_name"] = type(inner if inner is not None else optimizer).__name__
        out.update(getattr(optimizer, "defaults", None) or {})
    stoppers = early_stopping_callbacks(trainer)
    if stoppers:
        for name in ("monitor", "mode", "patience", "min_delta", "stopped_epoch"):
            if hasattr(stoppers[0], name):
                value = getattr(stoppers[0], name)
                out[name] = float(value) if name == "min_delta" else value
    return out
