"""The scikit-learn integration object: what gets patched, and when.

Estimator classes are patched where their methods are defined (the class itself or a mixin such
as TransformerMixin), so an inherited `fit` is wrapped once. Classes that exist when autolog is
enabled are found by walking `BaseEstimator.__subclasses__()` (no need to import all of
scikit-learn, as `all_estimators()` would); classes defined later (scikit-learn modules imported
later, the user's own estimators) are patched as they are created, by an `__init_subclass__`
that autolog adds to BaseEstimator and removes on revert.

Patched, per module (each when it is imported):
- sklearn: `fit`, `fit_transform`, `fit_predict` (training), `predict`, `predict_proba`,
  `predict_log_proba`, `decision_function`, `score` (post-training metrics) of every estimator;
- sklearn.metrics: the metric functions (post-training metrics);
- sklearn.model_selection: cross_validate & co. run without autologging (MLflow's rule: they fit
  many clones);
- sklearn.utils.parallel: joblib worker threads inherit the caller's nesting, so a model fitted
  on a worker thread inside a logged call is not logged again.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from flightlog.autolog import reporting, session
from flightlog.autolog.calls import observer_wrapper, quiet_wrapper, training_wrapper
from flightlog.autolog.integration import AutologIntegration
from flightlog.autolog.patching import Patcher
from flightlog.exceptions import AutologConfigError
from flightlog_sklearn._post_training import (
    MetricObserver,
    PostTrainingMetrics,
    PredictionObserver,
    ScoreObserver,
)
from flightlog_sklearn._training import FitHandler

TRAINING_METHODS = ("fit", "fit_transform", "fit_predict")
PREDICTION_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")
SCORE_METHOD = "score"

# sklearn.model_selection helpers that fit clones over and over: nothing inside is logged.
QUIET_FUNCTIONS = (
    "cross_validate",
    "cross_val_predict",
    "cross_val_score",
    "learning_curve",
    "permutation_test_score",
    "validation_curve",
)

QUIET_HELPERS = ("_fit_and_score", "_fit_and_predict", "_permutation_test_score")

# sklearn.metrics exports that are not metrics of a prediction.
_NOT_METRICS = frozenset({"check_scoring", "get_scorer", "get_scorer_names", "make_scorer"})

SERIALIZATION_FORMATS = ("cloudpickle", "pickle", "skops")


class SklearnIntegration(AutologIntegration):
    name = "sklearn"
    module = "sklearn"
    extra_options = {"pos_label": None, "serialization_format": "cloudpickle"}

    def __init__(self) -> None:
        super().__init__()
        self.post_training = PostTrainingMetrics(self)
        self._training = training_wrapper(self, FitHandler(self))
        self._prediction = observer_wrapper(self, PredictionObserver(self.post_training))
        self._score = observer_wrapper(self, ScoreObserver(self.post_training))
        self._metric = observer_wrapper(self, MetricObserver(self.post_training))
        self._quiet = quiet_wrapper(self)

    def check_options(self, values: dict[str, Any]) -> None:
        if values["serialization_format"] not in SERIALIZATION_FORMATS:
            raise AutologConfigError(
                f"Autolog option 'serialization_format' must be one of {SERIALIZATION_FORMATS}, "
                f"got {values['serialization_format']!r}"
            )

    def patch_targets(self):
        return {
            "sklearn": self._patch_estimators,
            "sklearn.metrics": self._patch_metrics,
            "sklearn.model_selection": self._patch_model_selection,
            "sklearn.utils.parallel": self._patch_parallel,
        }

    def on_revert(self) -> None:
        self.post_training.clear()

    # --- estimators ------------------------------------------------------------------------
    def _patch_estimators(self, sklearn: ModuleType, patcher: Patcher) -> None:
        from sklearn.base import BaseEstimator

        for cls in _subclasses(BaseEstimator):
            self._patch_class(cls, patcher)
        if "__init_subclass__" in vars(BaseEstimator):
            # A scikit-learn whose BaseEstimator has its own hook: wrap it instead.
            patcher.wrap(BaseEstimator, "__init_subclass__", self._after_init_subclass)
        else:
            hook = _init_subclass_hook(BaseEstimator, self)
            patcher.add(BaseEstimator, "__init_subclass__", hook)

    def _after_init_subclass(self, wrapped, instance, args, kwargs):
        result = wrapped(*args, **kwargs)
        if isinstance(instance, type):
            self.patch_new_class(instance)
        return result

    def _patch_class(self, cls: type, patcher: Patcher) -> None:
        for method in TRAINING_METHODS:
            _wrap_defining_class(patcher, cls, method, self._training)
        for method in PREDICTION_METHODS:
            _wrap_defining_class(patcher, cls, method, self._prediction)
        _wrap_defining_class(patcher, cls, SCORE_METHOD, self._score)

    def patch_new_class(self, cls: type) -> None:
        """Called for each BaseEstimator subclass created while autolog is on."""
        if not self.enabled:
            return
        try:
            self._patch_class(cls, self.patcher)
        except Exception as exc:  # noqa: BLE001 - defining a class must never fail because of us
            reporting.report(self.name, f"patching {cls.__qualname__}", exc)

    # --- module functions ------------------------------------------------------------------
    def _patch_metrics(self, metrics: ModuleType, patcher: Patcher) -> None:
        import inspect

        for name in getattr(metrics, "__all__", ()):
            value = vars(metrics).get(name)
            if (
                name in _NOT_METRICS
                or name.startswith("plot_")
                or value is None
                or inspect.isclass(value)
                or not callable(value)
            ):
                continue
            patcher.wrap(metrics, name, self._metric)

    def _patch_model_selection(self, model_selection: ModuleType, patcher: Patcher) -> None:
        for name in QUIET_FUNCTIONS:
            patcher.wrap(model_selection, name, self._quiet)
        # The per-fold helpers they call are looked up in their module at call time, so a
        # cross_val_score imported before autolog was enabled is quiet too.
        validation = sys.modules.get("sklearn.model_selection._validation")
        if validation is not None:
            for name in QUIET_HELPERS:
                if name in vars(validation):
                    patcher.wrap(validation, name, self._quiet)

    def _patch_parallel(self, parallel: ModuleType, patcher: Patcher) -> None:
        dispatcher = getattr(parallel, "Parallel", None)
        task = getattr(parallel, "_FuncWrapper", None)
        if dispatcher is None or task is None:
            return  # an older scikit-learn: no thread propagation, nothing else changes
        patcher.wrap(dispatcher, "__call__", _carry_nesting_to_tasks)
        patcher.wrap(task, "__call__", _run_task_nested)


def _subclasses(base: type) -> list[type]:
    seen: set[type] = set()
    out: list[type] = []
    todo = [base]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        out.append(cls)
        try:
            todo.extend(cls.__subclasses__())
        except TypeError:  # `type.__subclasses__` needs an argument for metaclasses
            continue
    return out


def _wrap_defining_class(patcher: Patcher, cls: type, method: str, wrapper: Any) -> None:
    for klass in cls.__mro__:
        if method in vars(klass):
            if klass is not object:
                patcher.wrap(klass, method, wrapper)
            return


def _init_subclass_hook(base: type, integration: SklearnIntegration) -> classmethod:
    def __init_subclass__(cls, **kwargs):  # noqa: N807 - the hook's required name
        super(base, cls).__init_subclass__(**kwargs)
        integration.patch_new_class(cls)

    return classmethod(__init_subclass__)


# --- joblib worker threads ---------------------------------------------------------------------
_NESTING_ATTR = "_flightlog_nesting"


def _carry_nesting_to_tasks(wrapped, instance, args, kwargs):
    """Parallel.__call__ in the calling thread: stamp each task with the caller's nesting.

    The stamp is a tuple of strings (picklable, meaningless where flightlog is not patched, as
    in loky worker processes)."""
    names = session.snapshot()
    if not names or not args:
        return wrapped(*args, **kwargs)
    return wrapped(_stamped(args[0], names), *args[1:], **kwargs)


def _stamped(tasks, names: tuple[str, ...]):
    for task in tasks:
        try:
            setattr(task[0], _NESTING_ATTR, names)
        except Exception:  # noqa: BLE001, S110 - an unusual task just runs unstamped
            pass
        yield task


def _run_task_nested(wrapped, instance, args, kwargs):
    names = getattr(instance, _NESTING_ATTR, None)
    if not names:
        return wrapped(*args, **kwargs)
    with session.inherit(names):
        return wrapped(*args, **kwargs)
