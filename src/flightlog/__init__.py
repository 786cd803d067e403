"""flightlog: a flight recorder for model training.

`import flightlog as mlflow` runs common MLflow code unchanged; `flightlog.autolog()` records
scikit-learn, PyTorch, Lightning, XGBoost and Keras training with one line.

Importing this package is cheap: the store, pandas and every ML framework load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from flightlog import entities, exceptions
from flightlog.autolog import autolog
from flightlog.client import MlflowClient, TrackingClient
from flightlog.entities import Experiment, Metric, Param, Run, RunStatus, RunTag, ViewType
from flightlog.exceptions import FlightlogError, MlflowException
from flightlog.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_run,
    delete_tag,
    end_run,
    flush,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_parent_run,
    get_run,
    get_tracking_uri,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_table,
    log_text,
    queue_stats,
    restore_experiment,
    restore_run,
    search_experiments,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from flightlog.models.logged import (
    create_external_model,
    delete_logged_model_tag,
    finalize_logged_model,
    get_logged_model,
    initialize_logged_model,
    last_logged_model,
    log_model_params,
    search_logged_models,
    set_logged_model_tags,
)
from flightlog.models.registry_client import register_model
from flightlog.system_metrics import (
    disable_system_metrics_logging,
    enable_system_metrics_logging,
    set_system_metrics_node_id,
    set_system_metrics_samples_before_logging,
    set_system_metrics_sampling_interval,
)

__version__ = "0.1.0"

# Submodules MLflow users reach as attributes (`mlflow.sklearn.autolog()`), imported on first use.
_LAZY_SUBMODULES = (
    "data",
    "keras",
    "lightning",
    "models",
    "pyfunc",
    "pytorch",
    "server",
    "sklearn",
    "store",
    "sweeps",
    "optuna",
    "torch",
    "tracking",
    "xgboost",
)


# Evaluation and drift (flightlog.evaluation), imported on first use: numpy/scipy stay unloaded.
_LAZY_EVALUATION = ("evaluate", "drift", "log_drift", "check", "MetricThreshold")


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"flightlog.{name}")
    if name in _LAZY_EVALUATION:
        return getattr(importlib.import_module("flightlog.evaluation"), name)
    if name == "sweep":  # flightlog.sweep("name"): see flightlog.sweeps
        return importlib.import_module("flightlog.sweeps").sweep
    raise AttributeError(f"module 'flightlog' has no attribute {name!r}")


__all__ = [
    "ActiveRun",
    "Experiment",
    "FlightlogError",
    "Metric",
    "MlflowClient",
    "MlflowException",
    "Param",
    "Run",
    "RunStatus",
    "RunTag",
    "TrackingClient",
    "ViewType",
    "__version__",
    "MetricThreshold",
    "active_run",
    "autolog",
    "check",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "disable_system_metrics_logging",
    "drift",
    "enable_system_metrics_logging",
    "end_run",
    "entities",
    "evaluate",
    "exceptions",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_drift",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "queue_stats",
    "register_model",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
# MLflow 3 logged models (flightlog/models/logged.py)
__all__ += [
    "create_external_model",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_logged_model",
    "initialize_logged_model",
    "last_logged_model",
    "log_model_params",
    "search_logged_models",
    "set_logged_model_tags",
]
