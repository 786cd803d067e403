"""What one autologged scikit-learn `fit` records.

Before the original runs: `get_params(deep=True)` and the estimator tags (one log_batch, queued)
and a copy of the first rows of X for the input example. After it returns: training metrics
(from one predict/predict_proba pass), the model with its signature, the training dataset,
search results and child runs, classifier plots (rendered on a background thread), and the
model's registration for post-training metrics.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from flightlog.autolog.calls import LOG, PASS, QUIET, AutologCall, TrainingHandler
from flightlog.autolog.integration import module_owned_by_other

if TYPE_CHECKING:
    from flightlog_sklearn._integration import SklearnIntegration

INPUT_EXAMPLE_ROWS = 5

# Data-manipulation estimators (MLflow's list): alone they are not worth a run; inside a
# Pipeline they are logged as part of it.
_QUIET_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
_QUIET_CLASSES = frozenset({"sklearn.compose._column_transformer.ColumnTransformer"})


class FitHandler(TrainingHandler):
    def __init__(self, integration: SklearnIntegration):
        self.integration = integration

    def decide(self, call: AutologCall) -> str:
        from sklearn.base import BaseEstimator

        estimator = call.instance
        if not isinstance(estimator, BaseEstimator):
            return PASS
        cls = type(estimator)
        if module_owned_by_other(cls.__module__, self.integration.name):
            return PASS
        if cls.__module__.startswith(_QUIET_MODULES) or (
            f"{cls.__module__}.{cls.__qualname__}" in _QUIET_CLASSES
        ):
            return QUIET
        return LOG

    def before(self, call: AutologCall) -> None:
        from flightlog_sklearn._search import is_search

        estimator = call.instance
        X, y, sample_weight = fit_inputs(call.function, estimator, call.args, call.kwargs)
        call.state.update(X=X, y=y, sample_weight=sample_weight)
        if X is not None and call.config.log_models:
            with call.guard("copying the input example"):
                call.state["input_example"] = head(X, INPUT_EXAMPLE_ROWS)
        # A search's seed estimator only seeds it; its untuned params would mislead.
        params = estimator.get_params(deep=not is_search(estimator))
        call.log(params=params, tags=estimator_tags(estimator))

    def after(self, call: AutologCall, result: Any) -> None:
        from flightlog.autolog import runs
        from flightlog_sklearn import _models, _plots, _search
        from flightlog_sklearn._metrics import training_metrics

        estimator = call.instance
        config = call.config
        X, y, sample_weight = call.state["X"], call.state["y"], call.state["sample_weight"]
        outcome = None
        if X is not None:
            with call.guard("computing training metrics"):
                outcome = training_metrics(estimator, X, y, sample_weight, config.pos_label)
        metrics = dict(outcome.metrics) if outcome is not None else {}
        search = _search.is_search(estimator)
        if search:
            with call.guard("logging the search results"):
                best_params, best_metrics = _search.best_results(estimator)
                metrics.update(best_metrics)
                call.log(params=best_params)
        if metrics:
            with call.guard("logging training metrics"):
                call.log(metrics=metrics)
        dataset = None
        if config.log_datasets and X is not None:
            with call.guard("logging the training dataset"):
                dataset = _models.log_dataset(call.run_id, X, y)
        with call.guard("logging estimator.html"):
            log_estimator_html(call.run_id, estimator)
        if config.log_models:
            example = call.state.get("input_example")
            outputs = outcome.prediction_head if outcome is not None else None
            with call.guard("logging the model"):
                _models.log_estimator(call, estimator, "model", example, outputs)
            if search and hasattr(estimator, "best_estimator_"):
                with call.guard("logging the best estimator"):
                    _models.log_estimator(
                        call, estimator.best_estimator_, "best_estimator", example, outputs
                    )
        if search:
            with call.guard("logging the search's child runs"):
                _search.log_child_runs(call, estimator, dataset)
            with call.guard("logging cv_results.csv"):
                _search.log_cv_results(call.run_id, estimator)
        if outcome is not None and outcome.plots is not None:
            with call.guard("scheduling the training plots"):
                _plots.render_later(runs.client(), call.run_id, outcome.plots)
        if config.evaluate_on is not None:
            with call.guard("evaluating on evaluate_on"):
                from flightlog.evaluation.autolog_hook import evaluate_after_fit

                evaluate_after_fit(estimator, call.run_id, config.evaluate_on)
        if config.log_post_training_metrics:
            with call.guard("registering the model for post-training metrics"):
                self.integration.post_training.register_model(estimator, call.run_id)


ESTIMATOR_HTML = "estimator.html"


def log_estimator_html(run_id: str, estimator: Any) -> None:
    """`estimator.html`: scikit-learn's diagram of the estimator (a pipeline's steps, a search's
    estimator), the artifact MLflow's autolog logs, as a standalone page."""
    from sklearn.utils import estimator_html_repr

    from flightlog.autolog import runs

    # The charset line keeps the diagram's toggle arrows (non-ASCII) readable.
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="UTF-8"/>'
        f"<title>{type(estimator).__name__}</title></head>\n"
        f"<body>\n{estimator_html_repr(estimator)}\n</body>\n</html>\n"
    )
    runs.client().log_text(run_id, page, ESTIMATOR_HTML)


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
    }


# --- reading fit()'s arguments -----------------------------------------------------------------
_signatures: dict[Any, inspect.Signature | None] = {}


def _signature(function: Any) -> inspect.Signature | None:
    plain = getattr(function, "__func__", None) or getattr(function, "__wrapped__", function)
    try:
        return _signatures[plain]
    except (KeyError, TypeError):
        pass
    try:
        signature = inspect.signature(plain)
    except (TypeError, ValueError):
        signature = None
    try:
        _signatures[plain] = signature
    except TypeError:  # unhashable callable
        pass
    return signature


def fit_inputs(function: Any, estimator: Any, args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
    """(X, y, sample_weight) of a fit-like call; None for what is not there or not readable."""
    signature = _signature(function)
    if signature is None:
        return (args[0] if args else None), (args[1] if len(args) > 1 else None), None
    try:
        bound = signature.bind_partial(estimator, *args, **kwargs)
    except TypeError:
        return None, None, None  # the call itself is wrong; the original will say so
    params = list(signature.parameters.values())[1:]  # without self
    arguments = bound.arguments
    positional = [
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    X = arguments.get(positional[0]) if positional else None
    if "y" in arguments:
        y = arguments["y"]
    elif "Y" in arguments:
        y = arguments["Y"]
    elif len(positional) > 1 and positional[1] != "sample_weight":
        y = arguments.get(positional[1])
    else:
        y = None
    sample_weight = arguments.get("sample_weight")
    if sample_weight is None:
        for p in params:
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                sample_weight = arguments.get(p.name, {}).get("sample_weight")
    return X, y, sample_weight


def head(data: Any, rows: int) -> Any:
    """A private copy of the first `rows` rows (taken before fit, so fit cannot change it)."""
    import copy

    module = type(data).__module__.split(".", 1)[0]
    if module == "pandas":
        return data.iloc[:rows].copy()
    if module == "numpy":
        return data[:rows].copy()
    if module == "scipy" and hasattr(data, "tocsr"):
        return data.tocsr()[:rows].copy()
    if isinstance(data, list | tuple):
        return copy.deepcopy(list(data[:rows]))
    return None
