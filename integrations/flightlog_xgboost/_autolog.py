"""XGBoost autologging: `xgboost.train` and the scikit-learn API, one run per outermost call.

Patched (when xgboost is imported, or at once if it already is):

- `xgboost.train` / `xgboost.training.train`: params, the run's metric curves through an injected
  FlightlogCallback, early stopping results, feature importance, the Booster as a model.
- `fit` of every scikit-learn wrapper class that defines one (XGBModel, so XGBRegressor,
  XGBClassifier, XGBRanker, the random-forest variants): the estimator's params with XGBoost's
  resolved defaults, the same curves (`validation_0-logloss`, ...), the estimator as a model.
- `xgboost.sklearn.train`, the name `fit` calls internally: inside an autologged `fit` it only
  adds the callback, so the metrics stream while training and `fit` still logs one run.

A `fit` nested in another autologged call (a scikit-learn Pipeline or search with scikit-learn
autolog on) logs nothing itself: the outer call's run describes it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from flightlog.autolog import session
from flightlog.autolog.calls import AutologCall, TrainingHandler, training_wrapper
from flightlog.autolog.integration import AutologIntegration
from flightlog.exceptions import AutologConfigError
from flightlog_xgboost._importance import IMPORTANCE_TYPES

NAME = "xgboost"
_CALL_KEY = "xgboost_fit_call"  # where an autologged fit leaves itself for the inner train()
_EXAMPLE_ROWS = 5
_MAX_DESCRIBED_CELLS = 10_000_000


class XGBoostIntegration(AutologIntegration):
    name = NAME
    module = "xgboost"
    extra_options: Mapping[str, Any] = {
        "importance_types": IMPORTANCE_TYPES,
        "model_format": "ubj",
    }

    def check_options(self, values: dict[str, Any]) -> None:
        types = values["importance_types"]
        if isinstance(types, str):
            types = [types]
        if types is None:
            types = []
        if not isinstance(types, list | tuple) or any(t not in IMPORTANCE_TYPES for t in types):
            raise AutologConfigError(
                f"importance_types must be a list of {list(IMPORTANCE_TYPES)}, got {types!r}"
            )
        values["importance_types"] = tuple(types)
        if values["model_format"] not in ("ubj", "json"):
            raise AutologConfigError(
                f"model_format must be 'ubj' or 'json', got {values['model_format']!r}"
            )

    def patch_targets(self):
        return {"xgboost": self._patch}

    def _patch(self, module: Any, patcher: Any) -> None:
        import xgboost.sklearn
        import xgboost.training

        train = training_wrapper(self, BoosterTrainingHandler())
        patcher.wrap(module, "train", train)
        patcher.wrap(xgboost.training, "train", train)
        patcher.wrap(xgboost.sklearn, "train", _inner_train_wrapper(self))
        fit = training_wrapper(self, EstimatorFitHandler())
        for value in list(vars(xgboost.sklearn).values()):
            if (
                isinstance(value, type)
                and issubclass(value, xgboost.sklearn.XGBModel)
                and "fit" in vars(value)
            ):
                patcher.wrap(value, "fit", fit)


# --- xgboost.train ----------------------------------------------------------------------------
class BoosterTrainingHandler(TrainingHandler):
    def before(self, call: AutologCall) -> None:
        from flightlog_xgboost._params import early_stopping_params, train_call_params

        bound = _bind(call.function, call.args, call.kwargs)
        if not bound:
            return
        call.state["dtrain"] = bound.get("dtrain")
        call.state["evals"] = list(bound.get("evals") or ())
        call.state["early_stopping"] = bound.get("early_stopping_rounds") is not None or bool(
            early_stopping_params(bound.get("callbacks"))
        )
        call.log(params=train_call_params(bound))
        _add_callback(call, call.kwargs, lambda kwargs: setattr(call, "call_kwargs", kwargs))

    def after(self, call: AutologCall, result: Any) -> None:
        booster = result
        with call.guard("logging early stopping results"):
            if call.state.get("early_stopping"):
                _log_early_stopping(call, booster)
        _log_importance(call, booster)
        dtrain = call.state.get("dtrain")
        if call.config.log_datasets:
            with call.guard("logging the training dataset"):
                _log_dmatrix_dataset(call, dtrain)
            with call.guard("logging the eval datasets"):
                # Each eval set too, named as in `evals` (MLflow logs them with context "eval").
                for dmatrix, name in call.state.get("evals") or ():
                    if dmatrix is not dtrain:
                        _log_dmatrix_dataset(call, dmatrix, name=str(name), context="eval")
        if call.config.log_models:
            with call.guard("logging the model"):
                example = _dmatrix_head(dtrain)
                _log_model(call, booster, example, _booster_predict(booster))


# --- the scikit-learn API ---------------------------------------------------------------------
class EstimatorFitHandler(TrainingHandler):
    def before(self, call: AutologCall) -> None:
        from flightlog_xgboost._params import estimator_params

        chosen, unset = estimator_params(call.instance)
        call.state["unset"] = unset
        call.log(params=chosen)
        bound = _bind(call.function, call.args, call.kwargs)  # a bound method: no self
        call.state["X"] = bound.get("X")
        call.state["y"] = bound.get("y")
        call.state["eval_set"] = bound.get("eval_set")
        frame = session.current()
        if frame is not None:
            frame.state[_CALL_KEY] = call

    def after(self, call: AutologCall, result: Any) -> None:
        from flightlog_xgboost._params import early_stopping_params, resolved_defaults

        estimator = call.instance
        booster = estimator.get_booster()
        with call.guard("logging XGBoost's default params"):
            # get_params() said "None" (as MLflow logs it); what XGBoost used goes beside it.
            resolved = resolved_defaults(booster, call.state["unset"])
            call.log(params={f"resolved_{k}": v for k, v in resolved.items() if v != "None"})
        with call.guard("logging early stopping results"):
            if estimator.early_stopping_rounds is not None or early_stopping_params(
                estimator.callbacks
            ):
                _log_early_stopping(call, booster)
        _log_importance(call, booster)
        if call.config.log_datasets:
            with call.guard("logging the datasets"):
                _log_estimator_datasets(call)
        if call.config.log_models:
            with call.guard("logging the model"):
                example = _head(call.state["X"])
                _log_model(call, estimator, example, estimator.predict)
        if call.config.evaluate_on is not None:
            with call.guard("evaluating on evaluate_on"):
                from flightlog.evaluation.autolog_hook import evaluate_after_fit

                evaluate_after_fit(
                    estimator, call.run_id, call.config.evaluate_on, call.state["eval_set"]
                )


def _inner_train_wrapper(integration: XGBoostIntegration):
    """`xgboost.sklearn.train` inside an autologged fit: add the metrics callback, nothing else."""

    def autolog_inner_train(wrapped, instance, args, kwargs):
        frame = session.outermost()
        call = frame.state.get(_CALL_KEY) if frame is not None and frame.logging else None
        if call is None or integration.config is None or call.run is None:
            return wrapped(*args, **kwargs)
        passed: dict[str, Any] = {}
        with call.guard("adding the metrics callback"):
            _add_callback(call, kwargs, passed.update)
        return wrapped(*args, **(passed or kwargs))

    return autolog_inner_train


# --- shared steps -----------------------------------------------------------------------------
def _bind(function: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by name, defaults included (what the user did not set counts too).

    Arguments that do not fit the signature give {}: the original will raise the user's own
    TypeError about them, which is the error the user should see.
    """
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except TypeError:
        return {}
    bound.apply_defaults()
    return dict(bound.arguments)


