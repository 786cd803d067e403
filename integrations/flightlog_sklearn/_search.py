"""Parameter searches (GridSearchCV, RandomizedSearchCV, the Halving searches).

The search is the parent run: its own params, `best_<param>` params, `best_cv_score`, the search
as `model` and `best_estimator_` as `best_estimator`, and `cv_results.csv`. One child run per
candidate, for the best `max_tuning_runs` by rank (None: all), holds the seed estimator's params
with the candidate's on top and the candidate's mean/std test scores, fit and score times and
rank, tagged `mlflow.parentRunId`. Reading `cv_results_` needs no pandas.
"""

from __future__ import annotations

import csv
import io
import numbers
import time
from typing import Any

from flightlog.autolog.calls import AutologCall


def is_search(estimator: Any) -> bool:
    try:
        from sklearn.model_selection._search import BaseSearchCV
    except ImportError:  # pragma: no cover - every supported scikit-learn has it
        return False
    return isinstance(estimator, BaseSearchCV)


def best_results(search: Any) -> tuple[dict[str, Any], dict[str, float]]:
    params = {f"best_{k}": v for k, v in (getattr(search, "best_params_", None) or {}).items()}
    metrics = {}
    score = getattr(search, "best_score_", None)
    if isinstance(score, numbers.Real) and not isinstance(score, bool):
        metrics["best_cv_score"] = float(score)
    return params, metrics


def _rank_key(results: dict[str, Any]) -> str | None:
    if "rank_test_score" in results:
        return "rank_test_score"
    return next((k for k in results if k.startswith("rank_test_")), None)


def top_candidates(results: dict[str, Any], limit: int | None) -> list[int]:
    """Indices of the best `limit` candidates (all when None), best first, stable on ties."""
    count = len(results["params"])
    key = _rank_key(results)
    order = list(range(count))
    if key is not None:
        ranks = results[key]
        order.sort(key=lambda i: ranks[i])
    return order if limit is None else order[:limit]


def log_child_runs(call: AutologCall, search: Any, dataset: Any) -> list[str]:
    from flightlog.autolog import runs
    from flightlog_sklearn._training import estimator_tags

    results = getattr(search, "cv_results_", None)
    if not results or "params" not in results:
        return []
    seed = search.estimator
    base_params = seed.get_params(deep=not is_search(seed))
    tags = estimator_tags(seed)
    client = runs.client()
    start_time = call.run.start_time
    child_ids = []
    for index in top_candidates(results, call.config.max_tuning_runs):
        child_id = runs.create_child_run(call.run, call.integration.name, tags, start_time)
        child_ids.append(child_id)
        metrics = {
            key: values[index]
            for key, values in results.items()
            if not key.startswith(("param", "split"))
            and isinstance(values[index], numbers.Number)
            and not isinstance(values[index], bool)
        }
        call.log(
            params={**base_params, **results["params"][index]},
            metrics={k: float(v) for k, v in metrics.items()},
            run_id=child_id,
        )
        if dataset is not None:
            client.log_inputs(child_id, [dataset])
        client.set_terminated(child_id, end_time=time.time_ns() // 1_000_000)
    return child_ids


def log_cv_results(run_id: str, search: Any) -> None:
    from flightlog.autolog import runs

    results = getattr(search, "cv_results_", None)
    if not results:
        return
    runs.client().log_text(run_id, cv_results_csv(results), "cv_results.csv")


def cv_results_csv(results: dict[str, Any]) -> str:
    """`cv_results_` as CSV, one row per candidate; masked (not applicable) cells are empty."""
    columns = list(results)
    count = len(results["params"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for index in range(count):
        writer.writerow([_cell(results[column], index) for column in columns])
    return out.getvalue()


def _cell(values: Any, index: int) -> Any:
    mask = getattr(values, "mask", None)
    if mask is not None and getattr(mask, "ndim", 0) and bool(mask[index]):
        return ""
    value = values[index]
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    return value
