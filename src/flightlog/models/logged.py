"""MLflow 3 logged models on the client side: the fluent calls, and metrics linked to models.

A logged model (`models:/m-<id>`) is its own entity in the store: name, experiment, source run,
params, tags, metrics, status and artifact location. `log_model` creates one per call (see
models/saving.py); these functions read and change them:

    info = flightlog.sklearn.log_model(model, name="model", params={"alpha": 0.1})
    flightlog.log_metric("rmse", 0.3, model_id=info.model_id)   # the run's and the model's point
    flightlog.search_logged_models(filter_string="metrics.rmse < 1", output_format="list")

A metric logged without `model_id` right after `log_model`, at the step the model was logged
at, is the model's too (MLflow's rule). flightlog applies it to the models this process logged
into the run, from memory, so plain `log_metric` calls cost nothing extra when no model was
logged.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from flightlog.entities import LoggedModel, LoggedModelStatus, Metric, RunTag

# run id -> step -> ids of the models this process logged into that run at that step.
_run_models: dict[str, dict[int, list[str]]] = {}
_lock = threading.Lock()
_last = threading.local()


def _client() -> Any:
    from flightlog import fluent

    return fluent._client()


def _pairs(values: Mapping[str, Any] | None) -> list[RunTag]:
    return [RunTag(str(k), str(v)) for k, v in (values or {}).items()]


def remember_output(run_id: str, model_id: str, step: int) -> None:
    """log_model calls this: later metrics of `run_id` at `step` are the model's too."""
    with _lock:
        _run_models.setdefault(run_id, {}).setdefault(int(step or 0), []).append(model_id)
    _last.model_id = model_id


def has_linked_models() -> bool:
    return bool(_run_models)


def _linked(run_id: str, step: int) -> list[str]:
    return list(_run_models.get(run_id, {}).get(step, ()))


def log_metrics_for_models(
    metrics: Mapping[str, Any],
    step: int | None,
    synchronous: bool | None,
    timestamp: int | None,
    run_id: str | None,
    model_id: str | None,
    dataset: Any = None,
) -> bool:
    """Log `metrics` to the run and to the model(s) they belong to. Returns False (nothing done)
    when they belong to no model, so the caller logs them the ordinary way."""
    from flightlog import fluent
    from flightlog.client import _now_ms

    run_id = fluent._run_id_or_active(run_id)
    step = 0 if step is None else int(step)
    model_ids = [model_id] if model_id is not None else _linked(run_id, step)
    if not model_ids and dataset is None:
        return False
    ts = _now_ms() if timestamp is None else int(timestamp)
    points = [Metric(str(k), v, ts, step) for k, v in metrics.items()]
    client = _client()
    if dataset is not None:
        _log_dataset_once(client, run_id, dataset)
    # The run's copy first, stored before the model's (the model's metric names a run point).
    client.log_batch(run_id, metrics=points, synchronous=True)
    name = getattr(dataset, "name", None)
    digest = getattr(dataset, "digest", None)
    for mid in model_ids:
        client.log_model_metrics(
            mid, points, run_id=run_id, dataset_name=name, dataset_digest=digest
        )
    return True


def _log_dataset_once(client: Any, run_id: str, dataset: Any) -> None:
    """The metric's dataset becomes a run input unless the run already has it (MLflow's rule)."""
    from flightlog.entities import DatasetInput

    run = client.get_run(run_id)
    for existing in run.inputs.dataset_inputs:
        if (existing.dataset.name, existing.dataset.digest) == (dataset.name, dataset.digest):
            return
    entity = dataset.to_entity() if hasattr(dataset, "to_entity") else dataset
    client.log_inputs(run_id, [DatasetInput(entity, {})])


# --- the fluent API (MLflow 3's names) ------------------------------------------------------
def create_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A new PENDING logged model in the active experiment, linked to the active run if any."""
    from flightlog import fluent

    if source_run_id is None:
        source_run_id = fluent._active_run_id()
    if experiment_id is None:
        experiment_id = (
            _client().get_run(source_run_id).info.experiment_id
            if source_run_id
            else fluent._resolve_experiment_id(None)
        )
    model = _client().create_logged_model(
        str(experiment_id), name, source_run_id, dict(tags or {}), dict(params or {}), model_type
    )
    _last.model_id = model.model_id
    return model


initialize_logged_model = create_logged_model


def create_external_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A logged model whose files live elsewhere: READY at once, tagged as external."""
    all_tags = {"mlflow.model.type": "external", **dict(tags or {})}
    model = create_logged_model(name, source_run_id, all_tags, params, model_type, experiment_id)
    return finalize_logged_model(model.model_id, LoggedModelStatus.READY)


