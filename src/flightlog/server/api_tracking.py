"""MLflow REST API 2.0, tracking part: experiments, runs, metrics, params, tags, inputs.

Paths, methods and JSON follow MLflow's service.proto; the endpoints MLflow's client calls with
GET (runs/get, experiments/get, experiments/get-by-name, metrics/get-history, and
experiments/search) take query parameters, and also accept a POST with a JSON body.
Handlers are plain `def`s: FastAPI runs them in its thread pool, so store I/O never blocks the
event loop.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from flightlog import validation as v
from flightlog.entities import Dataset, DatasetInput, Metric, Param, RunTag, ViewType
from flightlog.exceptions import InvalidParameterError, ResourceNotFoundError
from flightlog.history import HISTORY_PAGE
from flightlog.server import schemas as s
from flightlog.server import wire
from flightlog.server.batch_parser import BATCH_ID_HEADER, batch_id_of, parse_log_batch
from flightlog.server.deps import StoreDep
from flightlog.server.wire import MlflowJSONResponse

API = "/api/2.0/mlflow"
router = APIRouter(tags=["tracking"])

# MLflow's per-request limits for runs/log-batch.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _run_id(value: str) -> str:
    return v.validate_run_id(value)


# Keys, values and names are validated by the store (one set of rules for every entry point);
# these only convert the request models into entities.
def _tags(items: Sequence[s.KeyValue]) -> list[RunTag]:
    return [RunTag(t.key, t.value) for t in items]


def _params(items: Sequence[s.KeyValue]) -> list[Param]:
    return [Param(p.key, p.value) for p in items]


def _paged(name: str, items: list, token: str | None) -> Response:
    body: dict = {name: items}
    if token:
        body["next_page_token"] = token
    return MlflowJSONResponse(body)


# --- experiments ------------------------------------------------------------------------------
@router.post(f"{API}/experiments/create")
def create_experiment(body: s.CreateExperimentRequest, store: StoreDep) -> Response:
    experiment_id = store.create_experiment(
        body.name, _absolute_location(body.artifact_location), _tags(body.tags)
    )
    return MlflowJSONResponse({"experiment_id": str(experiment_id)})


def _absolute_location(location: str | None) -> str | None:
    """A relative artifact_location made absolute against the server's working directory, as
    MLflow's server does (stored as given, it would mean a different folder to every reader)."""
    import os

    if not location:
        return None
    if ":" in location.split("/", 1)[0] and not (len(location) > 1 and location[1] == ":"):
        return location  # a URI (s3://, file:, mlflow-artifacts:...)
    return os.path.abspath(location)


def _get_experiment(ref: s.ExperimentRef, store) -> Response:
    exp = store.get_experiment(ref.experiment_id)
    return MlflowJSONResponse({"experiment": wire.experiment(exp)})


@router.get(f"{API}/experiments/get")
def get_experiment(ref: Annotated[s.ExperimentRef, Query()], store: StoreDep) -> Response:
    return _get_experiment(ref, store)


@router.post(f"{API}/experiments/get", include_in_schema=False)
def get_experiment_post(ref: s.ExperimentRef, store: StoreDep) -> Response:
    return _get_experiment(ref, store)


def _get_experiment_by_name(req: s.GetExperimentByNameRequest, store) -> Response:
    exp = store.get_experiment_by_name(req.experiment_name)
    if exp is None:
        raise ResourceNotFoundError(f"Could not find experiment with name '{req.experiment_name}'")
    return MlflowJSONResponse({"experiment": wire.experiment(exp)})


@router.get(f"{API}/experiments/get-by-name")
def get_experiment_by_name(
    req: Annotated[s.GetExperimentByNameRequest, Query()], store: StoreDep
) -> Response:
    return _get_experiment_by_name(req, store)


@router.post(f"{API}/experiments/get-by-name", include_in_schema=False)
def get_experiment_by_name_post(req: s.GetExperimentByNameRequest, store: StoreDep) -> Response:
    return _get_experiment_by_name(req, store)


