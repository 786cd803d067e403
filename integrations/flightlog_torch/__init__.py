"""flightlog's PyTorch integration (a plugin in the `flightlog.integrations` group).

    import flightlog
    flightlog.torch.autolog()        # hand-written training loops, no code changes
    flightlog.torch.log_model(model, "model", input_example=x[:5])
    flightlog.torch.watch(model, every_n_steps=50)   # gradient and weight norms, opt-in

What autolog records in a plain loop: when an optimizer is built, its class and
hyperparameters (`optimizer_name`, `optimizer_lr`, ...) and the model's parameter count; at
the end of every full pass over a training DataLoader, `train_loss` (the mean of the scalar
values returned by `torch.nn` loss modules with grad enabled during that pass) and the learning
rate; at the end of every full pass over another DataLoader during which loss modules ran under
`torch.no_grad()`/`torch.inference_mode()`, `val_loss` (the mean of those values), with
step = the epoch index. What it cannot see: losses computed with plain functions
(`F.cross_entropy`, hand-written formulas), metrics other than the loss, epochs that are not a
full pass over a DataLoader (a `break`, a hand-made batch iterator), and anything inside
Lightning, Keras or Hugging Face training loops (their own integrations record those). The
model itself is not logged automatically: a loop has no end that flightlog can see; call
`flightlog.torch.log_model`. Details: docs/integrations/torch.md.

Importing this package does not import torch; patches go on when torch is imported.
"""

from __future__ import annotations

from typing import Any

from flightlog_torch._integration import TorchIntegration

FLAVOR_NAME = "pytorch"

integration = TorchIntegration()


def autolog(**config: Any) -> None:
    """Enable autologging of plain PyTorch training loops; `disable=True` reverts every patch.

    Options (MLflow's common ones): disable, exclusive (do not log into a run you started),
    silent, extra_tags. log_models, log_input_examples, log_model_signatures, log_datasets,
    registered_model_name and max_tuning_runs are accepted but have nothing to act on in a
    plain loop (use log_model).
    """
    integration.autolog(**config)


def log_model(pytorch_model: Any = None, name: str | None = None, **kwargs: Any) -> Any:
    """Log a torch.nn.Module (state dict + pickled module + program); see `_model.log_model`."""
    from flightlog_torch._model import log_model as _log_model

    return _log_model(pytorch_model, name, **kwargs)


def save_model(pytorch_model: Any = None, path: str | None = None, **kwargs: Any) -> Any:
    """Save a torch.nn.Module into a new local folder in MLflow's layout."""
    from flightlog_torch._model import save_model as _save_model

    return _save_model(pytorch_model, path, **kwargs)


def load_model(model_uri: str, dst_path: str | None = None, prefer: str = "pickle") -> Any:
    """The torch.nn.Module logged at `model_uri`, in eval mode."""
    from flightlog_torch._model import load_model as _load_model

    return _load_model(model_uri, dst_path, prefer)


def load_state_dict(state_dict_uri: str, dst_path: str | None = None) -> dict[str, Any]:
    """Only the weights of a logged model (no pickled code runs)."""
    from flightlog_torch._model import load_state_dict as _load_state_dict

    return _load_state_dict(state_dict_uri, dst_path)


def watch(
    model: Any,
    log_grad_norm: bool = True,
    log_weight_norm: bool = True,
    every_n_steps: int = 100,
    per_layer: bool = False,
) -> Any:
    """Log the model's gradient and weight norms every N optimizer steps; returns a handle
    whose `remove()` stops it."""
    from flightlog_torch._watch import watch as _watch

    return _watch(model, log_grad_norm, log_weight_norm, every_n_steps, per_layer)


def unwatch(model: Any) -> int:
    """Stop every watch on `model`."""
    from flightlog_torch._watch import unwatch as _unwatch

    return _unwatch(model)


__all__ = [
    "FLAVOR_NAME",
    "TorchIntegration",
    "autolog",
    "integration",
    "load_model",
    "load_state_dict",
    "log_model",
    "save_model",
    "unwatch",
    "watch",
]
