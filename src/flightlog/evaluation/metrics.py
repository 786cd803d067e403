"""The default metric sets, with MLflow Evaluate's names, computed with scikit-learn.

Label handling follows MLflow's default evaluator: the labels are the sorted union of targets
and predictions; two labels make a binary problem whose positive class is the larger one (or
`pos_label`), and probability columns are in sorted-label order.
"""

from __future__ import annotations

from typing import Any

from flightlog.evaluation.errors import EvaluationInputError


def _float(value: Any) -> float:
    return float(value)


def regressor_metrics(y: Any, y_pred: Any, sample_weight: Any = None) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float).reshape(len(y), -1)
    if y_pred.shape[1] != 1:
        raise EvaluationInputError(
            f"a regressor must predict one value per row, got {y_pred.shape[1]} columns"
        )
    y_pred = y_pred[:, 0]
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    total = float((y * w).sum()) if w is not None else float(y.sum())
    mse = skm.mean_squared_error(y, y_pred, sample_weight=w)
    rmse_fn = getattr(skm, "root_mean_squared_error", None)
    rmse = rmse_fn(y, y_pred, sample_weight=w) if rmse_fn else float(np.sqrt(mse))
    return {
        "example_count": _float(len(y)),
        "mean_absolute_error": _float(skm.mean_absolute_error(y, y_pred, sample_weight=w)),
        "mean_squared_error": _float(mse),
        "root_mean_squared_error": _float(rmse),
        "sum_on_target": total,
        "mean_on_target": total / len(y),
        "r2_score": _float(skm.r2_score(y, y_pred, sample_weight=w)),
        "max_error": _float(skm.max_error(y, y_pred)),
        "mean_absolute_percentage_error": _float(
            skm.mean_absolute_percentage_error(y, y_pred, sample_weight=w)
        ),
    }


def label_list(y: Any, y_pred: Any, pos_label: Any = None) -> tuple[Any, Any]:
    """(sorted labels, positive label or None for multiclass)."""
    import numpy as np

    labels = np.unique(np.concatenate([np.asarray(y), np.asarray(y_pred)]))
    if len(labels) < 2:
        raise EvaluationInputError(
            "classification needs at least two distinct labels in targets and predictions, "
            f"found {labels.tolist()}"
        )
    if len(labels) == 2:
        if pos_label is None:
            pos_label = labels[-1]
        elif pos_label not in labels:
            raise EvaluationInputError(f"pos_label {pos_label!r} is not one of {labels.tolist()}")
        return labels, pos_label
    return labels, None


def binary_metrics(
    y: Any, y_pred: Any, y_proba: Any, labels: Any, pos_label: Any, sample_weight: Any = None
) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics as skm

    # Negative first, positive last: confusion_matrix(...).ravel() is then tn, fp, fn, tp.
    ordered = [label for label in labels if label != pos_label] + [pos_label]
    tn, fp, fn, tp = skm.confusion_matrix(y, y_pred, labels=ordered).ravel()
    out = {
        "true_negatives": _float(tn),
        "false_positives": _float(fp),
        "false_negatives": _float(fn),
        "true_positives": _float(tp),
        **_common(y, y_pred, y_proba, ordered, "binary", pos_label, sample_weight),
    }
    if y_proba is not None:
        pos_index = int(np.where(np.asarray(labels) == pos_label)[0][0])
        score = np.asarray(y_proba)[:, pos_index]
        out["roc_auc"] = _float(
            skm.roc_auc_score(np.asarray(y) == pos_label, score, sample_weight=sample_weight)
        )
        out["precision_recall_auc"] = _float(
            skm.average_precision_score(y, score, pos_label=pos_label, sample_weight=sample_weight)
        )
    return out


def multiclass_metrics(
    y: Any, y_pred: Any, y_proba: Any, labels: Any, sample_weight: Any = None
) -> dict[str, float]:
    from sklearn import metrics as skm

    out = _common(y, y_pred, y_proba, labels, "weighted", None, sample_weight)
    # The (and MLflow 1.x's) names for the other two averages.
    out["f1_score_micro"] = _float(
        skm.f1_score(y, y_pred, average="micro", sample_weight=sample_weight)
    )
    out["f1_score_macro"] = _float(
        skm.f1_score(y, y_pred, average="macro", sample_weight=sample_weight)
    )
    if y_proba is not None:
        out["roc_auc"] = _float(
            skm.roc_auc_score(
                y, y_proba, sample_weight=sample_weight, average="weighted", multi_class="ovr"
            )
        )
    return out


def _common(
    y: Any, y_pred: Any, y_proba: Any, labels: Any, average: str, pos_label: Any, w: Any
) -> dict[str, float]:
    from sklearn import metrics as skm

    kw = {"average": average, "sample_weight": w}
    if average == "binary":
        kw["pos_label"] = pos_label
    out = {
        "example_count": _float(len(y)),
        "accuracy_score": _float(skm.accuracy_score(y, y_pred, sample_weight=w)),
        "recall_score": _float(skm.recall_score(y, y_pred, zero_division=0, **kw)),
        "precision_score": _float(skm.precision_score(y, y_pred, zero_division=0, **kw)),
        "f1_score": _float(skm.f1_score(y, y_pred, zero_division=0, **kw)),
    }
    if y_proba is not None:
        import numpy as np

        out["log_loss"] = _float(
            skm.log_loss(y, y_proba, labels=np.sort(np.asarray(labels)), sample_weight=w)
        )
    return out


def per_class_rows(y: Any, y_pred: Any, y_proba: Any, labels: Any, w: Any = None) -> list[dict]:
    """One row per class, that class against the rest (MLflow's per_class_metrics.csv)."""
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y)
    y_pred = np.asarray(y_pred)
    rows = []
    for index, label in enumerate(labels):
        yb = (y == label).astype(int)
        pb = (y_pred == label).astype(int)
        row: dict[str, Any] = {"positive_class": label}
        row.update(binary_metrics(yb, pb, None, np.array([0, 1]), 1, w))
        for key in ("true_negatives", "false_positives", "false_negatives", "true_positives"):
            row[key] = int(row[key])
        row["example_count"] = int(row["example_count"])
        if y_proba is not None:
            score = np.asarray(y_proba)[:, index]
            row["roc_auc"] = _float(skm.roc_auc_score(yb, score, sample_weight=w))
            row["precision_recall_auc"] = _float(
                skm.average_precision_score(yb, score, pos_label=1, sample_weight=w)
            )
        rows.append(row)
    return rows
