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
    # Room for the longest feature name; tight_layout() would measure every text (slow).
    longest = max((len(name) for name in names), default=1)
    fig.subplots_adjust(left=min(0.6, 0.06 + 0.011 * longest), right=0.96)
    return fig


def importance_by_type(booster: Any, importance_types: tuple[str, ...]) -> dict[str, dict]:
    """{type: {feature: score}} for each type the booster supports and has scores for.

    Cheap, and done while the caller still holds the booster: the user may train it further
    (or free it) the moment training returns, so only these plain dicts go on to be rendered.
    """
    out: dict[str, dict] = {}
    for importance_type in importance_types:
        try:
            scores = importance_scores(booster, importance_type)
        except ValueError:  # gblinear only knows "weight"; XGBoostError is a ValueError
            continue
        if scores:  # a booster with no splits (0 rounds, constant target) has nothing to show
            out[importance_type] = scores
    return out


def log_importance_artifacts(client: Any, run_id: str, scores_by_type: dict[str, dict]) -> None:
    """feature_importance_<type>.json and feature_importance_<type>.png for each type (the
    charts only where matplotlib is installed: it is optional, the JSON carries the data)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        charts = False
    else:
        charts = True
    for importance_type, scores in scores_by_type.items():
        stem = f"feature_importance_{importance_type}"
        client.log_dict(run_id, scores, f"{stem}.json")
        if charts:
            client.log_figure(run_id, importance_figure(scores, importance_type), f"{stem}.png")
