"""The plain-PyTorch loop tracker: epochs, losses and optimizers seen from torch's own objects.

A hand-written loop has no `fit()` to wrap, so the tracker watches four things torch does anyway:

- a `DataLoader` starting a pass (`iter(loader)`) and finishing it (its iterator raising
  StopIteration): a *full* pass is one epoch of that loader;
- a `torch.nn` loss module (any subclass of `torch.nn.modules.loss._Loss`) returning a scalar:
  the value is kept (detached, no device sync) for the innermost pass in progress, together
  with whether autograd was recording (`torch.is_grad_enabled()`);
- an optimizer being constructed (its class and `defaults`) and stepping (torch's global
  optimizer step hook);
- nothing else: the model's forward, custom loss functions and metrics are invisible.

When a pass ends it is classified: a pass in which an optimizer stepped or a loss was computed
with grad enabled is a *training* pass (one epoch): the mean of its grad-enabled losses is
logged as `train_loss` with step = the epoch index (0, 1, ...), with each stepped optimizer's
learning rate. Any other pass that computed losses under `no_grad`/`inference_mode`, over a
dataset not used for training, is an *evaluation* pass: the mean of those losses is logged as
`val_loss` (a second, third... evaluation dataset as `val_loss_2`, `val_loss_3`) with the step
of the epoch it follows. See docs/integrations/torch.md for the full list of what is and is not
seen.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

# Frames from these files mean a framework runs the loop and records it itself (the Lightning
# integration does; Keras and Hugging Face have their own): the tracker then stays out.
_MANAGED_PATH_MARKERS = (
    "/lightning/pytorch/",
    "/pytorch_lightning/",
    "/keras/src/",
    "/transformers/trainer",
)
_MANAGED_MODULES = ("lightning", "pytorch_lightning", "keras", "transformers")
_MAX_FRAMES = 300

# Loss values are kept as device tensors and converted in chunks: one host sync per chunk
# instead of one per batch.
_DRAIN_EVERY = 512

# Optimizer defaults that are implementation switches, not hyperparameters.
_IMPLEMENTATION_FLAGS = frozenset({"foreach", "fused", "capturable", "differentiable"})

_managed_files: dict[str, bool] = {}

# `_broken_run` value after a run could not even be opened (the store is unreachable): stop
# trying until the user starts a run of their own.
_NO_RUN = "<no run could be opened>"


def inside_managed_framework(start_depth: int = 2) -> bool:
    """True when the caller runs under a framework's training loop (Lightning, Keras, ...)."""
    modules = sys.modules
    if not any(name in modules for name in _MANAGED_MODULES):
        return False
    try:
        frame = sys._getframe(start_depth)
    except ValueError:
        return False
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return False
        filename = frame.f_code.co_filename
        managed = _managed_files.get(filename)
        if managed is None:
            normalized = filename.replace("\\", "/")
            managed = any(marker in normalized for marker in _MANAGED_PATH_MARKERS)
            _managed_files[filename] = managed
        if managed:
            return True
        frame = frame.f_back
    return False


class LossMean:
    """The running mean of scalar loss tensors, summed in the order they came (as a loop's own
    `sum(losses) / len(losses)` over `loss.item()` values would)."""

    __slots__ = ("count", "pending", "total")

    def __init__(self) -> None:
        self.pending: list[Any] = []
        self.total = 0.0
        self.count = 0

    def add(self, value: Any) -> None:
        self.pending.append(value)
        if len(self.pending) >= _DRAIN_EVERY:
            self._drain()

    def _drain(self) -> None:
        if not self.pending:
            return
        import torch

        try:
            values = torch.stack([t.reshape(()) for t in self.pending]).tolist()
        except (RuntimeError, TypeError):  # mixed devices or dtypes: convert one by one
            values = [float(t) for t in self.pending]
        for value in values:
            self.total += value
        self.count += len(values)
        self.pending.clear()

    def mean(self) -> float | None:
        self._drain()
        return self.total / self.count if self.count else None


