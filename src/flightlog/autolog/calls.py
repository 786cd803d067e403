"""What a patched call does: the user's function runs once, untouched, whatever flightlog does.

Three kinds of wrapper, all exception-isolated:

- `training_wrapper`: a training entry point (`fit`). The outermost call on a thread opens a run,
  lets the integration record what goes in (`before`) and what came out (`after`), and ends the
  run it started; nested calls just run.
- `observer_wrapper`: a call that is not training but may add to a run (`predict`, a metric
  function): `before` says whether the call is of interest; nothing about runs is managed.
- `quiet_wrapper`: marks a call during which nothing is autologged (`cross_val_score` fitting
  clones), by pushing a non-logging frame.

Whatever goes wrong inside flightlog (store down, a serialization error, a bug) becomes one
warning per call (`silent=True` drops it), or an AutologTestModeError in test mode. The user's
own exceptions pass through as the very same object.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flightlog.autolog import reporting, runs, session

if TYPE_CHECKING:
    from flightlog.autolog.config import AutologConfig
    from flightlog.autolog.integration import AutologIntegration
    from flightlog.autolog.patching import WrapperFunction

LOG = "log"  # the outermost call logs a run
QUIET = "quiet"  # run the call without logging, and without logging anything nested in it
PASS = "pass"  # not ours: run it as if unpatched (another integration may log it)


class AutologCall:
    """One outermost autologged call, as its integration's handler sees it.

    `args`/`kwargs` are what the user passed; a handler that must pass something extra (a
    callback) sets `call_args`/`call_kwargs`, which test mode checks only append. `state` is the
    handler's scratch space between `before` and `after`.
    """

    def __init__(
        self,
        integration: AutologIntegration,
        config: AutologConfig,
        instance: Any,
        function: Any,
        args: tuple,
        kwargs: dict,
    ):
        self.integration = integration
        self.config = config
        self.instance = instance
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.call_args: tuple = args
        self.call_kwargs: dict = kwargs
        self.run: runs.RunHandle | None = None
        self.state: dict[str, Any] = {}
        self.faults: list[tuple[str, BaseException]] = []

    @property
    def run_id(self) -> str:
        if self.run is None:
            raise RuntimeError("this autologged call has no run")
        return self.run.run_id

    @property
    def function_name(self) -> str:
        return getattr(self.function, "__qualname__", None) or getattr(
            self.function, "__name__", repr(self.function)
        )

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Run one step of logging; a failure is recorded (reported once, at the end of the
        call) and the remaining steps still run."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - isolation is the point
            self.faults.append((what, exc))

    def log(
        self,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        step: int = 0,
        run_id: str | None = None,
    ) -> None:
        """Params, metrics and tags in one `log_batch` (queued: it does not wait on the store)."""
        from flightlog.entities import Metric, RunTag

        now = time.time_ns() // 1_000_000
        metric_list = [Metric(k, v, now, step) for k, v in (metrics or {}).items()]
        tag_list = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        runs.client().log_batch(
            run_id or self.run_id,
            metrics=metric_list,
            params=params_to_log(params or {}),
            tags=tag_list,
        )


def params_to_log(params: Mapping[str, Any]) -> list:
    """Params as stored: values stringified and cut to the store's limits; keys that could never
    be valid (a framework's odd parameter name) are left out rather than failing the batch."""
    from flightlog import validation as v
    from flightlog.entities import Param
    from flightlog.exceptions import InvalidKeyError

    out = []
    for key, value in params.items():
        key = str(key)[: v.MAX_KEY_LENGTH]
        try:
            v.validate_key(key, "Param")
        except InvalidKeyError:
            continue
        out.append(Param(key, v.stringify_value(value)[: v.MAX_PARAM_VALUE_LENGTH]))
    return out


class TrainingHandler:
    """What an integration does around an outermost training call; every method may fail."""

    def decide(self, call: AutologCall) -> str:
        """LOG, QUIET or PASS for this outermost call (e.g. QUIET for a plain data scaler)."""
        return LOG

    def before(self, call: AutologCall) -> None:
        """Before the original runs, inside the run (params, tags, what goes in)."""

    def after(self, call: AutologCall, result: Any) -> None:
        """After the original returned (metrics, model, artifacts)."""

    def failed(self, call: AutologCall, exc: BaseException) -> None:
        """After the original raised `exc` (which is re-raised untouched afterwards)."""


class ObserverHandler:
    """An integration's interest in non-training calls (predictions, metric functions)."""

    def before(
        self, config: AutologConfig, function: Any, instance: Any, args: tuple, kwargs: dict
    ) -> Any:
        """A token if this call is of interest (passed to `after`), else None. Called on every
        call of the patched function outside autologged training, so it must be cheap."""
        return None

    def after(self, token: Any, result: Any) -> None:
        """Record something about the call's result."""


def training_wrapper(integration: AutologIntegration, handler: TrainingHandler) -> WrapperFunction:
    name = integration.name

    def autolog_training_call(wrapped, instance, args, kwargs):
        config = integration.config
        if config is None or session.active():
            return wrapped(*args, **kwargs)
        call = AutologCall(integration, config, instance, wrapped, args, kwargs)
        try:
            decision = handler.decide(call)
        except Exception as exc:  # noqa: BLE001 - a broken decision must not break training
            call.faults.append(("deciding whether to log the call", exc))
            decision = QUIET
        if decision == PASS:
            return wrapped(*args, **kwargs)
        if decision != LOG:
            with session.frame(name):
                result = wrapped(*args, **kwargs)
            _finish(call, None)
            return result
        return _run_logged(call, handler, wrapped)

    return autolog_training_call


def _run_logged(call: AutologCall, handler: TrainingHandler, wrapped: Any) -> Any:
    name = call.integration.name
    testing = reporting.is_test_mode()
    stack_before = runs.active_run_ids() if testing else None
    with session.frame(name, logging=True) as frame:
        with call.guard("starting a run"):
            call.run = runs.open_run(name, call.config)
        if call.run is None:
            frame.logging = False  # exclusive=True and a user run is active, or no store
        else:
            frame.run_id = call.run.run_id
            with call.guard("logging the call's inputs"):
                handler.before(call)
        if testing:
            with call.guard("checking the arguments"):
                reporting.check_args_unchanged(
                    name,
                    call.function_name,
                    call.args,
                    call.kwargs,
                    call.call_args,
                    call.call_kwargs,
                )
        try:
            result = wrapped(*call.call_args, **call.call_kwargs)
        except BaseException as exc:
            if call.run is not None:
                with call.guard("logging the failed call"):
                    handler.failed(call, exc)
                with call.guard("ending the run"):
                    _check_closed(call, runs.close_run(call.run, runs.status_for(exc)), testing)
            _finish(call, stack_before)
            raise
        if call.run is not None:
            with call.guard("logging the training results"):
                handler.after(call, result)
            with call.guard("ending the run"):
                _check_closed(call, runs.close_run(call.run, runs.status_for(None)), testing)
    _finish(call, stack_before)
    return result


def _check_closed(call: AutologCall, left_open: list[str], testing: bool) -> None:
    # Ending them was right; having left them open is a bug test mode should see.
    if left_open and testing:
        call.faults.append(
            ("ending its runs", RuntimeError(f"runs left open after the call: {left_open}"))
        )


def _finish(call: AutologCall, stack_before: list[str] | None) -> None:
    if stack_before is not None:
        left_open = [r for r in runs.active_run_ids() if r not in stack_before]
        if left_open:
            call.faults.append(
                ("ending its runs", RuntimeError(f"runs left open after the call: {left_open}"))
            )
    reporting.report_many(call.integration.name, call.faults, call.config.silent)


def observer_wrapper(integration: AutologIntegration, handler: ObserverHandler) -> WrapperFunction:
    name = integration.name

    def autolog_observed_call(wrapped, instance, args, kwargs):
        config = integration.config
        if config is None or session.active():
            return wrapped(*args, **kwargs)
        try:
            token = handler.before(config, wrapped, instance, args, kwargs)
        except Exception as exc:  # noqa: BLE001
            reporting.report(name, f"watching {_name_of(wrapped)}", exc, silent=config.silent)
            token = None
        if token is None:
            return wrapped(*args, **kwargs)
        with session.frame(name):
            result = wrapped(*args, **kwargs)
        try:
            handler.after(token, result)
        except Exception as exc:  # noqa: BLE001
            reporting.report(name, f"logging after {_name_of(wrapped)}", exc, silent=config.silent)
        return result

    return autolog_observed_call


def quiet_wrapper(integration: AutologIntegration) -> WrapperFunction:
    name = integration.name

    def autolog_quiet_call(wrapped, instance, args, kwargs):
        if integration.config is None or session.active():
            return wrapped(*args, **kwargs)
        with session.frame(name):
            return wrapped(*args, **kwargs)

    return autolog_quiet_call


def _name_of(function: Any) -> str:
    return getattr(function, "__qualname__", None) or getattr(function, "__name__", "a call")
