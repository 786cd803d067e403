"""Evaluation and drift: MLflow Evaluate's metrics and plots, Evidently-style drift, data
quality and threshold checks, logged into a run.

    result = flightlog.evaluate(model_uri, df, targets="label", model_type="classifier")
    report = flightlog.log_drift(train_df, live_df)
    flightlog.check(["share_of_drifted_columns < 0.3", "accuracy_score > 0.9"])

numpy, pandas, scipy and scikit-learn load only when one of these is called, so importing
flightlog (or this package) stays cheap.

Modules: data.py (inputs to frames/arrays), models.py (what a `model` argument predicts),
metrics.py (the metric sets), plots.py (PNG plots), evaluator.py (evaluate and baseline
validation), stattests.py (the per-column tests), drift_report.py (column typing, test choice,
dataset drift), quality.py (data quality), report.py (HTML/JSON), recording.py (metrics, tags
and artifacts into a run), checks.py (conditions), evidently_adapter.py, autolog_hook.py.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "evaluate": "flightlog.evaluation.evaluator",
    "EvaluationResult": "flightlog.evaluation.evaluator",
    "MetricThreshold": "flightlog.evaluation.evaluator",
    "drift": "flightlog.evaluation.drift_report",
    "log_drift": "flightlog.evaluation.drift_report",
    "DriftReport": "flightlog.evaluation.drift_report",
    "ColumnDrift": "flightlog.evaluation.drift_report",
    "check": "flightlog.evaluation.checks",
    "CheckResult": "flightlog.evaluation.checks",
    "log_evidently_report": "flightlog.evaluation.evidently_adapter",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flightlog.evaluation' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
