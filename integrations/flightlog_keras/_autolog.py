"""Keras autologging: `Model.fit` gets a FlightlogCallback (unless it already has one).

The callback records settings and every `logs` entry while training; after `fit` returns, the
model is logged in the `.keras` format with a signature inferred from the first training rows,
and the training/validation data are recorded as run inputs.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from flightlog.autolog.calls import AutologCall, TrainingHandler, training_wrapper
from flightlog.autolog.integration import AutologIntegration
from flightlog.exceptions import AutologConfigError

NAME = "keras"
_CALLBACKS_POSITION = 5  # fit(x, y, batch_size, epochs, verbose, callbacks, ...)
_EXAMPLE_ROWS = 5
# fit() arguments recorded as params (the callback records epochs, batch size and steps).
_FIT_PARAMS = ("validation_split", "shuffle", "initial_epoch", "validation_freq", "class_weight")


class KerasIntegration(AutologIntegration):
    name = NAME
    module = "keras"
    extra_options: Mapping[str, Any] = {
        "log_every_epoch": True,
        "log_every_n_steps": None,
        "save_model_kwargs": None,
    }

    def check_options(self, values: dict[str, Any]) -> None:
        if not isinstance(values["log_every_epoch"], bool):
            raise AutologConfigError(
                f"log_every_epoch must be True or False, got {values['log_every_epoch']!r}"
            )
        n = values["log_every_n_steps"]
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise AutologConfigError(
                f"log_every_n_steps must be a positive integer or None, got {n!r}"
            )
        kwargs = values["save_model_kwargs"]
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise AutologConfigError(f"save_model_kwargs must be a dict or None, got {kwargs!r}")

    def patch_targets(self):
        return {"keras": self._patch}

    def _patch(self, module: Any, patcher: Any) -> None:
        # fit is defined by the backend's trainer class (TorchTrainer, TensorFlowTrainer, ...),
        # which keras.Model inherits; patch it where it is defined.
        owner = next(cls for cls in module.Model.__mro__ if "fit" in vars(cls))
        patcher.wrap(owner, "fit", training_wrapper(self, FitHandler()))


class FitHandler(TrainingHandler):
    def before(self, call: AutologCall) -> None:
        try:
            bound = inspect.signature(call.function).bind(*call.args, **call.kwargs)
        except TypeError:
            return  # fit() itself will raise the user's TypeError, the error to show
        bound.apply_defaults()
        arguments = bound.arguments
        call.state["x"] = arguments.get("x")
        call.state["y"] = arguments.get("y")
        call.state["validation_data"] = arguments.get("validation_data")
        call.log(
            params={
                name: arguments[name]
                for name in _FIT_PARAMS
                if name in arguments and not (name == "class_weight" and arguments[name] is None)
            }
        )
        self._add_callback(call)

    @staticmethod
    def _add_callback(call: AutologCall) -> None:
        from flightlog_keras._callback import FlightlogCallback

        if len(call.args) > _CALLBACKS_POSITION:
            given = call.args[_CALLBACKS_POSITION]
        else:
            given = call.kwargs.get("callbacks")
        if given is not None and not isinstance(given, list | tuple):
            return  # a keras CallbackList built by the user: leave it alone
        if any(isinstance(cb, FlightlogCallback) for cb in given or ()):
            return  # the user attached one: it logs into this run already
        callback = FlightlogCallback(
            run_id=call.run_id,
            log_every_epoch=call.config.log_every_epoch,
            log_every_n_steps=call.config.log_every_n_steps,
            on_fault=lambda what, exc: call.faults.append((what, exc)),
        )
        extended = [*(given or ()), callback]
        if len(call.args) > _CALLBACKS_POSITION:
            args = list(call.args)
            args[_CALLBACKS_POSITION] = extended
            call.call_args = tuple(args)
        else:
            call.call_kwargs = {**call.kwargs, "callbacks": extended}

    def after(self, call: AutologCall, result: Any) -> None:
        model = call.instance
        if call.config.log_datasets:
            with call.guard("logging the datasets"):
                _log_datasets(call)
        if call.config.log_models:
            with call.guard("logging the model"):
                _log_model(call, model)


def _log_model(call: AutologCall, model: Any) -> None:
    from flightlog.models.saving import log_flavor_model
    from flightlog_keras._flavor import FLAVOR

    example = _head(call.state.get("x"))
    signature: Any = False
    if example is not None and call.config.log_model_signatures:
        with call.guard("inferring the model signature"):
            import keras

            from flightlog.models.signature import infer_signature

            prediction = keras.ops.convert_to_numpy(model.predict(example, verbose=0))
            signature = infer_signature(example, prediction)
    log_flavor_model(
        FLAVOR,
        model,
        "model",
        signature=signature,
        input_example=example if call.config.log_input_examples else None,
        registered_model_name=call.config.registered_model_name,
        run_id=call.run_id,
        save_model_kwargs=call.config.save_model_kwargs,
    )


def _head(data: Any, rows: int = _EXAMPLE_ROWS) -> Any:
    """The first rows of in-memory training data (arrays, DataFrames, dicts of arrays); None for
    datasets and generators, which cannot be peeked at without consuming them."""
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[:rows]
    if isinstance(data, dict):
        heads = {k: _head(v, rows) for k, v in data.items()}
        return None if any(v is None for v in heads.values()) else heads
    if type(data).__module__.split(".", 1)[0] == "numpy" and getattr(data, "ndim", 0) >= 1:
        return data[:rows]
    return None


def _log_datasets(call: AutologCall) -> None:
    from flightlog.autolog.datasets import dataset_input
    from flightlog.autolog.runs import client

    inputs = []
    if "x" not in call.state:
        return
    train = dataset_input(call.state["x"], call.state["y"], name="dataset", context="train")
    if train is not None:
        inputs.append(train)
    validation = call.state["validation_data"]
    if isinstance(validation, tuple | list) and len(validation) >= 2:
        found = dataset_input(validation[0], validation[1], name="validation", context="eval")
        if found is not None:
            inputs.append(found)
    if inputs:
        client().log_inputs(call.run_id, inputs)