class Pass:
    """One pass over a DataLoader, from `iter(loader)` to StopIteration."""

    __slots__ = ("dataset_key", "dataset_ref", "grad_losses", "nograd_losses", "stepped")

    def __init__(self, loader: Any) -> None:
        dataset = getattr(loader, "dataset", loader)
        # A split made with a sampler (SubsetRandomSampler) shares the dataset: the sampler's
        # index list tells train from validation then.
        indices = getattr(getattr(loader, "sampler", None), "indices", None)
        self.dataset_key = (id(dataset), id(indices))
        self.dataset_ref = _weak(dataset)
        self.grad_losses = LossMean()
        self.nograd_losses = LossMean()
        self.stepped: list[weakref.ref] = []

    def record_step(self, optimizer: Any) -> None:
        if not any(ref() is optimizer for ref in self.stepped):
            self.stepped.append(weakref.ref(optimizer))

    @property
    def is_training(self) -> bool:
        return bool(self.stepped) or bool(self.grad_losses.pending or self.grad_losses.count)


def _weak(obj: Any) -> Callable[[], Any] | None:
    try:
        return weakref.ref(obj)
    except TypeError:  # a list or tuple used as a dataset cannot be weakly referenced
        return None


class Session:
    """One training as the tracker sees it: its epochs, optimizers and datasets, and the run
    it logs into once there is one. Params and metrics wait in `pending_*` until then."""

    def __init__(self) -> None:
        self.target: Any = None  # RunTarget, bound lazily
        self.epochs = 0
        self.optimizers: list[tuple[weakref.ref, str]] = []  # (optimizer, param-name prefix)
        self.optimizer_signatures: list[tuple[str, str]] = []
        self.training_datasets: dict[tuple[int, int], Any] = {}
        self.eval_names: dict[tuple[int, int], tuple[Any, str]] = {}
        self.pending_params: dict[str, Any] = {}
        self.pending_metrics: list[tuple[dict[str, float], int]] = []

    def is_training_dataset(self, p: Pass) -> bool:
        ref = self.training_datasets.get(p.dataset_key, False)
        if ref is False:
            return False
        return ref is None or ref() is not None

    def eval_name(self, p: Pass) -> str:
        known = self.eval_names.get(p.dataset_key)
        if known is not None and (known[0] is None or known[0]() is not None):
            return known[1]
        n = len(self.eval_names) + 1
        name = "val_loss" if n == 1 else f"val_loss_{n}"
        self.eval_names[p.dataset_key] = (p.dataset_ref, name)
        return name

    def prefix_for(self, optimizer: Any) -> str | None:
        return next((pre for ref, pre in self.optimizers if ref() is optimizer), None)

    def flush(self) -> None:
        """Write what waited for a run."""
        params, self.pending_params = self.pending_params, {}
        metrics, self.pending_metrics = self.pending_metrics, []
        if params:
            self.target.log_params(params)
        for values, step in metrics:
            self.target.log_metrics(values, step)


