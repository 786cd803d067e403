"""Logging the trained estimator (through flightlog.sklearn.log_model) and its training data."""

from __future__ import annotations

from typing import Any

from flightlog.autolog.calls import AutologCall


def log_estimator(
    call: AutologCall, estimator: Any, name: str, input_example: Any, outputs: Any
) -> None:
    """Log `estimator` under `<name>/` in the call's run, with a signature inferred from the
    input example and the predictions already made on those rows (no extra predict call)."""
    from flightlog import sklearn as flightlog_sklearn

    config = call.config
    signature: Any = False
    if config.log_model_signatures and input_example is not None:
        signature = _signature(estimator, input_example, outputs)
    flightlog_sklearn.log_model(
        estimator,
        name,
        signature=signature if signature is not None else False,
        input_example=input_example if config.log_input_examples else None,
        registered_model_name=config.registered_model_name if name == "model" else None,
        serialization_format=config.serialization_format,
        run_id=call.run_id,
    )


def _signature(estimator: Any, input_example: Any, outputs: Any) -> Any:
    from flightlog.models import infer_signature

    if outputs is None or len(outputs) != _rows(input_example):
        outputs = None
        for method in ("predict", "transform"):
            if hasattr(estimator, method):
                outputs = getattr(estimator, method)(input_example)
                break
    return infer_signature(input_example, outputs)


def _rows(data: Any) -> int:
    shape = getattr(data, "shape", None)
    return int(shape[0]) if shape else len(data)


def log_dataset(run_id: str, X: Any, y: Any) -> Any:
    """Record the training data as a run input; returns the DatasetInput (or None)."""
    from flightlog.autolog import datasets, runs

    dataset = datasets.dataset_input(X, y, name="dataset", context="train")
    if dataset is not None:
        runs.client().log_inputs(run_id, [dataset])
    return dataset
