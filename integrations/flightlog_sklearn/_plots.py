"""Classifier plots as run artifacts: training_confusion_matrix.png, and for binary problems
training_roc_curve.png and training_precision_recall_curve.png.

The arrays are computed during `fit` (cheap); drawing happens on autolog's background thread
with matplotlib's object API and the Agg canvas (pyplot is never imported, so the user's
pyplot state and backend are untouched), so `fit` does not wait for matplotlib.
"""

from __future__ import annotations

from typing import Any

from flightlog_sklearn._metrics import PlotData


def render_later(client: Any, run_id: str, data: PlotData) -> None:
    from flightlog.autolog import background

    background.submit("sklearn", "drawing the training plots", _render_all, client, run_id, data)


def _render_all(client: Any, run_id: str, data: PlotData) -> None:
    client.log_figure(run_id, confusion_matrix_figure(data), "training_confusion_matrix.png")
    if data.roc is not None:
        client.log_figure(run_id, roc_figure(data), "training_roc_curve.png")
    if data.pr is not None:
        client.log_figure(
            run_id, precision_recall_figure(data), "training_precision_recall_curve.png"
        )


def _figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def confusion_matrix_figure(data: PlotData):
    n = len(data.labels)
    side = max(4.0, min(12.0, 1.0 + 0.6 * n))
    figure = _figure((side, side))
    ax = figure.add_subplot()
    matrix = data.confusion
    image = ax.imshow(matrix, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = list(range(n))
    ax.set_xticks(ticks, data.labels, rotation=45 if n > 4 else 0)
    ax.set_yticks(ticks, data.labels)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title("Training confusion matrix")
    if n <= 20:
        threshold = matrix.max() / 2.0 if matrix.size else 0
        for i in range(n):
            for j in range(n):
                value = matrix[i, j]
                text = f"{value:g}" if float(value) != int(value) else f"{int(value)}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    color="white" if value > threshold else "black",
                )
    return figure


def roc_figure(data: PlotData):
    fpr, tpr, area = data.roc  # type: ignore[misc]
    figure = _figure((5, 5))
    ax = figure.add_subplot()
    ax.plot(fpr, tpr, label=f"AUC = {area:.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    ax.set_xlabel(f"False positive rate (positive label: {data.labels[1]})")
    ax.set_ylabel("True positive rate")
    ax.set_title("Training ROC curve")
    ax.legend(loc="lower right")
    return figure


def precision_recall_figure(data: PlotData):
    precision, recall, average_precision = data.pr  # type: ignore[misc]
    figure = _figure((5, 5))
    ax = figure.add_subplot()
    ax.step(recall, precision, where="post", label=f"AP = {average_precision:.3f}")
    ax.set_xlabel(f"Recall (positive label: {data.labels[1]})")
    ax.set_ylabel("Precision")
    ax.set_ylim(0.0, 1.05)
    ax.set_title("Training precision-recall curve")
    ax.legend(loc="lower left")
    return figure