class LoopTracker:
    """Receives torch events from the patches and turns them into params and metrics.

    A run is opened (or the user's active run used) only when an epoch ends, never when an
    optimizer is built, so `with flightlog.start_run():` after building the model and optimizer
    still works: what was seen before waits and goes into that run.
    """

    def __init__(
        self, config: Callable[[], Any], report: Callable[[str, BaseException], None]
    ) -> None:
        self._config = config  # read live: autolog() may be called again with new options
        self._report = report
        self._lock = threading.RLock()
        self._passes: list[Pass] = []  # passes in progress, innermost last
        self._by_iterator: dict[int, Pass] = {}
        self._session = Session()
        self._broken_run: str | None = None  # a run whose store failed: stop trying for it
        self.loss_depth = 0

    @property
    def config(self) -> Any:
        return self._config()

    @property
    def tracking(self) -> bool:
        """Cheap check for the hot path: is any pass in progress?"""
        return bool(self._passes)

    # --- events -------------------------------------------------------------------------
    def pass_started(self, loader: Any, iterator: Any) -> None:
        if inside_managed_framework(start_depth=3):
            return
        with self._lock:
            old = self._by_iterator.pop(id(iterator), None)
            if old is not None and old in self._passes:
                self._passes.remove(old)  # an abandoned pass restarted (persistent workers)
            p = Pass(loader)
            # A pass over the same dataset that was left unfinished (a `break`) is dropped.
            self._passes = [q for q in self._passes if q.dataset_key != p.dataset_key]
            self._passes.append(p)
            self._by_iterator[id(iterator)] = p

    def pass_finished(self, iterator: Any) -> None:
        with self._lock:
            p = self._by_iterator.pop(id(iterator), None)
            if p is None or p not in self._passes:
                return
            self._passes.remove(p)
            training_in_progress = any(q.is_training for q in self._passes)
        self._safely(
            "recording the end of a DataLoader pass", self._log_pass, p, training_in_progress
        )

    def loss_computed(self, value: Any, grad_enabled: bool) -> None:
        passes = self._passes
        if not passes:
            return
        p = passes[-1]
        (p.grad_losses if grad_enabled else p.nograd_losses).add(value.detach())

    def optimizer_stepped(self, optimizer: Any) -> None:
        passes = self._passes
        if passes:
            passes[-1].record_step(optimizer)

    def optimizer_built(self, optimizer: Any, module: Any) -> None:
        if inside_managed_framework(start_depth=3):
            return
        self._safely("logging the optimizer", self._log_optimizer, optimizer, module)

    # --- logging ------------------------------------------------------------------------
    def _safely(self, what: str, fn: Callable[..., None], *args: Any) -> None:
        try:
            with self._lock:
                fn(*args)
        except Exception as exc:  # noqa: BLE001 - a tracking fault must never stop training
            target = self._session.target
            self._broken_run = target.run_id if target is not None else _NO_RUN
            self._report(what, exc)

    def _bind(self, open_run: bool) -> Session | None:
        """The session, bound to the run to log into; None while there is no run to use yet
        (`open_run=False`) or logging is off (exclusive, a broken store)."""
        from flightlog import fluent
        from flightlog_torch._tracking import RunTarget

        session = self._session
        active = fluent.active_run()
        active_id = active.info.run_id if active is not None else None
        if session.target is not None and session.target.run_id != active_id:
            # The run we logged into was ended (or another one started): a new training.
            session = self._session = Session()
        if session.target is None:
            broken = self._broken_run
            if (active_id is None and broken == _NO_RUN) or (
                active_id is not None and active_id == broken
            ):
                return None
            if active_id is None and not open_run:
                return None
            config = self.config
            target = RunTarget(
                "pytorch",
                exclusive=config.exclusive,
                tags=config.extra_tags,
                log_every_rank=config.get("log_every_rank"),
            )
            if not target.open():
                return None
            session.target = target
            session.epochs = _continued_epochs(target)
        if session.target.run_id == self._broken_run:
            return None
        session.flush()
        return session

    def _log_optimizer(self, optimizer: Any, module: Any) -> None:
        session = self._session
        if session.target is not None and session.target.owned and session.epochs:
            # A new optimizer after epochs were logged into a run autolog started: a new
            # training (a sweep trial, a second model) gets its own run.
            session.target.close()
            session = self._session = Session()
        self._bind(open_run=False)  # log at once into a run that is already active
        session = self._session
        name = type(optimizer).__name__
        defaults = {
            k: v
            for k, v in getattr(optimizer, "defaults", {}).items()
            if k not in _IMPLEMENTATION_FLAGS
        }
        signature = (name, repr(sorted(defaults.items(), key=lambda kv: kv[0])))
        known = signature in session.optimizer_signatures
        index = (
            session.optimizer_signatures.index(signature)
            if known
            else len(session.optimizer_signatures)
        )
        prefix = "optimizer" if index == 0 else f"optimizer{index + 1}"
        session.optimizers.append((weakref.ref(optimizer), prefix))
        if known:
            return
        session.optimizer_signatures.append(signature)
        params: dict[str, Any] = {f"{prefix}_name": name}
        params.update({f"{prefix}_{k}": v for k, v in defaults.items()})
        params.update(_group_overrides(optimizer, defaults, prefix))
        if index == 0:
            params.update(parameter_counts(optimizer, module))
        if session.target is not None:
            session.target.log_params(params)
        else:
            session.pending_params.update(params)

    def _log_pass(self, p: Pass, training_in_progress: bool) -> None:
        if p.is_training:
            self._log_training_pass(p)
        elif p.nograd_losses.pending or p.nograd_losses.count:
            self._log_eval_pass(p, training_in_progress)

    def _log_training_pass(self, p: Pass) -> None:
        session = self._bind(open_run=True)
        if session is None:
            return
        epoch = session.epochs
        session.epochs += 1
        session.training_datasets[p.dataset_key] = p.dataset_ref
        metrics: dict[str, float] = {}
        loss = p.grad_losses.mean()
        if loss is not None:
            metrics["train_loss"] = loss
        metrics.update(self._learning_rates(session, p))
        session.target.log_metrics(metrics, epoch)

    def _log_eval_pass(self, p: Pass, training_in_progress: bool) -> None:
        session = self._bind(open_run=False) or self._session
        if session.is_training_dataset(p):
            return  # an evaluation of the training set is not a validation loss
        loss = p.nograd_losses.mean()
        name = session.eval_name(p)
        if training_in_progress:
            step = session.epochs  # validation inside an epoch belongs to that epoch
        elif session.epochs:
            step = session.epochs - 1  # the epoch that just finished
        else:
            name, step = f"initial_{name}", 0  # evaluated before any training epoch
        if session.target is not None:
            session.target.log_metrics({name: loss}, step)
        else:
            session.pending_metrics.append(({name: loss}, step))

    def _learning_rates(self, session: Session, p: Pass) -> dict[str, float]:
        stepped = [ref() for ref in p.stepped]
        stepped = [opt for opt in stepped if opt is not None]
        if not stepped:
            return {}
        single = len(stepped) == 1 and len(stepped[0].param_groups) == 1
        out: dict[str, float] = {}
        for opt in stepped:
            prefix = session.prefix_for(opt)
            base = "lr" if single else f"lr-{type(opt).__name__}"
            if not single and prefix not in (None, "optimizer"):
                base = f"{base}-{prefix[len('optimizer') :]}"
            for i, group in enumerate(opt.param_groups):
                lr = group.get("lr")
                if isinstance(lr, int | float) or hasattr(lr, "item"):
                    key = base if len(opt.param_groups) == 1 else f"{base}/pg{i + 1}"
                    out[key] = float(lr)
        return out

    def reset(self) -> None:
        with self._lock:
            self._passes.clear()
            self._by_iterator.clear()
            self._session = Session()
            self._broken_run = None


