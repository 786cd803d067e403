"""Parameter searches (GridSearchCV, RandomizedSearchCV, the Halving searches).

The search is the parent run: its own params, `best_<param>` params, `best_cv_score`, the search
as `model` and `best_estimator_` as `best_estimator`, and `cv_results.csv`. One child run per
candidate, for the best `max_tuning_runs` by rank (None: all), holds the seed estimator's params
with the candidate's on top and the candidate's mean/std test scores, fit and score times and
rank, tagged `mlflow.parentRunId`. Reading `cv_results_` needs no pandas.

A search is also a sweep (docs/sweeps.md): the parent is tagged `flightlog.sweep.key`
("sklearn:<run id>"), `flightlog.sweep.objective` (mean_test_score, or mean_test_<refit>) and
`flightlog.sweep.direction` (maximize: scikit-learn scores are higher-is-better); each child
carries `flightlog.trial.number` (its candidate index) and `flightlog.trial.state`: COMPLETE,
FAILED for a candidate whose fits failed (its score is NaN under error_score=nan: run FAILED),
and for the Halving searches PRUNED (run KILLED) for a candidate that was not promoted to the
next iteration. The parent gets the counts per state over every candidate, the best child's
run id, and `best_value` as a history over candidate indices (the best so far).
"""

from __future__ import annotations

import csv
import io
import math
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
    objective = objective_key(search, results)
    states = candidate_states(results, objective)
    child_of: dict[int, str] = {}
    for index in top_candidates(results, call.config.max_tuning_runs):
        trial_tags = {**tags, TRIAL_NUMBER_TAG: str(index), TRIAL_STATE_TAG: states[index]}
        if states[index] == "FAILED":
            trial_tags[TRIAL_ERROR_TYPE_TAG] = "FitFailedWarning"
            trial_tags[TRIAL_ERROR_TAG] = (
                f"every fit of candidate {index} failed or scored NaN ({objective} is NaN)"
            )
        child_id = runs.create_child_run(call.run, call.integration.name, trial_tags, start_time)
        child_ids.append(child_id)
        child_of[index] = child_id
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
        client.set_terminated(
            child_id, RUN_STATUS[states[index]], end_time=time.time_ns() // 1_000_000
        )
    log_sweep_summary(call.run_id, results, objective, states, child_of)
    return child_ids


TRIAL_NUMBER_TAG = "flightlog.trial.number"
TRIAL_STATE_TAG = "flightlog.trial.state"
TRIAL_ERROR_TYPE_TAG = "flightlog.trial.error_type"
TRIAL_ERROR_TAG = "flightlog.trial.error"
RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAILED": "FAILED"}


def objective_key(search: Any, results: dict[str, Any]) -> str:
    """The cv_results_ column the search ranks by: mean_test_score, or mean_test_<refit>."""
    refit = getattr(search, "refit", None)
    if isinstance(refit, str) and f"mean_test_{refit}" in results:
        return f"mean_test_{refit}"
    if "mean_test_score" in results:
        return "mean_test_score"
    rank = _rank_key(results)
    return f"mean_test_{rank[len('rank_test_') :]}" if rank else "mean_test_score"


def _score(results: dict[str, Any], key: str, index: int) -> float:
    values = results.get(key)
    if values is None:
        return math.nan
    try:
        return float(values[index])
    except (TypeError, ValueError):
        return math.nan  # masked


def candidate_states(results: dict[str, Any], objective: str) -> list[str]:
    """COMPLETE / FAILED (NaN score) / PRUNED (a Halving candidate not promoted further)."""
    count = len(results["params"])
    iterations = results.get("iter")
    last = max((int(i) for i in iterations), default=0) if iterations is not None else None
    promoted: set[tuple[int, str]] = set()
    if iterations is not None:
        for index in range(count):
            promoted.add((int(iterations[index]), repr(sorted(results["params"][index].items()))))
    states = []
    for index in range(count):
        if math.isnan(_score(results, objective, index)):
            states.append("FAILED")
            continue
        if iterations is not None and int(iterations[index]) < last:
            key = repr(sorted(results["params"][index].items()))
            if (int(iterations[index]) + 1, key) not in promoted:
                states.append("PRUNED")
                continue
        states.append("COMPLETE")
    return states


def log_sweep_summary(
    run_id: str,
    results: dict[str, Any],
    objective: str,
    states: list[str],
    child_of: dict[int, str],
) -> None:
    """The search run as a sweep parent: its tags, counts, best child, best_value history."""
    from flightlog.autolog import runs
    from flightlog.entities import Metric, RunTag

    counts = {state: states.count(state) for state in ("COMPLETE", "PRUNED", "FAILED")}
    tags = {
        "flightlog.sweep.key": f"sklearn:{run_id}",
        "flightlog.sweep.objective": objective,
        "flightlog.sweep.direction": "maximize",
        "flightlog.sweep.status": "finished",
        "flightlog.sweep.n_trials": str(len(states)),
        "flightlog.sweep.n_killed": "0",
    }
    tags.update({f"flightlog.sweep.n_{state.lower()}": str(n) for state, n in counts.items()})
    now = time.time_ns() // 1_000_000
    history = []
    best_index = None
    for index, state in enumerate(states):
        value = _score(results, objective, index)
        if state != "FAILED" and (
            best_index is None or value > _score(results, objective, best_index)
        ):
            best_index = index
        if best_index is not None:
            history.append(Metric("best_value", _score(results, objective, best_index), now, index))
    if best_index is not None:
        tags["flightlog.sweep.best_trial"] = str(best_index)
        tags["flightlog.sweep.best_value"] = repr(_score(results, objective, best_index))
        if best_index in child_of:
            tags["flightlog.sweep.best_run_id"] = child_of[best_index]
    client = runs.client()
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    for start in range(0, len(history), 1000):
        client.log_batch(run_id, metrics=history[start : start + 1000])


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