def _search_experiments(req: s.SearchExperimentsRequest, store) -> Response:
    page = store.search_experiments(
        view_type=ViewType.from_any(req.view_type),
        max_results=req.max_results or 1000,
        filter_string=req.filter or None,
        order_by=req.order_by or None,
        page_token=req.page_token or None,
    )
    return _paged("experiments", [wire.experiment(e) for e in page], page.token)


@router.post(f"{API}/experiments/search")
def search_experiments(req: s.SearchExperimentsRequest, store: StoreDep) -> Response:
    return _search_experiments(req, store)


@router.get(f"{API}/experiments/search")
def search_experiments_get(
    req: Annotated[s.SearchExperimentsRequest, Query()], store: StoreDep
) -> Response:
    return _search_experiments(req, store)


@router.post(f"{API}/experiments/update")
def update_experiment(req: s.UpdateExperimentRequest, store: StoreDep) -> Response:
    store.rename_experiment(req.experiment_id, req.new_name)
    return wire.empty()


@router.post(f"{API}/experiments/delete")
def delete_experiment(ref: s.ExperimentRef, store: StoreDep) -> Response:
    store.delete_experiment(ref.experiment_id)
    return wire.empty()


@router.post(f"{API}/experiments/restore")
def restore_experiment(ref: s.ExperimentRef, store: StoreDep) -> Response:
    store.restore_experiment(ref.experiment_id)
    return wire.empty()


@router.post(f"{API}/experiments/set-experiment-tag")
def set_experiment_tag(req: s.SetExperimentTagRequest, store: StoreDep) -> Response:
    store.set_experiment_tag(req.experiment_id, RunTag(req.key, req.value))
    return wire.empty()


class DeleteExperimentTagRequest(s._Model):
    experiment_id: s.Id
    key: s.Text


@router.post(f"{API}/experiments/delete-experiment-tag")
def delete_experiment_tag(req: DeleteExperimentTagRequest, store: StoreDep) -> Response:
    store.delete_experiment_tag(str(req.experiment_id), req.key)
    return wire.empty()


# --- runs -------------------------------------------------------------------------------------
@router.post(f"{API}/runs/create")
def create_run(req: s.CreateRunRequest, request: Request, store: StoreDep) -> Response:
    experiment_id = req.experiment_id if req.experiment_id is not None else "0"
    tags = _tags(req.tags)
    user = req.user_id or next((t.value for t in tags if t.key == "mlflow.user"), "")
    run = store.create_run(
        experiment_id,
        user_id=user,
        start_time=req.start_time if req.start_time is not None else _now_ms(),
        tags=tags,
        run_name=req.run_name or None,
        run_id=_idempotent_run_id(request.headers.get("Idempotency-Key")),
    )
    return MlflowJSONResponse({"run": wire.run(run)})


def _idempotent_run_id(key: str | None) -> str | None:
    """runs/create with an Idempotency-Key makes the run whose id is derived from the key, or
    answers the one a previous request with that key made (a retry whose answer was lost).
    flightlog's RestStore sends a fresh 32-hex-digit id as the key, used as is; any other key
    is hashed into a run id (uuid5), so every client gets the same guarantee."""
    import re
    import uuid

    if not key:
        return None
    key = key.strip()
    if re.fullmatch(r"[0-9a-f]{32}", key):
        return key
    if len(key) > 256:
        raise InvalidParameterError("Idempotency-Key is longer than 256 characters")
    return uuid.uuid5(uuid.NAMESPACE_URL, f"flightlog:runs/create:{key}").hex


def _get_run(ref: s.RunRef, store) -> Response:
    run = store.get_run(_run_id(ref.the_run_id))
    return MlflowJSONResponse({"run": wire.run(run, _model_links(store, [run])[run.info.run_id])})


_NO_LINKS: tuple[list[str], list[tuple[str, int]]] = ([], [])


def _model_links(store, runs) -> dict:
    """Each run's MLflow 3 model inputs/outputs (none for a store without logged models)."""
    from collections import defaultdict

    found = {}
    links = getattr(store, "run_model_links", None)
    if links is not None and runs:
        found = links([r.info.run_id for r in runs])
    return defaultdict(lambda: _NO_LINKS, found)