def _continued_epochs(target: Any) -> int:
    """Where epoch numbering starts: 0, except for a distributed job's run that this process
    did not create (an elastic restart resumes it), where it continues after the last epoch
    logged, so a restarted job's steps go on instead of starting over."""
    from flightlog import distributed, fluent

    active = fluent.active_run()
    if not distributed.is_distributed() or active is None:
        return 0
    if active.info.run_id != target.run_id or getattr(active, "_created_here", True):
        return 0
    rank, per_rank = target.rank_view()
    key = "train_loss" if rank == 0 else (f"rank{rank}/train_loss" if per_rank else None)
    if key is None:
        return 0
    run = target.client.get_run(target.run_id)
    steps = [m.step for m in getattr(run.data, "_metric_objs", ()) if m.key == key]
    return max(steps) + 1 if steps else 0


def _group_overrides(optimizer: Any, defaults: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Param-group settings that differ from the optimizer's defaults (per-layer learning
    rates), as `<prefix>_pg<i>_<key>`."""
    groups = getattr(optimizer, "param_groups", [])
    if len(groups) < 2:
        return {}
    out: dict[str, Any] = {}
    for i, group in enumerate(groups):
        for key, value in group.items():
            if key == "params" or key in _IMPLEMENTATION_FLAGS or key not in defaults:
                continue
            if value != defaults[key]:
                out[f"{prefix}_pg{i + 1}_{key}"] = value
    return out


def module_of_parameters(params: Any) -> Any:
    """The nn.Module whose `.parameters()` generator was handed to an optimizer, if it was one.

    `torch.optim.Adam(model.parameters())` passes an unstarted generator; its frame still holds
    `self`, the model, so the parameter count can include frozen parameters too.
    """
    frame = getattr(params, "gi_frame", None)
    if frame is None or getattr(params, "gi_code", None) is None:
        return None
    if params.gi_code.co_name not in ("parameters", "named_parameters"):
        return None
    module = frame.f_locals.get("self")
    import torch

    return module if isinstance(module, torch.nn.Module) else None


def parameter_counts(optimizer: Any, module: Any) -> dict[str, int]:
    """`model_parameter_count` (all of the model's parameters when the model is known, else
    those given to the optimizer) and `model_trainable_parameter_count`."""
    seen: set[int] = set()
    trainable = 0
    for group in getattr(optimizer, "param_groups", []):
        for param in group.get("params", []):
            if id(param) not in seen:
                seen.add(id(param))
                trainable += param.numel()
    total = trainable
    if module is not None:
        params = list(module.parameters())
        total = sum(p.numel() for p in params)
        trainable = sum(p.numel() for p in params if p.requires_grad)
    return {"model_parameter_count": total, "model_trainable_parameter_count": trainable}