def get_logged_model(model_id: str) -> LoggedModel:
    return _client().get_logged_model(model_id)


def last_logged_model() -> LoggedModel | None:
    """The model most recently logged (or created) by this thread, fresh from the store."""
    model_id = getattr(_last, "model_id", None)
    return get_logged_model(model_id) if model_id else None


def search_logged_models(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    datasets: Sequence[dict[str, str]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[dict[str, Any]] | None = None,
    output_format: str = "pandas",
) -> Any:
    """Every matching logged model (all pages), as a DataFrame or, with output_format="list",
    a list of LoggedModel. Default experiments: the active one."""
    from flightlog import fluent
    from flightlog.exceptions import InvalidParameterError

    if output_format not in ("pandas", "list"):
        raise InvalidParameterError(
            f"output_format must be 'pandas' or 'list', got {output_format!r}"
        )
    if datasets:
        raise InvalidParameterError("search_logged_models(datasets=...) is not supported")
    ids = (
        [str(e) for e in experiment_ids]
        if experiment_ids
        else [fluent._resolve_experiment_id(None)]
    )
    client = _client()
    models: list[LoggedModel] = []
    token = None
    while True:
        page = client.search_logged_models(ids, filter_string, max_results, order_by, token)
        models.extend(page)
        if (max_results is not None and len(models) >= max_results) or not page.token:
            break
        token = page.token
    if max_results is not None:
        models = models[:max_results]
    if output_format == "list":
        return models
    import pandas as pd

    columns = [
        "artifact_location",
        "creation_timestamp",
        "experiment_id",
        "last_updated_timestamp",
        "metrics",
        "model_id",
        "model_type",
        "name",
        "params",
        "source_run_id",
        "status",
        "status_message",
        "tags",
    ]
    return pd.DataFrame([{c: getattr(m, c) for c in columns} for m in models], columns=columns)


def set_logged_model_tags(model_id: str, tags: Mapping[str, Any]) -> None:
    _client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    _client().delete_logged_model_tag(model_id, key)


def log_model_params(params: Mapping[str, Any], model_id: str | None = None) -> None:
    """Add params to a logged model (default: the last one logged in this thread)."""
    from flightlog.exceptions import InvalidParameterError

    model_id = model_id or getattr(_last, "model_id", None)
    if model_id is None:
        raise InvalidParameterError("No model_id given and no model was logged in this thread")
    _client().log_model_params(model_id, params)


def finalize_logged_model(model_id: str, status: Any) -> LoggedModel:
    """Mark a logged model READY (its files are complete) or FAILED."""
    return _client().finalize_logged_model(model_id, status)


def delete_logged_model(model_id: str) -> None:
    _client().delete_logged_model(model_id)


class LoggedModelsClientMixin:
    """The logged-model methods of TrackingClient (MlflowClient), MLflow 3's names."""

    _registry_store: Any

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        return self._registry_store.create_logged_model(
            str(experiment_id), name, source_run_id, _pairs(tags), _pairs(params), model_type
        )

    def finalize_logged_model(self, model_id: str, status: Any) -> LoggedModel:
        wanted = getattr(status, "value", status)  # mlflow's LoggedModelStatus enum, or a string
        if str(wanted).upper() == "FAILED":
            wanted = LoggedModelStatus.FAILED
        return self._registry_store.finalize_logged_model(model_id, str(wanted))

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        self._registry_store.set_logged_model_tags(model_id, _pairs(tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._registry_store.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        self._registry_store.log_logged_model_params(model_id, _pairs(params))

    def delete_logged_model(self, model_id: str) -> None:
        self._registry_store.delete_logged_model(model_id)

    def log_model_metrics(
        self,
        model_id: str,
        metrics: Sequence[Metric],
        run_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
    ) -> None:
        """Store points as the model's (the run's copy is logged separately)."""
        self._registry_store.log_logged_model_metrics(
            model_id, list(metrics), run_id, dataset_name, dataset_digest
        )
