"""A toy framework and a toy integration, to test the autolog framework without any ML library.

The toy framework is a real module written to tmp_path and imported from there (so post-import
hooks see a real import); each test gets a uniquely named one.
"""

from __future__ import annotations

import sys
import textwrap
import uuid
from typing import Any

import pytest

from flightlog.autolog.calls import AutologCall, TrainingHandler, training_wrapper
from flightlog.autolog.integration import AutologIntegration

TOY_SOURCE = textwrap.dedent(
    """
    class Trainer:
        def __init__(self, fail=False):
            self.fail = fail
            self.received = []

        def fit(self, data, epochs=1, callbacks=None):
            self.received.append((data, epochs, callbacks))
            if self.fail:
                raise ValueError("bad data: " + repr(data))
            return sum(data) * epochs


    class SubTrainer(Trainer):
        def fit(self, data, epochs=1, callbacks=None):
            return super().fit(data, epochs, callbacks)


    class Pipeline(Trainer):
        def __init__(self, steps):
            super().__init__()
            self.steps = steps

        def fit(self, data, epochs=1, callbacks=None):
            for step in self.steps:
                step.fit(data, epochs)
            return len(self.steps)
    """
)


class ToyHandler(TrainingHandler):
    """Logs `epochs` before and `result` after; can be told to misbehave."""

    def __init__(self) -> None:
        self.fail_in: str | None = None
        self.replace_data = False
        self.leave_run_open = False
        self.calls: list[AutologCall] = []

    def before(self, call: AutologCall) -> None:
        self.calls.append(call)
        if self.fail_in == "before":
            raise RuntimeError("toy integration bug before fit")
        if self.replace_data:
            call.call_args = (list(call.args[0]), *call.args[1:])
        call.log(params={"epochs": call.kwargs.get("epochs", 1)}, tags={"toy": "yes"})

    def after(self, call: AutologCall, result: Any) -> None:
        if self.fail_in == "after":
            raise RuntimeError("toy integration bug after fit")
        call.log(metrics={"result": result})
        if self.leave_run_open:
            import flightlog

            flightlog.start_run(nested=True)


class ToyIntegration(AutologIntegration):
    name = "toy"
    module = "toyfw"

    def __init__(self, module_name: str, name: str = "toy"):
        self.name = name
        self.module = module_name
        super().__init__()
        self.handler = ToyHandler()
        self._wrapper = training_wrapper(self, self.handler)

    def patch_targets(self):
        def apply(module, patcher):
            for cls in (module.Trainer, module.SubTrainer, module.Pipeline):
                patcher.wrap(cls, "fit", self._wrapper)

        return {self.module: apply}


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """(integration, import_module): the framework module is not imported until asked."""
    module_name = f"toyfw_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module_name}.py").write_text(TOY_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    integration = ToyIntegration(module_name)

    def import_module():
        import importlib

        return importlib.import_module(module_name)

    yield integration, import_module
    integration.revert()
    sys.modules.pop(module_name, None)


@pytest.fixture(autouse=True)
def autolog_off_after_test():
    """No test leaves an integration enabled (or plots still drawing) for the next one."""
    yield
    from flightlog.autolog.background import wait_for_background
    from flightlog.autolog.integration import enabled_integrations

    try:
        wait_for_background(120)
    finally:
        for integration in enabled_integrations().values():
            integration.revert()


@pytest.fixture
def no_test_mode(monkeypatch):
    """Production behaviour: faults become warnings instead of AutologTestModeError."""
    monkeypatch.setenv("FLIGHTLOG_AUTOLOG_TESTING", "0")


@pytest.fixture
def all_runs():
    """A function returning every run in the default experiment (after flushing)."""
    import flightlog

    def list_runs():
        flightlog.flush()
        return flightlog.search_runs(experiment_ids=["0"], output_format="list")

    return list_runs
