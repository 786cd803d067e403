"""Lightning's callback hooks handed to a LightningRecorder, and one-namespace callback classes.

`callback_class(namespace)` builds a Callback subclass of that namespace only (used by autolog
and by FlightlogLogger's companion), so they never import the other Lightning package.
"""

from __future__ import annotations

import sys
from typing import Any

from flightlog_lightning import _namespaces
from flightlog_lightning._recorder import LightningRecorder


class RecorderLoggerMarker:
    """Base of FlightlogLogger, so autolog can recognise one without importing Lightning."""

    def attach(self, trainer: Any) -> None:
        raise NotImplementedError


class RecorderHooks:
    """Lightning's callback hooks, each handed to a LightningRecorder."""

    def __init__(self, recorder: LightningRecorder) -> None:
        self._flightlog_recorder = recorder

    @property
    def recorder(self) -> LightningRecorder:
        return self._flightlog_recorder

    @property
    def run_id(self) -> str | None:
        """The run this callback logs (or last logged) into."""
        return self._flightlog_recorder.run_id

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.ensure_fit(trainer, pl_module)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.ensure_fit(trainer, pl_module)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.epoch_start(trainer, pl_module)

    def on_train_batch_start(
        self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int
    ) -> None:
        self._flightlog_recorder.batch_start(trainer, pl_module, batch)

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._flightlog_recorder.batch_end(trainer, pl_module)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.epoch_end(trainer, pl_module)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.flush_epoch(trainer, pl_module)

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.fit_end(trainer, pl_module)

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.eval_start(trainer, pl_module)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.eval_end(trainer, pl_module)

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.eval_start(trainer, pl_module)

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        self._flightlog_recorder.eval_end(trainer, pl_module)

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self._flightlog_recorder.failed(trainer, exception)

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict) -> None:
        self._flightlog_recorder.save_checkpoint(checkpoint)  # the run id, for a resumed fit

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict) -> None:
        self._flightlog_recorder.load_checkpoint(checkpoint)


def _class_name(namespace: str) -> str:
    return "RecorderCallback_" + namespace.replace(".", "_")


def callback_class(namespace: str) -> type:
    """A Callback class of `namespace` only, constructed with a LightningRecorder."""
    name = _class_name(namespace)
    module = sys.modules[__name__]
    cls = module.__dict__.get(name)
    if cls is None:
        base = _namespaces.load(namespace).Callback
        cls = type(name, (RecorderHooks, base), {"__module__": __name__, "__qualname__": name})
        setattr(module, name, cls)
    return cls


def __getattr__(name: str) -> Any:
    # Unpickling a one-namespace callback (ddp_spawn workers) finds its class by name.
    for namespace in _namespaces.NAMESPACES:
        if name == _class_name(namespace):
            return callback_class(namespace)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
