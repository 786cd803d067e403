"""Post-training metrics: evaluation done after `fit`, logged to the model's run.

After an autologged fit, the model is registered with its run. Its predictions
(`predict`, `predict_proba`, `predict_log_proba`, `decision_function`) are remembered with the
name of the variable holding the data they were made on (read from the caller's frame, e.g.
`X_test`). A `sklearn.metrics` function given one of those predictions, or the model's own
`score(X, y)`, then logs `<metric>_<dataset>` to that run (`accuracy_score_X_test`,
`LogisticRegression_score_X_test`); the same metric on the same data again becomes
`accuracy_score-2_X_test`, and a different object under an already used name `X_test-2`.

The run has usually ended by then (autolog ends its run when `fit` returns, as MLflow does);
these metrics go through the logging queue directly (flightlog.autolog.runs.log_to_run), which
TrackingClient's check for terminated runs does not apply to.

Limitation (MLflow's too): a metric function imported with `from sklearn.metrics import ...`
*before* autolog was enabled is the unpatched function; `sklearn.metrics.<name>(...)`, an
import made after enabling, and `model.score(...)` are always seen.
"""

from __future__ import annotations

import numbers
import os
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any

from flightlog.autolog.calls import ObserverHandler

if TYPE_CHECKING:
    from flightlog_sklearn._integration import SklearnIntegration

UNKNOWN_DATASET = "unknown_dataset"
_MAX_PREDICTIONS = 10_000
# Predicting sample by sample in a loop must not turn into thousands of names and inputs.
_MAX_NAMES_PER_VARIABLE = 100
_MAX_EVAL_DATASETS_PER_RUN = 20


class _Target:
    """Where a model's (or a prediction's) metrics go."""

    __slots__ = ("dataset", "ref", "run_id", "tracking_uri")

    def __init__(self, ref: weakref.ref, run_id: str, tracking_uri: str, dataset: str | None):
        self.ref = ref
        self.run_id = run_id
        self.tracking_uri = tracking_uri
        self.dataset = dataset


class PostTrainingMetrics:
    def __init__(self, integration: SklearnIntegration):
        self.integration = integration
        self._lock = threading.Lock()
        self._models: dict[int, _Target] = {}
        self._predictions: dict[int, _Target] = {}
        self._metric_counts: dict[tuple[str, str, str], int] = {}
        self._dataset_ids: dict[tuple[str, str], list[int]] = {}
        self._eval_datasets: set[tuple[str, str]] = set()

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
            self._predictions.clear()
            self._metric_counts.clear()
            self._dataset_ids.clear()
            self._eval_datasets.clear()

    # --- registries (keyed by id, checked by weak reference: estimators need not be hashable) --
    def register_model(self, estimator: Any, run_id: str) -> None:
        from flightlog.autolog.runs import current_tracking_uri

        self._remember(self._models, estimator, run_id, current_tracking_uri(), None)

    def model_target(self, estimator: Any) -> _Target | None:
        return self._lookup(self._models, estimator)

    def register_prediction(self, result: Any, target: _Target, dataset: str) -> None:
        self._remember(self._predictions, result, target.run_id, target.tracking_uri, dataset)

    def prediction_target(self, value: Any) -> _Target | None:
        return self._lookup(self._predictions, value)

    def has_predictions(self) -> bool:
        return bool(self._predictions)

    def _remember(self, table, obj, run_id, tracking_uri, dataset) -> None:
        key = id(obj)

        def forget(ref, key=key, table=table):
            with self._lock:
                entry = table.get(key)
                if entry is not None and entry.ref is ref:
                    del table[key]

        try:
            ref = weakref.ref(obj, forget)
        except TypeError:
            return  # not weak-referenceable (a list): cannot be tracked safely
        with self._lock:
            if table is self._predictions and len(table) >= _MAX_PREDICTIONS:
                table.pop(next(iter(table)))
            table[key] = _Target(ref, run_id, tracking_uri, dataset)

    @staticmethod
    def _lookup(table, obj) -> _Target | None:
        entry = table.get(id(obj))
        if entry is None or entry.ref() is not obj:
            return None
        return entry

    # --- names -----------------------------------------------------------------------------
    def dataset_name(self, run_id: str, data: Any) -> str:
        """The caller's variable name for `data`; `<name>-2` when that name was already used
        for a different object in this run."""
        name = _variable_name(data) or UNKNOWN_DATASET
        with self._lock:
            seen = self._dataset_ids.setdefault((run_id, name), [])
            if id(data) not in seen:
                if len(seen) >= _MAX_NAMES_PER_VARIABLE:
                    return f"{name}-{_MAX_NAMES_PER_VARIABLE + 1}"
                seen.append(id(data))
            index = seen.index(id(data))
        return name if index == 0 else f"{name}-{index + 1}"

    def metric_key(self, run_id: str, metric: str, dataset: str) -> str:
        with self._lock:
            count = self._metric_counts.get((run_id, metric, dataset), 0) + 1
            self._metric_counts[(run_id, metric, dataset)] = count
        return f"{metric}_{dataset}" if count == 1 else f"{metric}-{count}_{dataset}"

    # --- logging ---------------------------------------------------------------------------
    def log_metric(self, target: _Target, metric: str, dataset: str, value: Any) -> None:
        from flightlog.autolog.runs import log_to_run

        if not _is_number(value):
            return  # a report or a curve, not a scalar metric
        key = self.metric_key(target.run_id, metric, dataset)
        log_to_run(target.run_id, {key: float(value)}, tracking_uri=target.tracking_uri)

    def log_eval_dataset(self, target: _Target, data: Any, dataset: str) -> None:
        """Record the evaluation data as a run input (context "eval"), once per run and data."""
        from flightlog.autolog import datasets
        from flightlog.autolog.runs import _client_for

        with self._lock:
            logged = sum(1 for run_id, _ in self._eval_datasets if run_id == target.run_id)
        if logged >= _MAX_EVAL_DATASETS_PER_RUN:
            return
        entry = datasets.dataset_input(data, None, name=dataset, context="eval")
        if entry is None:
            return
        key = (target.run_id, entry.dataset.digest)
        with self._lock:
            if key in self._eval_datasets:
                return
            self._eval_datasets.add(key)
        client = _client_for(target.tracking_uri)
        # The store, not the client: the client refuses writes to a run that has ended.
        client._store.log_inputs(target.run_id, [entry])


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return True
    return (
        getattr(value, "ndim", None) == 0
        and getattr(getattr(value, "dtype", None), "kind", "") in "iuf"
    )


