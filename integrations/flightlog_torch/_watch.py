"""`watch(model)`: gradient and weight norms of a model, logged every N optimizer steps (opt-in).

Uses torch's global optimizer step hook, so it works for hand-written loops and for Lightning
alike: after an optimizer that holds the model's parameters steps, every `every_n_steps`-th step
(the first one included) logs

    grad_norm      the L2 norm of all the model's gradients together (log_grad_norm=True)
    weight_norm    the L2 norm of all its parameters (log_weight_norm=True)
    grad_norm/<parameter name>, weight_norm/<parameter name>   with per_layer=True

with step = the number of steps before this one (0, N, 2N, ...). Norms are computed on the
parameters' device and read back with one host sync per logged step.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from typing import Any

from flightlog.exceptions import InvalidParameterError

_handles: dict[int, list[WatchHandle]] = {}
_lock = threading.Lock()


class WatchHandle:
    """A model being watched; `remove()` stops it."""

    def __init__(
        self,
        model: Any,
        log_grad_norm: bool,
        log_weight_norm: bool,
        every_n_steps: int,
        per_layer: bool,
    ) -> None:
        from torch.optim.optimizer import register_optimizer_step_post_hook

        self._model = weakref.ref(model)
        self._model_id = id(model)
        self.log_grad_norm = log_grad_norm
        self.log_weight_norm = log_weight_norm
        self.every_n_steps = every_n_steps
        self.per_layer = per_layer
        self.steps = 0
        self._param_ids = {id(p) for p in model.parameters()}
        self._optimizers: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
        self._failed = False
        self._hook = register_optimizer_step_post_hook(self._after_step)

    def remove(self) -> None:
        hook, self._hook = self._hook, None
        if hook is not None:
            hook.remove()
        with _lock:
            handles = _handles.get(self._model_id, [])
            if self in handles:
                handles.remove(self)
            if not handles:
                _handles.pop(self._model_id, None)

    def _holds_model(self, optimizer: Any) -> bool:
        known = self._optimizers.get(optimizer)
        if known is None:
            known = any(
                id(p) in self._param_ids for g in optimizer.param_groups for p in g["params"]
            )
            self._optimizers[optimizer] = known
        return known

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self._failed or not self._holds_model(optimizer):
            return
        step = self.steps
        self.steps += 1
        if step % self.every_n_steps:
            return
        try:
            model = self._model()
            if model is None:
                self.remove()
                return
            self._log(model, step)
        except Exception as exc:  # noqa: BLE001 - a tracking fault must never stop training
            self._failed = True
            from flightlog.autolog.reporting import is_test_mode

            if is_test_mode():
                raise
            warnings.warn(
                f"flightlog watch: logging norms failed and was stopped; training goes on "
                f"({type(exc).__name__}: {exc})",
                RuntimeWarning,
                stacklevel=2,
            )

    def _log(self, model: Any, step: int) -> None:
        import torch

        from flightlog import fluent
        from flightlog.client import _now_ms
        from flightlog.entities import Metric

        named = [(n, p) for n, p in model.named_parameters()]
        keys: list[str] = []
        norms: list[Any] = []
        with torch.no_grad():
            if self.log_grad_norm:
                grads = [(n, p.grad) for n, p in named if p.grad is not None]
                if grads:
                    layer = [torch.linalg.vector_norm(g.detach().float()) for _, g in grads]
                    keys.append("grad_norm")
                    norms.append(torch.linalg.vector_norm(torch.stack(_same_device(layer))))
                    if self.per_layer:
                        keys.extend(f"grad_norm/{n}" for n, _ in grads)
                        norms.extend(layer)
            if self.log_weight_norm and named:
                layer = [torch.linalg.vector_norm(p.detach().float()) for _, p in named]
                keys.append("weight_norm")
                norms.append(torch.linalg.vector_norm(torch.stack(_same_device(layer))))
                if self.per_layer:
                    keys.extend(f"weight_norm/{n}" for n, _ in named)
                    norms.extend(layer)
            if not norms:
                return
            values = torch.stack(_same_device(norms)).tolist()
        now = _now_ms()
        metrics = [Metric(k, float(v), now, step) for k, v in zip(keys, values, strict=True)]
        fluent._client().log_batch(fluent._run_id_or_active(), metrics=metrics)


def _same_device(tensors: list[Any]) -> list[Any]:
    device = tensors[0].device
    return [t if t.device == device else t.to(device) for t in tensors]


def watch(
    model: Any,
    log_grad_norm: bool = True,
    log_weight_norm: bool = True,
    every_n_steps: int = 100,
    per_layer: bool = False,
) -> WatchHandle:
    """Log the model's gradient and weight norms every `every_n_steps` optimizer steps into the
    active run (one is started if none is). Returns a handle; `handle.remove()` or
    `unwatch(model)` stops it."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise InvalidParameterError(f"watch needs a torch.nn.Module, got {type(model).__name__}")
    if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) or every_n_steps < 1:
        raise InvalidParameterError(
            f"every_n_steps must be a positive integer, got {every_n_steps!r}"
        )
    if not (log_grad_norm or log_weight_norm):
        raise InvalidParameterError("watch needs log_grad_norm or log_weight_norm (or both)")
    handle = WatchHandle(model, log_grad_norm, log_weight_norm, every_n_steps, per_layer)
    with _lock:
        _handles.setdefault(id(model), []).append(handle)
    return handle


def unwatch(model: Any) -> int:
    """Stop every watch on `model`; returns how many were stopped."""
    with _lock:
        handles = list(_handles.get(id(model), []))
    for handle in handles:
        handle.remove()
    return len(handles)
