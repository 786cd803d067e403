"""Inputs turned into what the metrics and tests need: a pandas DataFrame of features and a
numpy array of targets, with a clear error for anything else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flightlog.evaluation.errors import EvaluationInputError, MissingDependencyError


def require(module: str, extra: str = "evaluation") -> Any:
    """Import an optional dependency, or say which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"flightlog.evaluation needs {module.split('.')[0]}: pip install 'flightlog[{extra}]'"
        ) from exc


def as_frame(data: Any, what: str, feature_names: Sequence[str] | None = None):
    """A DataFrame from a DataFrame, a 2-D array, a dict of columns or a list of rows."""
    pd = require("pandas")
    np = require("numpy")
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pd.Series):
        frame = data.to_frame()
    elif isinstance(data, dict):
        frame = pd.DataFrame(data)
    else:
        array = np.asarray(data)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise EvaluationInputError(
                f"{what} must be a DataFrame or a 2-D array, got an array of shape {array.shape}"
            )
        names = list(feature_names) if feature_names is not None else None
        if names is not None and len(names) != array.shape[1]:
            raise EvaluationInputError(
                f"feature_names has {len(names)} names but {what} has {array.shape[1]} columns"
            )
        frame = pd.DataFrame(
            array, columns=names or [f"feature_{i}" for i in range(array.shape[1])]
        )
    if len(frame) == 0:
        raise EvaluationInputError(f"{what} is empty: it needs at least one row")
    return frame


def split_targets(data: Any, targets: Any, feature_names: Sequence[str] | None):
    """(features DataFrame, targets array) from `data` plus `targets` (a column name of data,
    or an array of labels)."""
    np = require("numpy")
    pd = require("pandas")
    if targets is None:
        raise EvaluationInputError("targets is required: a column name of data or an array")
    if isinstance(targets, str):
        if not isinstance(data, pd.DataFrame):
            raise EvaluationInputError(
                f"targets={targets!r} names a column, so data must be a DataFrame "
                f"(got {type(data).__name__}); or pass targets as an array"
            )
        if targets not in data.columns:
            raise EvaluationInputError(
                f"targets column {targets!r} is not in data; columns are {list(data.columns)}"
            )
        y = data[targets].to_numpy()
        X = data.drop(columns=[targets])
        if feature_names is not None:
            missing = [c for c in feature_names if c not in X.columns]
            if missing:
                raise EvaluationInputError(f"feature_names not in data: {missing}")
            X = X[list(feature_names)]
        frame = as_frame(X, "data")
    else:
        frame = as_frame(data, "data", feature_names)
        if isinstance(data, pd.DataFrame) and feature_names is not None:
            frame = frame[list(feature_names)]
        elif not isinstance(data, (pd.DataFrame, pd.Series, dict)):
            # An array stays an array for the model (one fitted on arrays warns on a frame).
            frame.attrs["flightlog_array"] = np.asarray(data)
        y = np.asarray(targets)
        if y.ndim != 1:
            y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
        if y.ndim != 1:
            raise EvaluationInputError(
                f"targets must be 1-D, got shape {np.asarray(targets).shape}"
            )
    if len(y) != len(frame):
        raise EvaluationInputError(f"targets has {len(y)} values but data has {len(frame)} rows")
    return frame, y
