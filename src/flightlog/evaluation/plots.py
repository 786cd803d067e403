"""Evaluation plots as PNG files, with MLflow Evaluate's artifact names.

Drawn with matplotlib's object API on the Agg canvas (no pyplot state, so it is safe off the
main thread and leaves the user's figures alone). Curves are thinned to a few thousand points
before drawing: a 100k-row ROC curve looks the same and draws in a fraction of the time.
"""

from __future__ import annotations

import os
from typing import Any

_MAX_POINTS = 2000


def _figure(width: float = 6.0, height: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig: Any, folder: str, name: str) -> str:
    # Fixed margins instead of bbox_inches="tight" (which draws the figure twice) and light PNG
    # compression: together about half the time of a default savefig.
    path = os.path.join(folder, f"{name}.png")
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.91)
    fig.savefig(path, pil_kwargs={"compress_level": 1})
    return path


def _thin(x: Any, y: Any) -> tuple[Any, Any]:
    import numpy as np

    if len(x) <= _MAX_POINTS:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, _MAX_POINTS).astype(int))
    return np.asarray(x)[keep], np.asarray(y)[keep]


def confusion_matrix(folder: str, y: Any, y_pred: Any, labels: Any, w: Any = None) -> str:
    import numpy as np
    from sklearn import metrics as skm

    # Row-normalised, as MLflow draws it.
    matrix = skm.confusion_matrix(y, y_pred, labels=labels, normalize="true", sample_weight=w)
    fig, ax = _figure()
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, [str(label) for label in labels])
    ax.set_yticks(ticks, [str(label) for label in labels])
    if len(labels) <= 20:
        for i in range(len(labels)):
            for j in range(len(labels)):
                value = matrix[i, j]
                ax.text(
                    j,
                    i,
                    f"{value:.2g}",
                    ha="center",
                    va="center",
                    color="white" if value > 0.5 else "black",
                    fontsize=8,
                )
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title("Normalized confusion matrix")
    return _save(fig, folder, "confusion_matrix")


def _one_vs_rest(y: Any, y_proba: Any, labels: Any, pos_label: Any):
    """(name, y_true as 0/1, score) per curve: one for binary, one per class otherwise."""
    import numpy as np

    y = np.asarray(y)
    proba = np.asarray(y_proba)
    if pos_label is not None:
        index = int(np.where(np.asarray(labels) == pos_label)[0][0])
        return [(str(pos_label), (y == pos_label).astype(int), proba[:, index])]
    return [(str(label), (y == label).astype(int), proba[:, i]) for i, label in enumerate(labels)]


def roc_curve(
    folder: str,
    y: Any,
    y_proba: Any,
    labels: Any,
    pos_label: Any,
    w: Any = None,
    auc_value: float | None = None,
) -> str:
    """`auc_value`: the binary ROC AUC already computed for the metrics (not computed again)."""
    from sklearn import metrics as skm

    fig, ax = _figure()
    for name, yb, score in _one_vs_rest(y, y_proba, labels, pos_label):
        fpr, tpr, _ = skm.roc_curve(yb, score, sample_weight=w)
        auc = auc_value if auc_value is not None else skm.roc_auc_score(yb, score, sample_weight=w)
        fx, fy = _thin(fpr, tpr)
        ax.plot(fx, fy, drawstyle="steps-post", linewidth=1, label=f"label={name}, AUC={auc:.3f}")
    ax.plot([0, 1], [0, 1], color="gray", alpha=0.3, linestyle="dashed")
    ax.set_xlabel("False Positive Rate")
    ax.set_ylabel("True Positive Rate")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, folder, "roc_curve_plot")


def precision_recall_curve(
    folder: str, y: Any, y_proba: Any, labels: Any, pos_label: Any, w: Any = None
) -> str:
    import numpy as np
    from sklearn import metrics as skm

    fig, ax = _figure()
    for name, yb, score in _one_vs_rest(y, y_proba, labels, pos_label):
        precision, recall, _ = skm.precision_recall_curve(yb, score, sample_weight=w)
        # Average precision from the same curve (scikit-learn's own definition), one pass less.
        ap = -float(np.sum(np.diff(recall) * precision[:-1]))
        rx, ry = _thin(recall, precision)
        ax.plot(rx, ry, drawstyle="steps-post", linewidth=1, label=f"label={name}, AP={ap:.3f}")
    ax.plot([0, 1], [1, 0], color="gray", alpha=0.3, linestyle="dashed")
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.set_title("Precision recall curve")
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, folder, "precision_recall_curve_plot")


def lift_curve(folder: str, y: Any, y_proba: Any, labels: Any, pos_label: Any) -> str:
    """Lift (share of a class found in the top x% of scores / x) for both classes."""
    import numpy as np

    y = np.asarray(y)
    proba = np.asarray(y_proba)
    fig, ax = _figure()
    for index, label in enumerate(labels):
        hits = (y == label)[np.argsort(-proba[:, index], kind="stable")]
        total = hits.sum()
        if total == 0:
            continue
        share = np.arange(1, len(hits) + 1) / len(hits)
        lift = (np.cumsum(hits) / total) / share
        sx, sy = _thin(share, lift)
        ax.plot(sx, sy, linewidth=1.5, label=f"Class {label}")
    ax.axhline(1.0, color="gray", linestyle="dashed", linewidth=1, label="Baseline")
    ax.set_xlabel("Percentage of sample")
    ax.set_ylabel("Lift")
    ax.set_title("Lift Curve")
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, folder, "lift_curve_plot")


def calibration_curve(folder: str, y: Any, y_proba: Any, labels: Any, pos_label: Any) -> str:
    from sklearn.calibration import calibration_curve as sk_calibration

    fig, ax = _figure()
    for name, yb, score in _one_vs_rest(y, y_proba, labels, pos_label):
        if yb.min() == yb.max():
            continue
        true_share, mean_score = sk_calibration(yb, score, n_bins=10)
        ax.plot(mean_score, true_share, marker="o", linewidth=1, label=f"label={name}")
    ax.plot([0, 1], [0, 1], color="gray", linestyle="dashed", label="Perfectly calibrated")
    ax.set_xlabel("Mean predicted probability")
    ax.set_ylabel("Fraction of positives")
    ax.set_title("Calibration curve")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, folder, "calibration_curve_plot")
