"""Which weights a Lightning fit logs as its model, and logging them with a signature.

1. a ModelCheckpoint that monitors a metric: its best checkpoint;
2. else, with EarlyStopping: the weights of the best epoch early stopping saw (BestEpochWeights
   keeps a CPU copy at each improvement);
3. else (or with checkpoint=False): the final weights.
"""

from __future__ import annotations

import os
from typing import Any

MODEL_SOURCE_TAG = "flightlog.lightning.model_source"


def monitoring_checkpoint(trainer: Any) -> Any:
    """The Trainer's ModelCheckpoint that ranks checkpoints by a metric and has a best one."""
    from flightlog_lightning._namespaces import model_checkpoint_class, of

    cls = model_checkpoint_class(of(trainer))
    for callback in getattr(trainer, "callbacks", []):
        path = getattr(callback, "best_model_path", "")
        if isinstance(callback, cls) and callback.monitor and path and os.path.exists(path):
            return callback
    return None


class BestEpochWeights:
    """With EarlyStopping and no metric-monitoring ModelCheckpoint: a CPU copy of the weights of
    the last epoch early stopping counted as an improvement."""

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.state: dict[str, Any] | None = None
        self._best_score: Any = None

    def update(self, trainer: Any, module: Any, epoch: int) -> None:
        if monitoring_checkpoint(trainer) is not None:
            return
        from flightlog_lightning._params import early_stopping_callbacks

        stoppers = early_stopping_callbacks(trainer)
        if not stoppers:
            return
        best = getattr(stoppers[0], "best_score", None)
        # EarlyStopping replaces best_score (and zeroes wait_count) on an improvement only, so
        # an epoch without a check (validation every other epoch) changes nothing here.
        if best is self._best_score or getattr(stoppers[0], "wait_count", 1) != 0:
            return
        self._best_score = best
        self.epoch = epoch
        self.state = {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def chosen_weights(
    trainer: Any, best: BestEpochWeights, use_best: bool
) -> tuple[str, dict[str, Any] | None]:
    """(a description, a state dict; None for the module's own final weights)."""
    if not use_best:
        return "final weights", None
    checkpoint = monitoring_checkpoint(trainer)
    if checkpoint is not None:
        import torch

        path = checkpoint.best_model_path
        saved = torch.load(path, map_location="cpu", weights_only=False)
        return f"best checkpoint {os.path.basename(path)} ({checkpoint.monitor})", saved[
            "state_dict"
        ]
    if best.state is not None:
        return f"early stopping best epoch {best.epoch}", best.state
    return "final weights", None


def log_trained_model(
    target: Any,
    trainer: Any,
    module: Any,
    example: Any,
    options: Any,
    best: BestEpochWeights,
) -> None:
    """Log the chosen weights of `module` as the run's `model` (the module's own weights are
    put back afterwards), with a signature from `example`, a real input of the model."""
    import torch

    source, weights = chosen_weights(trainer, best, options.checkpoint)
    current = None
    if weights is not None:
        current = {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.load_state_dict(weights)
    try:
        _save(target, module, example, options)
    finally:
        if current is not None:
            with torch.no_grad():
                module.load_state_dict(current)
    target.set_tags({MODEL_SOURCE_TAG: source})


def _save(target: Any, module: Any, example: Any, options: Any) -> None:
    from flightlog_torch._flavor import call_model, evaluating, model_device, to_numpy
    from flightlog_torch._model import log_model

    signature = None
    if example is not None:
        example = example.to(model_device(module))
        try:
            with evaluating(module):
                output = call_model(module, example)
        except Exception:  # noqa: BLE001 - a batch element that is not the model's input
            example = None
        else:
            if options.log_model_signatures:
                from flightlog.models.signature import infer_signature

                signature = infer_signature(to_numpy(example), to_numpy(output))
    input_example = (
        to_numpy(example) if example is not None and options.log_input_examples else None
    )
    log_model(
        module,
        "model",
        signature=signature if signature is not None else False,
        input_example=input_example,
        example_inputs=example,
        registered_model_name=options.registered_model_name,
        run_id=target.run_id,
    )


# MLflow's checkpoint artifacts (mlflow.pytorch.autolog(checkpoint=True), its defaults: monitor
# val_loss, mode min, best only): the names its download_checkpoint helpers look for.
CHECKPOINT_DIR = "checkpoints"
LATEST_CHECKPOINT_FILE = "latest_checkpoint.pth"
LATEST_CHECKPOINT_METRICS_FILE = "latest_checkpoint_metrics.json"
LATEST_CHECKPOINT_TAG = "mlflow.latest_checkpoint_artifact"
CHECKPOINT_MONITOR = "val_loss"


class LatestCheckpoint:
    """Under autolog, each epoch whose `val_loss` is the lowest so far replaces the run's
    `checkpoints/latest_checkpoint.pth` (the Trainer's full checkpoint: weights, optimizer and
    loop state, what `Trainer.fit(ckpt_path=...)` resumes from) and
    `checkpoints/latest_checkpoint_metrics.json` (the epoch's metrics, `epoch`,
    `global_step`), as MLflow's autolog does. Epochs without a `val_loss` save nothing."""

    def __init__(self) -> None:
        self.best: float | None = None

    def update(self, target: Any, trainer: Any, epoch: int) -> None:
        import json
        import math
        import tempfile

        value = trainer.callback_metrics.get(CHECKPOINT_MONITOR)
        if value is None:
            return
        value = float(value)
        if math.isnan(value) or (self.best is not None and value >= self.best):
            return
        self.best = value
        # The Trainer's own checkpoint content, written by its strategy without the barrier
        # Trainer.save_checkpoint has (this runs on rank zero only).
        content = trainer._checkpoint_connector.dump_checkpoint(False)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, LATEST_CHECKPOINT_FILE)
            trainer.strategy.save_checkpoint(content, path)
            target.client.log_artifact(target.run_id, path, CHECKPOINT_DIR)
        metrics = {}
        for key, metric in trainer.callback_metrics.items():
            try:
                metrics[key] = float(metric)
            except (TypeError, ValueError):
                continue
        metrics.update(epoch=epoch, global_step=int(trainer.global_step))
        target.log_text(
            json.dumps(metrics, indent=2), f"{CHECKPOINT_DIR}/{LATEST_CHECKPOINT_METRICS_FILE}"
        )
        target.set_tags({LATEST_CHECKPOINT_TAG: f"{CHECKPOINT_DIR}/{LATEST_CHECKPOINT_FILE}"})