def _add_callback(call: AutologCall, kwargs: dict, use: Any) -> None:
    """Pass `kwargs` on with a FlightlogCallback appended to the user's callbacks (unless the
    user attached one already: the same points twice would double every curve)."""
    from flightlog_xgboost._callback import FlightlogCallback

    given = list(kwargs.get("callbacks") or ())
    if any(isinstance(cb, FlightlogCallback) for cb in given):
        return
    callback = FlightlogCallback(
        call.run_id, on_fault=lambda what, exc: call.faults.append((what, exc))
    )
    call.state["callback"] = callback
    use({**kwargs, "callbacks": [*given, callback]})


def _log_early_stopping(call: AutologCall, booster: Any) -> None:
    best_iteration = booster.attr("best_iteration")
    best_score = booster.attr("best_score")
    metrics: dict[str, float] = {}
    if best_iteration is not None:
        metrics["best_iteration"] = int(best_iteration)
    if best_score is not None:
        metrics["best_score"] = float(best_score)
    callback = call.state.get("callback")
    if callback is not None and callback.last_iteration is not None:
        metrics["stopped_iteration"] = callback.last_iteration
    call.log(metrics=metrics)


def _log_importance(call: AutologCall, booster: Any) -> None:
    """Scores now (the booster is the user's), JSON and charts on the background thread: five
    matplotlib renders would otherwise add a second to every training call."""
    from flightlog.autolog import background
    from flightlog.autolog.runs import client
    from flightlog_xgboost._importance import importance_by_type, log_importance_artifacts

    types = call.config.importance_types
    if not types:
        return
    with call.guard("logging feature importance"):
        scores = importance_by_type(booster, types)
        if scores:
            background.submit(
                NAME,
                "logging feature importance",
                log_importance_artifacts,
                client(),
                call.run_id,
                scores,
            )


