"""flightlog.evaluate: MLflow Evaluate's default metrics and plots for one model on one
labelled dataset, logged into a run, with an optional baseline model and thresholds."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

from flightlog.evaluation.errors import EvaluationInputError, ModelValidationFailedError

MODEL_TYPES = ("classifier", "regressor")
SUMMARY_FILE = "evaluation_summary.json"
EVALUATION_TAG = "flightlog.evaluation"
VALIDATION_TAG = "flightlog.evaluation.validation"
_MAX_ROC_PR_CLASSES = 10


@dataclass
class MetricThreshold:
    """A bar a candidate metric must clear (MLflow's MetricThreshold shape).

    `threshold`: the value itself must be at least (or at most) this. `min_absolute_change` /
    `min_relative_change`: the candidate must beat the baseline by at least this much.
    """

    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool = True

    def __post_init__(self) -> None:
        for name in ("min_absolute_change", "min_relative_change"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise EvaluationInputError(f"MetricThreshold.{name} must be >= 0, got {value}")


@dataclass
class ValidationOutcome:
    metric: str
    candidate: float | None
    baseline: float | None
    passed: bool
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "passed": self.passed,
            "reasons": self.reasons,
        }


@dataclass
class EvaluationResult:
    metrics: dict[str, float]
    artifacts: dict[str, str]  # name (MLflow's) -> artifact URI
    run_id: str
    model_type: str
    baseline_metrics: dict[str, float] = field(default_factory=dict)
    validation: dict[str, ValidationOutcome] = field(default_factory=dict)

    @property
    def validation_passed(self) -> bool:
        return all(outcome.passed for outcome in self.validation.values())


def _check_evaluators(evaluators: Any) -> None:
    names = [evaluators] if isinstance(evaluators, str) else list(evaluators or ["default"])
    unknown = [n for n in names if n != "default"]
    if unknown:
        raise EvaluationInputError(
            f"Unknown evaluator(s) {unknown}: flightlog has the 'default' evaluator only"
        )


def _as_labels(values: Any, n: int) -> Any:
    import numpy as np

    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != n:
        raise EvaluationInputError(
            f"the model predicted shape {array.shape} for {n} rows; expected one label per row"
        )
    return array


def _as_proba(values: Any, n: int, n_labels: int) -> Any:
    import numpy as np

    array = np.asarray(values, dtype=float)
    if array.ndim == 1 and n_labels == 2:
        array = np.column_stack([1 - array, array])
    if array.ndim != 2 or array.shape[0] != n or array.shape[1] != n_labels:
        # A model that knows other classes than the data shows: skip probability metrics,
        # as MLflow does, rather than guess the columns.
        return None
    return array


def compute(
    predictor: Any,
    X: Any,
    y: Any,
    model_type: str,
    config: dict[str, Any],
    plots_folder: str | None,
) -> tuple[dict[str, float], dict[str, str], dict[str, Any]]:
    """(metrics, {artifact name: local file}, extras) for one model."""
    from flightlog.evaluation import metrics as m
    from flightlog.evaluation import plots

    w = config.get("sample_weights")
    files: dict[str, str] = {}
    extras: dict[str, Any] = {}
    X = X.attrs.get("flightlog_array", X)
    raw_pred = predictor.predict(X)
    if model_type == "regressor":
        values = m.regressor_metrics(y, raw_pred, w)
    else:
        y_pred = _as_labels(raw_pred, len(y))
        labels, pos_label = m.label_list(y, y_pred, config.get("pos_label"))
        extras["labels"] = [_plain(label) for label in labels]
        y_proba = None
        if predictor.predict_proba is not None:
            y_proba = _as_proba(predictor.predict_proba(X), len(y), len(labels))
        if pos_label is not None:
            extras["pos_label"] = _plain(pos_label)
            values = m.binary_metrics(y, y_pred, y_proba, labels, pos_label, w)
        else:
            values = m.multiclass_metrics(y, y_pred, y_proba, labels, w)
            extras["per_class"] = m.per_class_rows(y, y_pred, y_proba, labels, w)
        if plots_folder is not None:
            files["confusion_matrix"] = plots.confusion_matrix(plots_folder, y, y_pred, labels, w)
            if y_proba is not None and (
                pos_label is not None or len(labels) <= _MAX_ROC_PR_CLASSES
            ):
                files["roc_curve_plot"] = plots.roc_curve(
                    plots_folder,
                    y,
                    y_proba,
                    labels,
                    pos_label,
                    w,
                    values.get("roc_auc") if pos_label is not None else None,
                )
                files["precision_recall_curve_plot"] = plots.precision_recall_curve(
                    plots_folder, y, y_proba, labels, pos_label, w
                )
            if y_proba is not None and pos_label is not None:
                files["lift_curve_plot"] = plots.lift_curve(
                    plots_folder, y, y_proba, labels, pos_label
                )
            if y_proba is not None:
                files["calibration_curve_plot"] = plots.calibration_curve(
                    plots_folder, y, y_proba, labels, pos_label
                )
    if predictor.sklearn_model is not None:
        # MLflow adds the estimator's own score() for scikit-learn models.
        try:
            values["score"] = float(predictor.sklearn_model.score(X, y, sample_weight=w))
        except Exception:  # noqa: BLE001 - a score() that cannot run on this data is skipped
            pass
    return values, files, extras


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def validate(
    candidate: dict[str, float],
    baseline: dict[str, float],
    thresholds: dict[str, MetricThreshold],
) -> dict[str, ValidationOutcome]:
    """Each threshold checked: absolute bar, then change against the baseline."""
    out = {}
    for name, rule in thresholds.items():
        if not isinstance(rule, MetricThreshold):
            raise EvaluationInputError(
                f"validation_thresholds[{name!r}] must be a MetricThreshold, got "
                f"{type(rule).__name__}"
            )
        value = candidate.get(name)
        base = baseline.get(name)
        reasons = []
        if value is None:
            out[name] = ValidationOutcome(name, None, base, False, [f"{name} was not computed"])
            continue
        sign = 1 if rule.greater_is_better else -1
        if rule.threshold is not None and sign * (value - rule.threshold) < 0:
            word = ">=" if rule.greater_is_better else "<="
            reasons.append(f"{name}={value:.6g} is not {word} threshold {rule.threshold}")
        if rule.min_absolute_change is not None or rule.min_relative_change is not None:
            if base is None:
                reasons.append(f"no baseline value of {name} to compare with")
            else:
                gain = sign * (value - base)
                if rule.min_absolute_change is not None and gain < rule.min_absolute_change:
                    reasons.append(
                        f"{name} improved by {gain:.6g} over the baseline, less than "
                        f"min_absolute_change {rule.min_absolute_change}"
                    )
                if rule.min_relative_change is not None:
                    relative = (
                        gain / abs(base) if base != 0 else (float("inf") if gain > 0 else 0.0)
                    )
                    if relative < rule.min_relative_change:
                        reasons.append(
                            f"{name} improved by {relative:.4%} relative to the baseline, less "
                            f"than min_relative_change {rule.min_relative_change:.4%}"
                        )
        out[name] = ValidationOutcome(name, value, base, not reasons, reasons)
    return out


def evaluate(
    model: Any = None,
    data: Any = None,
    *,
    targets: Any = None,
    model_type: str = "classifier",
    evaluators: Any = None,
    feature_names: list[str] | None = None,
    baseline_model: Any = None,
    validation_thresholds: dict[str, MetricThreshold] | None = None,
    evaluator_config: dict[str, Any] | None = None,
    run_id: str | None = None,
    plots: bool = True,
    raise_on_failure: bool = False,
) -> EvaluationResult:
    """Evaluate `model` on `data` and log MLflow Evaluate's default metrics and plots.

    `model`: a logged-model URI (`runs:/<id>/model`, `models:/name/1`), a loaded model (with
    `predict`, and `predict_proba` for probability metrics) or a callable. `targets`: a column
    of `data` or an array. Logs into `run_id`, else the active run, else a new run. With
    `baseline_model` the same metrics are computed for it (logged as `baseline_<name>`) and
    `validation_thresholds` ({metric: MetricThreshold}) are checked; outcomes are tags and
    `result.validation`; `raise_on_failure=True` raises ModelValidationFailedError.
    """
    from flightlog.evaluation.data import require, split_targets
    from flightlog.evaluation.models import resolve
    from flightlog.evaluation.recording import target_run

    require("numpy")
    require("sklearn", "sklearn")
    if model_type not in MODEL_TYPES:
        raise EvaluationInputError(f"model_type must be one of {MODEL_TYPES}, got {model_type!r}")
    _check_evaluators(evaluators)
    if (
        validation_thresholds
        and baseline_model is None
        and any(
            t.min_absolute_change is not None or t.min_relative_change is not None
            for t in validation_thresholds.values()
            if isinstance(t, MetricThreshold)
        )
    ):
        raise EvaluationInputError(
            "min_absolute_change/min_relative_change need a baseline_model to compare with"
        )
    config = dict(evaluator_config or {})
    X, y = split_targets(data, targets, feature_names)
    predictor = resolve(model)
    baseline = resolve(baseline_model) if baseline_model is not None else None

    with tempfile.TemporaryDirectory(prefix="flightlog-eval-") as tmp:
        values, files, extras = compute(predictor, X, y, model_type, config, tmp if plots else None)
        baseline_values: dict[str, float] = {}
        if baseline is not None:
            baseline_values, _, _ = compute(baseline, X, y, model_type, config, None)
        outcomes = validate(values, baseline_values, validation_thresholds or {})

        with target_run(run_id) as writer:
            logged = dict(values)
            logged.update({f"baseline_{k}": v for k, v in baseline_values.items()})
            writer.log_metrics(logged)
            artifacts: dict[str, str] = {}
            for name, path in files.items():
                writer.log_artifact(path)
                artifacts[name] = writer.artifact_uri(os.path.basename(path))
            if "per_class" in extras:
                path = os.path.join(tmp, "per_class_metrics.csv")
                _write_csv(path, extras["per_class"])
                writer.log_artifact(path)
                artifacts["per_class_metrics"] = writer.artifact_uri("per_class_metrics.csv")
            summary = {
                "model_type": model_type,
                "metrics": values,
                "baseline_metrics": baseline_values,
                "artifacts": {name: os.path.basename(p) for name, p in files.items()},
                "labels": extras.get("labels"),
                "pos_label": extras.get("pos_label"),
                "validation": {k: o.to_dict() for k, o in outcomes.items()},
            }
            if "per_class" in extras:
                summary["artifacts"]["per_class_metrics"] = "per_class_metrics.csv"
            path = os.path.join(tmp, SUMMARY_FILE)
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(summary, fh, indent=1, default=_plain)
            writer.log_artifact(path)
            tags = {EVALUATION_TAG: model_type}
            if outcomes:
                tags[VALIDATION_TAG] = (
                    "pass" if all(o.passed for o in outcomes.values()) else "fail"
                )
                for name, outcome in outcomes.items():
                    tags[f"{VALIDATION_TAG}.{name}"] = "pass" if outcome.passed else "fail"
            writer.set_tags(tags)
            result = EvaluationResult(
                values, artifacts, writer.run_id, model_type, baseline_values, outcomes
            )
    if raise_on_failure and not result.validation_passed:
        failed = [r for o in outcomes.values() for r in o.reasons]
        raise ModelValidationFailedError("Model validation failed: " + "; ".join(failed))
    return result


def _write_csv(path: str, rows: list[dict[str, Any]]) -> None:
    import csv

    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _plain(v) for k, v in row.items()})
