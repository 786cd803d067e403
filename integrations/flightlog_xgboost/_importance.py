"""Feature importance of a trained booster, as JSON and as a horizontal bar chart per type."""

from __future__ import annotations

from typing import Any

IMPORTANCE_TYPES = ("weight", "gain", "cover", "total_gain", "total_cover")


def importance_scores(booster: Any, importance_type: str) -> dict[str, Any]:
    """{feature: score}; a multi-class linear booster gives a list of scores per feature."""
    return booster.get_score(importance_type=importance_type)


def importance_figure(scores: dict[str, Any], importance_type: str) -> Any:
    """A bar chart, most important feature on top; one bar per class when scores are lists."""
    # Figure() rather than pyplot: it renders with Agg whatever backend the user picked, needs
    # no display, and leaves pyplot's global figure registry alone.
    from matplotlib.figure import Figure

    def magnitude(value: Any) -> float:
        return sum(abs(v) for v in value) if isinstance(value, list) else abs(value)

    ordered = sorted(scores.items(), key=lambda kv: magnitude(kv[1]))
    names = [name for name, _ in ordered]
    rows = [v if isinstance(v, list) else [v] for _, v in ordered]
    n_classes = max((len(r) for r in rows), default=1)

    height = 4.8 + (0.15 * len(names) if len(names) > 12 else 0)
    fig = Figure(figsize=(6.4, height))
    ax = fig.subplots()
    bar_height = 0.8 / n_classes
    for cls in range(n_classes):
        offsets = [i - 0.4 + bar_height * (cls + 0.5) for i in range(len(names))]
        values = [r[cls] if cls < len(r) else 0.0 for r in rows]
        ax.barh(offsets, values, height=bar_height, label=f"class {cls}" if n_classes > 1 else None)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.set_xlabel(importance_type)
    ax.set_title(f"Feature importance ({importance_type})")
    if n_classes > 1:
        ax.legend()
    fig.tight_layout()
    return fig


def log_feature_importance(
    booster: Any, run_id: str, importance_types: tuple[str, ...] = IMPORTANCE_TYPES
) -> list[str]:
    """Log feature_importance_<type>.json and .png for each type; returns the files logged."""
    from flightlog import fluent

    client = fluent._client()
    logged: list[str] = []
    for importance_type in importance_types:
        try:
            scores = importance_scores(booster, importance_type)
        except ValueError:  # gblinear only knows "weight"; XGBoostError is a ValueError
            continue
        if not scores:  # a booster with no splits (e.g. 0 rounds) has nothing to show
            continue
        client.log_dict(run_id, scores, f"feature_importance_{importance_type}.json")
        client.log_figure(
            run_id, importance_figure(scores, importance_type), f"feature_importance_{importance_type}.png"
        )
        logged += [
            f"feature_importance_{importance_type}.json",
            f"feature_importance_{importance_type}.png",
        ]
    return logged
