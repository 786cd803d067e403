"""The Optuna integration object: `Study.optimize` patched so a study becomes a sweep.

With autolog on, `study.optimize(objective, ...)` opens (or joins) the sweep named after the
study, runs every trial's objective inside that trial's child run (context-local, so
`n_jobs>1` threads never share one), adds a callback recording Optuna's verdict, and leaves the
sweep when optimize returns (the last process of the study ends the parent). An optimize call
that already has a FlightlogCallback is left to it.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from flightlog.autolog import reporting
from flightlog.autolog.integration import AutologIntegration
from flightlog.autolog.patching import Patcher


class OptunaIntegration(AutologIntegration):
    name = "optuna"
    module = "optuna"

    def patch_targets(self):
        return {"optuna": self._patch_optuna}

    def _report(self, what: str, exc: BaseException) -> None:
        config = self.config
        reporting.report(self.name, what, exc, silent=bool(config and config.silent))

    def _patch_optuna(self, optuna: ModuleType, patcher: Patcher) -> None:
        from optuna.study import Study

        from flightlog_optuna._callback import FlightlogCallback
        from flightlog_optuna._study import StudyTracker

        integration = self
        signature = inspect.signature(Study.optimize)

        def optimize(wrapped, instance, args, kwargs):
            config = integration.config
            if config is None:
                return wrapped(*args, **kwargs)
            try:
                bound = signature.bind(instance, *args, **kwargs)
                bound.apply_defaults()
                arguments = dict(bound.arguments)
                arguments.pop("self", None)
                callbacks = list(arguments.get("callbacks") or [])
                if any(isinstance(c, FlightlogCallback) for c in callbacks):
                    return wrapped(*args, **kwargs)
                catch = arguments.get("catch") or ()
                catch = tuple(catch) if isinstance(catch, list | tuple | set) else (catch,)
                tags = dict(config.extra_tags or {})
                tags.setdefault("mlflow.autologging", integration.name)
                tracker = StudyTracker(instance, tags=tags, on_error=integration._report)
            except Exception as exc:  # noqa: BLE001 - tracking trouble never stops a study
                integration._report("opening the study's sweep", exc)
                return wrapped(*args, **kwargs)
            arguments["func"] = tracker.wrap(arguments["func"], catch)
            arguments["callbacks"] = [*callbacks, tracker.finish_callback]
            status = "FINISHED"
            try:
                return wrapped(**arguments)
            except KeyboardInterrupt:
                status = "KILLED"
                raise
            except BaseException:
                status = "FAILED"
                raise
            finally:
                try:
                    tracker.close(status)
                except Exception as exc:  # noqa: BLE001
                    integration._report("closing the study's sweep", exc)

        patcher.wrap(Study, "optimize", optimize)