@router.get(f"{API}/runs/get")
def get_run(ref: Annotated[s.RunRef, Query()], store: StoreDep) -> Response:
    return _get_run(ref, store)


@router.post(f"{API}/runs/get", include_in_schema=False)
def get_run_post(ref: s.RunRef, store: StoreDep) -> Response:
    return _get_run(ref, store)


@router.post(f"{API}/runs/update")
def update_run(req: s.UpdateRunRequest, store: StoreDep) -> Response:
    run_id = _run_id(req.the_run_id)
    status, end_time = req.status, req.end_time
    if status is None or (end_time is None and status != "RUNNING"):
        # A rename (or a status change without an end time) keeps what the run has.
        current = store.get_run(run_id).info
        status = status or current.status
        if end_time is None and status == current.status:
            end_time = current.end_time
    info = store.update_run_info(run_id, status, end_time, req.run_name or None)
    return MlflowJSONResponse({"run_info": wire.run_info(info)})


@router.post(f"{API}/runs/delete")
def delete_run(ref: s.RunRef, store: StoreDep) -> Response:
    store.delete_run(_run_id(ref.the_run_id))
    return wire.empty()


@router.post(f"{API}/runs/restore")
def restore_run(ref: s.RunRef, store: StoreDep) -> Response:
    store.restore_run(_run_id(ref.the_run_id))
    return wire.empty()


class LogMetricRequest(s.LogMetricRequest):
    """MLflow 3's log-metric may name a logged model (and the dataset) the point is about."""

    model_id: s.Text | None = None
    dataset_name: s.Text | None = None
    dataset_digest: s.Text | None = None


@router.post(f"{API}/runs/log-metric")
def log_metric(req: LogMetricRequest, store: StoreDep) -> Response:
    point = Metric(req.key, req.value, req.timestamp, req.step)
    run_id = _run_id(req.the_run_id)
    store.log_batch(run_id, metrics=[point])
    if req.model_id:
        store.log_logged_model_metrics(
            req.model_id,
            [point],
            run_id=run_id,
            dataset_name=req.dataset_name or None,
            dataset_digest=req.dataset_digest or None,
        )
    return wire.empty()


@router.post(f"{API}/runs/log-parameter")
def log_param(req: s.LogParamRequest, store: StoreDep) -> Response:
    store.log_batch(_run_id(req.the_run_id), params=_params([req]))
    return wire.empty()


@router.post(f"{API}/runs/set-tag")
def set_tag(req: s.SetTagRequest, store: StoreDep) -> Response:
    store.log_batch(_run_id(req.the_run_id), tags=_tags([req]))
    return wire.empty()


@router.post(f"{API}/runs/delete-tag")
def delete_tag(req: s.DeleteTagRequest, store: StoreDep) -> Response:
    store.delete_tag(_run_id(req.run_id), req.key)
    return wire.empty()


@router.post(
    f"{API}/runs/log-batch",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/LogBatchRequest"}}
            },
        }
    },
)
async def log_batch(request: Request, store: StoreDep) -> Response:
    """The ingestion hot path: parsed by hand (see batch_parser) and stored in one call, both
    in the thread pool so the event loop keeps serving other connections meanwhile."""
    batch_id = batch_id_of(request.headers.get(BATCH_ID_HEADER))
    await run_in_threadpool(_ingest, await request.body(), store, batch_id)
    return wire.empty()


def _ingest(body: bytes, store, batch_id: str | None = None) -> None:
    run_id, metrics, params, tags = parse_log_batch(body)
    n_metrics, n_params, n_tags = len(metrics), len(params), len(tags)
    if (
        n_metrics > MAX_METRICS_PER_BATCH
        or n_params > MAX_PARAMS_TAGS_PER_BATCH
        or n_tags > MAX_PARAMS_TAGS_PER_BATCH
        or n_metrics + n_params + n_tags > MAX_ENTITIES_PER_BATCH
    ):
        raise InvalidParameterError(
            f"A batch may hold at most {MAX_METRICS_PER_BATCH} metrics, "
            f"{MAX_PARAMS_TAGS_PER_BATCH} params and {MAX_PARAMS_TAGS_PER_BATCH} tags "
            f"({MAX_ENTITIES_PER_BATCH} in all); got {n_metrics} metrics, {n_params} params, "
            f"{n_tags} tags"
        )
    _run_id(run_id)
    if metrics or params or tags:
        if batch_id is not None and getattr(store, "accepts_batch_id", False):
            # A batch re-sent by the client (lost answer, `flightlog sync`) is stored once.
            store.log_batch(run_id, metrics, params, tags, batch_id=batch_id)
        else:
            store.log_batch(run_id, metrics, params, tags)
    _log_model_metrics(store, run_id, metrics)