def _first_argument(args: tuple, kwargs: dict, names: tuple[str, ...] = ("X",)) -> Any:
    if args:
        return args[0]
    for name in names:
        if name in kwargs:
            return kwargs[name]
    return None


# --- observers -------------------------------------------------------------------------------
class PredictionObserver(ObserverHandler):
    """predict & co. on a registered model: remember the result and the data's name."""

    def __init__(self, registry: PostTrainingMetrics):
        self.registry = registry

    def before(self, config, function, instance, args, kwargs):
        if instance is None or not config.log_post_training_metrics:
            return None
        target = self.registry.model_target(instance)
        if target is None:
            return None
        data = _first_argument(args, kwargs)
        return (config, target, data, self.registry.dataset_name(target.run_id, data))

    def after(self, token, result):
        config, target, data, dataset = token
        self.registry.register_prediction(result, target, dataset)
        if config.log_datasets and data is not None:
            self.registry.log_eval_dataset(target, data, dataset)


class MetricObserver(ObserverHandler):
    """A sklearn.metrics function given a remembered prediction: log its value."""

    def __init__(self, registry: PostTrainingMetrics):
        self.registry = registry

    def before(self, config, function, instance, args, kwargs):
        if not config.log_post_training_metrics or not self.registry.has_predictions():
            return None
        for value in (*args, *kwargs.values()):
            target = self.registry.prediction_target(value)
            if target is not None:
                return (target, getattr(function, "__name__", "metric"))
        return None

    def after(self, token, result):
        target, metric = token
        self.registry.log_metric(target, metric, target.dataset or UNKNOWN_DATASET, result)


class ScoreObserver(ObserverHandler):
    """`model.score(X, y)` on a registered model: log `<Class>_score_<dataset>`."""

    def __init__(self, registry: PostTrainingMetrics):
        self.registry = registry

    def before(self, config, function, instance, args, kwargs):
        if instance is None or not config.log_post_training_metrics:
            return None
        target = self.registry.model_target(instance)
        if target is None:
            return None
        data = _first_argument(args, kwargs)
        dataset = self.registry.dataset_name(target.run_id, data)
        return (target, f"{type(instance).__name__}_score", dataset)

    def after(self, token, result):
        target, metric, dataset = token
        self.registry.log_metric(target, metric, dataset, result)


# --- reading the caller's variable name --------------------------------------------------------
def _own_dirs() -> tuple[str, ...]:
    import wrapt

    import flightlog

    here = os.path.dirname(__file__)
    return (
        os.path.dirname(flightlog.__file__) + os.sep,
        here + os.sep,
        os.path.dirname(wrapt.__file__) + os.sep,
    )


_OWN_DIRS: tuple[str, ...] | None = None


def _variable_name(value: Any) -> str | None:
    """The name the first frame outside flightlog gives `value` (its locals, then globals)."""
    global _OWN_DIRS
    if value is None:
        return None
    if _OWN_DIRS is None:
        _OWN_DIRS = _own_dirs()
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_DIRS):
        frame = frame.f_back
    if frame is None:
        return None
    for scope in (frame.f_locals, frame.f_globals):
        for name, candidate in scope.items():
            if candidate is value and not name.startswith("__"):
                return name
    return None
