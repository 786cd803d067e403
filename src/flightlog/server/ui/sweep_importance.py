"""Per-parameter importance for a sweep's run page.

With Optuna installed and the trials' distributions known (the Optuna integration tags them),
the trials are loaded into an in-memory Optuna study and Optuna's own evaluator answers
(`optuna.importance.get_param_importances`, fANOVA by default). Otherwise, a simple estimate:
for each parameter, the absolute Spearman rank correlation between its value and the objective
over COMPLETE trials (a categorical parameter is first replaced by the mean objective of its
category, so any consistent effect counts), normalised so the scores sum to 1. It sees
monotone, one-parameter-at-a-time effects only; it is a guide, not an analysis.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

DISTRIBUTION_TAG = "flightlog.optuna.distribution."


def importance(trials: Sequence[dict[str, Any]], direction: str | None) -> dict[str, Any]:
    """{"method": "optuna-fanova" | "spearman", "scores": {param: share}} over COMPLETE trials."""
    done = [t for t in trials if t["state"] == "COMPLETE" and _finite(t.get("value"))]
    if len(done) < 3:
        return {"method": None, "scores": {}, "note": "needs at least 3 complete trials"}
    found = _optuna(done, direction)
    if found is not None:
        return found
    return {"method": "spearman", "scores": _spearman(done)}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _optuna(done: Sequence[dict[str, Any]], direction: str | None) -> dict[str, Any] | None:
    if not all(t.get("distributions") for t in done):
        return None
    try:
        import optuna
        from optuna.distributions import json_to_distribution
        from optuna.trial import TrialState, create_trial
    except ImportError:
        return None
    try:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(direction=direction or "minimize")
        for t in done:
            dists = {k: json_to_distribution(v) for k, v in t["distributions"].items()}
            params = {k: _typed(t["params"].get(k), d) for k, d in dists.items()}
            study.add_trial(
                create_trial(
                    params=params, distributions=dists, value=t["value"], state=TrialState.COMPLETE
                )
            )
        scores = optuna.importance.get_param_importances(study)
        return {"method": "optuna-fanova", "scores": {k: float(v) for k, v in scores.items()}}
    except Exception:  # noqa: BLE001 - any trouble: the simple estimate still answers
        return None


def _typed(text: Any, dist: Any) -> Any:
    """A param logged as text, back in its distribution's type."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        for choice in dist.choices:
            if str(choice) == text:
                return choice
        return dist.choices[0]
    if isinstance(dist, IntDistribution):
        return int(float(text))
    return float(text)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0  # ties share their mean rank
        i = j + 1
    return ranks


def _correlation(xs: Sequence[float], ys: Sequence[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return 0.0
    return sxy / math.sqrt(sxx * syy)


def _spearman(done: Sequence[dict[str, Any]]) -> dict[str, float]:
    names = sorted({k for t in done for k in t["params"]})
    values = [float(t["value"]) for t in done]
    value_ranks = _ranks(values)
    raw: dict[str, float] = {}
    for name in names:
        column = [t["params"].get(name) for t in done]
        numeric = []
        for item in column:
            try:
                numeric.append(float(item))
            except (TypeError, ValueError):
                numeric = None
                break
        if numeric is None:  # categorical: each category stands for its mean objective
            groups: dict[Any, list[float]] = defaultdict(list)
            for item, v in zip(column, values, strict=True):
                groups[item].append(v)
            means = {k: sum(v) / len(v) for k, v in groups.items()}
            numeric = [means[item] for item in column]
        raw[name] = abs(_correlation(_ranks(numeric), value_ranks))
    total = sum(raw.values())
    return {k: (v / total if total else 0.0) for k, v in sorted(raw.items(), key=lambda kv: -kv[1])}


def distributions_of(tags: dict[str, str]) -> dict[str, str]:
    return {
        k[len(DISTRIBUTION_TAG) :]: v
        for k, v in tags.items()
        if k.startswith(DISTRIBUTION_TAG) and _is_json(v)
    }


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