def _log_model_metrics(store, run_id: str, metrics: list[Metric]) -> None:
    """MLflow 3: a log-batch metric with a `model_id` is the logged model's too (the parser made
    it a LoggedModelMetric); the run keeps its copy through log_batch above."""
    by_model: dict[str, list] = {}
    for m in metrics:
        if type(m) is not Metric:
            by_model.setdefault(m.model_id, []).append(m)
    for model_id, points in by_model.items():
        store.log_logged_model_metrics(model_id, points, run_id=run_id)


# Documented in /openapi.json (the handler above parses its body itself).
OPENAPI_MODELS = [s.LogBatchRequest]


class ModelInputIn(s._Model):
    model_id: s.Text


class LogInputsRequest(s.LogInputsRequest):
    """MLflow 3's log-inputs: datasets, and the logged models the run used."""

    models: list[ModelInputIn] = []


@router.post(f"{API}/runs/log-inputs")
def log_inputs(req: LogInputsRequest, store: StoreDep) -> Response:
    datasets = []
    for item in req.datasets:
        d = item.dataset
        dataset = Dataset(d.name, d.digest, d.source_type, d.source, d.dataset_schema, d.profile)
        tags = {t.key: t.value for t in _tags(item.tags)}
        datasets.append(DatasetInput(dataset, tags))
    if datasets:
        store.log_inputs(_run_id(req.run_id), datasets)
    if req.models:
        store.log_model_inputs(_run_id(req.run_id), [m.model_id for m in req.models])
    return wire.empty()


def _search_runs(req: s.SearchRunsRequest, store) -> Response:
    page = store.search_runs(
        req.experiment_ids,
        filter_string=req.filter or "",
        run_view_type=ViewType.from_any(req.run_view_type),
        max_results=req.max_results,
        order_by=req.order_by or None,
        page_token=req.page_token or None,
    )
    links = _model_links(store, list(page))
    return _paged("runs", [wire.run(r, links[r.info.run_id]) for r in page], page.token)


@router.post(f"{API}/runs/search")
def search_runs(req: s.SearchRunsRequest, store: StoreDep) -> Response:
    return _search_runs(req, store)


# --- metric history ---------------------------------------------------------------------------
def _metric_history(req: s.GetMetricHistoryRequest, store) -> Response:
    run_id = _run_id(req.the_run_id)
    if req.max_results is None:
        # Unpaged (what MLflow's client asks for): stream it in pages rather than build one
        # body for the whole history. The first page is read here, so an unknown run is
        # still a 404 with error JSON, not a broken stream.
        def read(token: str | None):
            return store.get_metric_history(
                run_id, req.metric_key, max_results=HISTORY_PAGE, page_token=token
            )

        first = read(req.page_token or None)
        return StreamingResponse(
            wire.metric_history_stream(first, read), media_type="application/json"
        )
    page = store.get_metric_history(
        run_id,
        req.metric_key,
        max_results=req.max_results,
        page_token=req.page_token or None,
    )
    return _paged("metrics", [wire.metric(m) for m in page], getattr(page, "token", None))


@router.get(f"{API}/metrics/get-history")
def get_metric_history(
    req: Annotated[s.GetMetricHistoryRequest, Query()], store: StoreDep
) -> Response:
    return _metric_history(req, store)


@router.post(f"{API}/metrics/get-history", include_in_schema=False)
def get_metric_history_post(req: s.GetMetricHistoryRequest, store: StoreDep) -> Response:
    return _metric_history(req, store)
