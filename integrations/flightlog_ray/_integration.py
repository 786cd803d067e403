"""The Ray Tune integration object: `Tuner` patched so a Tune run becomes a sweep.

`Tuner.__init__`: a FlightlogCallback is added to the run config (unless one is there), and a
function trainable is wrapped so each trial's worker process logs into the trial's child run.
`Tuner.fit`: the sweep is left when fit returns or raises (the callback also closes it at the
experiment's end). The sweep's key is the RunConfig's name, or one generated per Tuner.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

from flightlog.autolog import reporting
from flightlog.autolog.integration import AutologIntegration
from flightlog.autolog.patching import Patcher


class RayTuneIntegration(AutologIntegration):
    name = "ray"
    module = "ray"

    def patch_targets(self):
        return {"ray.tune": self._patch_tune}

    def _report(self, what: str, exc: BaseException) -> None:
        config = self.config
        reporting.report(self.name, what, exc, silent=bool(config and config.silent))

    def _patch_tune(self, tune: ModuleType, patcher: Patcher) -> None:
        from ray.tune import Tuner

        integration = self
        signature = inspect.signature(Tuner.__init__)

        def tuner_init(wrapped, instance, args, kwargs):
            if integration.config is None or kwargs.get("_tuner_internal") is not None:
                return wrapped(*args, **kwargs)
            try:
                bound = signature.bind(instance, *args, **kwargs)
                arguments = dict(bound.arguments)
                arguments.pop("self", None)
                callback = _prepare(arguments)
            except Exception as exc:  # noqa: BLE001 - tracking trouble never stops tuning
                integration._report("preparing the Tune run's sweep", exc)
                return wrapped(*args, **kwargs)
            wrapped(**arguments)
            instance._flightlog_callback = callback

        def tuner_fit(wrapped, instance, args, kwargs):
            callback = getattr(instance, "_flightlog_callback", None)
            status = "FINISHED"
            try:
                return wrapped(*args, **kwargs)
            except BaseException:
                status = "FAILED"
                raise
            finally:
                if callback is not None:
                    try:
                        callback.close(status)
                    except Exception as exc:  # noqa: BLE001
                        integration._report("closing the Tune run's sweep", exc)

        patcher.wrap(Tuner, "__init__", tuner_init)
        patcher.wrap(Tuner, "fit", tuner_fit)


def _prepare(arguments: dict[str, Any]) -> Any:
    """Add the callback to the run config and wrap a function trainable; returns the callback."""
    import uuid

    from ray import tune

    from flightlog import fluent
    from flightlog.sweeps.handle import sweep_run_id
    from flightlog_ray._callback import FlightlogCallback
    from flightlog_ray._trainable import wrap_function

    run_config = arguments.get("run_config") or tune.RunConfig()
    callbacks = list(run_config.callbacks or [])
    existing = next((c for c in callbacks if isinstance(c, FlightlogCallback)), None)
    if existing is not None:
        return None
    tune_config = arguments.get("tune_config")
    trainable = arguments.get("trainable")
    base = getattr(trainable, "__name__", type(trainable).__name__)
    name = run_config.name or f"ray-tune-{base}-{uuid.uuid4().hex[:8]}"
    callback = FlightlogCallback(
        sweep_name=name,
        metric=getattr(tune_config, "metric", None),
        mode=getattr(tune_config, "mode", None),
        tracking_uri=fluent.get_tracking_uri(),
        experiment_id=fluent._resolve_experiment_id(None),
    )
    run_config.callbacks = [*callbacks, callback]
    arguments["run_config"] = run_config
    if inspect.isfunction(trainable) and not getattr(trainable, "_flightlog_wrapped", False):
        target = {
            "tracking_uri": callback.tracking_uri,
            "experiment_id": callback.experiment_id,
            "parent_run_id": sweep_run_id(callback.experiment_id, name),
        }
        arguments["trainable"] = wrap_function(trainable, target)
    return callback