def _log_model(call: AutologCall, model: Any, example: Any, predict: Any) -> None:
    from flightlog.models.saving import log_flavor_model
    from flightlog_xgboost._flavor import FLAVOR

    signature: Any = False
    if example is not None and call.config.log_model_signatures:
        with call.guard("inferring the model signature"):
            from flightlog.models.signature import infer_signature

            signature = infer_signature(example, predict(example))
    log_flavor_model(
        FLAVOR,
        model,
        "model",
        signature=signature if signature is not None else False,
        input_example=example if call.config.log_input_examples else None,
        registered_model_name=call.config.registered_model_name,
        run_id=call.run_id,
        model_format=call.config.model_format,
    )


def _booster_predict(booster: Any):
    import xgboost

    return lambda data: booster.predict(xgboost.DMatrix(data))


def _head(data: Any, rows: int = _EXAMPLE_ROWS) -> Any:
    """The first rows of training data as given to fit (DataFrame, array, sparse), or None."""
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[:rows]
    if hasattr(data, "shape") and hasattr(data, "__getitem__"):
        return data[:rows]
    if isinstance(data, list):
        return data[:rows]
    return None


def _dmatrix_head(dmatrix: Any, rows: int = _EXAMPLE_ROWS) -> Any:
    """The first rows of a DMatrix, rebuilt from its sparse form (absent entries are missing).

    A DMatrix keeps no reference to the user's data; `get_data()` is XGBoost's own copy. Data
    with categorical features cannot be rebuilt (the categories are gone), so gives None.
    """
    if dmatrix is None or not hasattr(dmatrix, "get_data"):
        return None
    types = dmatrix.feature_types or []
    if any(t == "c" for t in types):
        return None
    import numpy as np

    csr = dmatrix.get_data()[:rows]
    dense = np.full(csr.shape, np.nan, dtype=np.float64)
    coo = csr.tocoo()
    dense[coo.row, coo.col] = coo.data
    names = dmatrix.feature_names
    if not names:
        return dense
    try:
        import pandas as pd
    except ImportError:
        return dense
    frame = pd.DataFrame(dense, columns=list(names))
    for name, kind in zip(names, types, strict=False):
        if kind == "int" and not frame[name].isna().any():
            frame[name] = frame[name].astype(np.int64)
    return frame


def _log_dmatrix_dataset(
    call: AutologCall, dmatrix: Any, name: str = "dtrain", context: str = "train"
) -> None:
    from flightlog.autolog.datasets import dataset_input

    if dmatrix is None or not hasattr(dmatrix, "get_data"):
        return
    # get_data() copies the whole matrix out of XGBoost; past a size where that copy would
    # cost real memory and time after training, the dataset is not described.
    if dmatrix.num_row() * dmatrix.num_col() > _MAX_DESCRIBED_CELLS:
        return
    label = dmatrix.get_label()
    found = dataset_input(
        dmatrix.get_data(), label if len(label) else None, name=name, context=context
    )
    if found is not None:
        from flightlog.autolog.runs import client

        client().log_inputs(call.run_id, [found])


def _log_estimator_datasets(call: AutologCall) -> None:
    from flightlog.autolog.datasets import dataset_input
    from flightlog.autolog.runs import client

    inputs = []
    train = dataset_input(call.state["X"], call.state["y"], name="dataset", context="train")
    if train is not None:
        inputs.append(train)
    for index, pair in enumerate(call.state.get("eval_set") or ()):
        found = dataset_input(pair[0], pair[1], name=f"validation_{index}", context="eval")
        if found is not None:
            inputs.append(found)
    if inputs:
        client().log_inputs(call.run_id, inputs)
