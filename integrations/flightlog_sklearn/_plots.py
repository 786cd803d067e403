"""Classifier plots as run artifacts: training_confusion_matrix.png, and for binary problems
training_roc_curve.png and training_precision_recall_curve.png.

During `fit` only private copies of the labels, predictions and scores are taken (cheap); the
curves are computed and drawn on autolog's background thread, with matplotlib's object API and
the Agg canvas (pyplot is never imported, so the user's pyplot state and backend are
untouched), so `fit` does not wait for matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flightlog_sklearn._metrics import PlotInputs


@dataclass
class PlotData:
    """The curves the plots show."""

    labels: list[str]
    confusion: Any
    roc: tuple[Any, Any, float] | None = None  # fpr, tpr, auc
    pr: tuple[Any, Any, float] | None = None  # precision, recall, average precision


def render_later(client: Any, run_id: str, inputs: PlotInputs) -> None:
    from flightlog.autolog import background

    background.submit("sklearn", "drawing the training plots", _render_all, client, run_id, inputs)


def _render_all(client: Any, run_id: str, inputs: PlotInputs) -> None:
    data = plot_data(inputs)
    if data is None:
        return
    client.log_figure(run_id, confusion_matrix_figure(data), "training_confusion_matrix.png")
    if data.roc is not None:
        client.log_figure(run_id, roc_figure(data), "training_roc_curve.png")
    if data.pr is not None:
        client.log_figure(
            run_id, precision_recall_figure(data), "training_precision_recall_curve.png"
        )


def plot_data(inputs: PlotInputs) -> PlotData | None:
    """The confusion matrix, and for binary problems the ROC and precision-recall curves; None
    when the labels do not allow a confusion matrix (scikit-learn refuses them)."""
    import warnings

    from sklearn import metrics

    y, sw, classes = inputs.y_true, inputs.sample_weight, inputs.classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            confusion = metrics.confusion_matrix(y, inputs.y_pred, labels=classes, sample_weight=sw)
        except (ValueError, TypeError):
            return None
        data = PlotData([str(c) for c in classes], confusion)
        if inputs.scores is None:
            return data
        positive = classes[1]
        try:
            fpr, tpr, _ = metrics.roc_curve(y, inputs.scores, pos_label=positive, sample_weight=sw)
            data.roc = (fpr, tpr, float(metrics.auc(fpr, tpr)))
            precision, recall, _ = metrics.precision_recall_curve(
                y, inputs.scores, pos_label=positive, sample_weight=sw
            )
            average_precision = metrics.average_precision_score(
                y, inputs.scores, pos_label=positive, sample_weight=sw
            )
            data.pr = (precision, recall, float(average_precision))
        except (ValueError, TypeError):
            pass
    return data


def _figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Fixed margins instead of a layout engine: a third cheaper to draw, and these plots have
    # no long labels to fit.
    figure = Figure(figsize=size, dpi=100)
    figure.subplots_adjust(left=0.16, right=0.95, bottom=0.13, top=0.92)
    FigureCanvasAgg(figure)
    return figure


def confusion_matrix_figure(data: PlotData):
    n = len(data.labels)
    side = max(4.5, min(12.0, 1.5 + 0.6 * n))
    figure = _figure((side, side))
    # Room for the class names (about 0.08 inch per character at this font size).
    longest = max((len(label) for label in data.labels), default=1)
    rotate = n > 4 or longest * n > 40
    name_room = min(0.4, (0.35 + 0.08 * longest) / side)
    figure.subplots_adjust(
        left=0.08 + name_room,
        right=0.86,
        bottom=0.1 + (name_room if rotate else 0.02),
        top=0.92,
    )
    ax = figure.add_subplot()
    matrix = data.confusion
    image = ax.imshow(matrix, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = list(range(n))
    ax.set_xticks(
        ticks, data.labels, rotation=45 if rotate else 0, ha="right" if rotate else "center"
    )
    ax.set_yticks(ticks, data.labels)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title("Training confusion matrix")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                value = matrix[i, j]
                text = f"{value:g}" if float(value) != int(value) else f"{int(value)}"
                dark = image.norm(value) > 0.5  # white text on the dark cells
                ax.text(j, i, text, ha="center", va="center", color="white" if dark else "black")
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
