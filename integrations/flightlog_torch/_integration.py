"""The PyTorch integration object: which torch attributes it patches and how.

Patched (all reversibly, with wrapt, through the framework's Patcher):

- `torch.optim.Optimizer.__init__`: an optimizer was built (every optimizer class calls it);
- `torch.nn.modules.loss._Loss.__call__`: a loss module returned a value (added on `_Loss`,
  which otherwise inherits `Module.__call__`, so only loss modules pay for it);
- `torch.utils.data.DataLoader.__iter__` and `_BaseDataLoaderIter.__next__`: a pass over a
  loader started and ended;
- torch's global optimizer step hook (registered, and removed on revert).

Every wrapper calls the original first and unconditionally; flightlog's own work after it is
wrapped in try/except and reported once (raised in test mode).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from flightlog.autolog import reporting
from flightlog.autolog.integration import AutologIntegration
from flightlog.autolog.patching import Patcher, PatchWrapper


class TorchIntegration(AutologIntegration):
    name = "pytorch"
    module = "torch"
    # In a distributed job: every rank also logs its own `rank<N>/...` series (None: the
    # FLIGHTLOG_LOG_EVERY_RANK environment variable decides).
    extra_options = {"log_every_rank": None}

    def __init__(self) -> None:
        super().__init__()
        self._tracker: Any = None
        self._step_hook: Any = None

    @property
    def tracker(self) -> Any:
        return self._tracker

    def patch_targets(self):
        return {"torch": self._patch_torch}

    def check_options(self, values: dict[str, Any]) -> None:
        from flightlog.exceptions import AutologConfigError

        if values["log_every_rank"] not in (None, True, False):
            raise AutologConfigError(
                "Autolog option 'log_every_rank' must be True, False or None, got "
                f"{values['log_every_rank']!r}"
            )

    def _report(self, what: str, exc: BaseException) -> None:
        config = self.config
        reporting.report(self.name, what, exc, silent=bool(config and config.silent))

    def _patch_torch(self, torch: ModuleType, patcher: Patcher) -> None:
        from torch.nn.modules.loss import _Loss
        from torch.optim.optimizer import register_optimizer_step_post_hook
        from torch.utils.data import dataloader

        from flightlog_torch._loop import LoopTracker, module_of_parameters

        tracker = self._tracker = LoopTracker(lambda: integration.config, self._report)
        integration = self
        is_compiling = getattr(getattr(torch, "compiler", None), "is_compiling", lambda: False)
        is_grad_enabled = torch.is_grad_enabled
        tensor_type = torch.Tensor

        def optimizer_init(wrapped, instance, args, kwargs):
            params = args[0] if args else kwargs.get("params")
            try:
                module = module_of_parameters(params)
            except Exception:  # noqa: BLE001 - the count then uses the optimizer's params
                module = None
            result = wrapped(*args, **kwargs)
            if integration.config is not None:
                tracker.optimizer_built(instance, module)
            return result

        def loss_call(wrapped, instance, args, kwargs):
            if not tracker.tracking:
                return wrapped(*args, **kwargs)
            tracker.loss_depth += 1
            try:
                out = wrapped(*args, **kwargs)
            finally:
                tracker.loss_depth -= 1
            if tracker.loss_depth == 0 and isinstance(out, tensor_type) and not is_compiling():
                try:
                    if out.numel() == 1:
                        tracker.loss_computed(out, is_grad_enabled())
                except Exception as exc:  # noqa: BLE001
                    integration._report("recording a loss value", exc)
            return out

        def loader_iter(wrapped, instance, args, kwargs):
            iterator = wrapped(*args, **kwargs)
            if integration.config is not None:
                try:
                    tracker.pass_started(instance, iterator)
                except Exception as exc:  # noqa: BLE001
                    integration._report("recording the start of a DataLoader pass", exc)
            return iterator

        def iterator_next(wrapped, instance, args, kwargs):
            try:
                return wrapped(*args, **kwargs)
            except StopIteration:
                if tracker.tracking:
                    tracker.pass_finished(instance)
                raise

        def optimizer_stepped(optimizer, args, kwargs):
            try:
                tracker.optimizer_stepped(optimizer)
            except Exception as exc:  # noqa: BLE001 - this hook runs inside the user's step()
                integration._report("recording an optimizer step", exc)

        patcher.wrap(torch.optim.Optimizer, "__init__", optimizer_init)
        # `_Loss` inherits `__call__` from Module: add a wrapper of Module's on `_Loss` itself.
        patcher.add(_Loss, "__call__", PatchWrapper(torch.nn.Module.__call__, loss_call, self.name))
        patcher.wrap(dataloader.DataLoader, "__iter__", loader_iter)
        patcher.wrap(dataloader._BaseDataLoaderIter, "__next__", iterator_next)
        self._step_hook = register_optimizer_step_post_hook(optimizer_stepped)

    def on_revert(self) -> None:
        hook, self._step_hook = self._step_hook, None
        if hook is not None:
            hook.remove()
        if self._tracker is not None:
            self._tracker.reset()
            self._tracker = None
