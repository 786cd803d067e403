"""The endpoints MLflow's client and web app call beyond the REST API's core, so either can be
pointed at a flightlog server:

- `GET  /get-artifact?run_id=&path=` and `GET /model-versions/get-artifact?name=&version=&path=`
  (one file of a run / a model version, as a download);
- `GET  logged-models/<id>/artifacts/files?artifact_file_path=` and
  `GET  logged-models/<id>/artifacts/directories?artifact_directory_path=` (what the client
  downloads a logged model's files through);
- `POST experiments/search-datasets` (the datasets the runs of some experiments used);
- `GET  metrics/get-history-bulk` (one metric's history for up to 100 runs) and
  `GET  metrics/get-history-bulk-interval` (the same, sampled to at most max_results steps
  per run, keeping each run's first and last step);
- `POST upload-artifact?run_uuid=&path=` (the web app's small-file upload, 10 MB at most);
- every `/api/<v>/...` path also answers under `/ajax-api/<v>/...`, the prefix MLflow's web
  app uses (AjaxAliasMiddleware rewrites the path before routing, auth and limits see it).

`/graphql` (MLflow's web app reads some run pages through it) is not served: it would need a
GraphQL executor and MLflow's schema kept in step with its web app; see docs/server.md.
"""

from __future__ import annotations

import bisect
import posixpath
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from flightlog.exceptions import InvalidParameterError
from flightlog.server import schemas as s
from flightlog.server import wire
from flightlog.server.api_artifacts import list_under, locate, send_artifact
from flightlog.server.artifact_store import client_os_error, safe_artifact_path
from flightlog.server.deps import StoreDep
from flightlog.server.wire import MlflowJSONResponse
from flightlog.validation import validate_run_id

API = "/api/2.0/mlflow"
router = APIRouter(tags=["mlflow web app"])

MAX_RUNS_PER_BULK_REQUEST = 100
MAX_BULK_HISTORY_RESULTS = 25_000
MAX_SAMPLED_STEPS_PER_RUN = 2500
MAX_EXPERIMENTS_PER_DATASET_SEARCH = 20
MAX_DATASET_SUMMARIES = 1000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


# --- single files ------------------------------------------------------------------------------
@router.get("/get-artifact")
def get_artifact(
    request: Request,
    store: StoreDep,
    path: str,
    run_id: str | None = None,
    run_uuid: str | None = None,
) -> Response:
    run = store.get_run(validate_run_id(_required(run_id or run_uuid, "run_id")))
    destination, where = locate(request, run.info.artifact_uri, path)
    return send_artifact(destination, where)


@router.get("/model-versions/get-artifact")
def get_model_version_artifact(
    request: Request, store: StoreDep, name: str, version: str, path: str
) -> Response:
    root = store.get_model_version_download_uri(name, version)
    destination, where = locate(request, root, path)
    return send_artifact(destination, where)


# --- logged-model artifacts --------------------------------------------------------------------
@router.get(f"{API}/logged-models/{{model_id}}/artifacts/files")
def get_logged_model_artifact(
    model_id: str, request: Request, store: StoreDep, artifact_file_path: str | None = None
) -> Response:
    rel = safe_artifact_path(_required(artifact_file_path, "artifact_file_path"))
    model = store.get_logged_model(model_id)
    destination, where = locate(request, model.artifact_location, rel)
    return send_artifact(destination, where)


@router.get(f"{API}/logged-models/{{model_id}}/artifacts/directories")
def list_logged_model_artifacts(
    model_id: str, request: Request, store: StoreDep, artifact_directory_path: str | None = None
) -> Response:
    model = store.get_logged_model(model_id)
    root = model.artifact_location
    files = list_under(request, root, artifact_directory_path or "")
    return MlflowJSONResponse({"root_uri": root, "files": files})


# --- datasets ----------------------------------------------------------------------------------
class SearchDatasetsRequest(s._Model):
    experiment_ids: list[s.Id] = []


@router.post(f"{API}/experiments/search-datasets")
def search_datasets(req: SearchDatasetsRequest, store: StoreDep) -> Response:
    ids = [str(e) for e in req.experiment_ids]
    if not ids:
        raise InvalidParameterError(
            "SearchDatasets request must specify at least one experiment_id."
        )
    if len(ids) > MAX_EXPERIMENTS_PER_DATASET_SEARCH:
        raise InvalidParameterError(
            f"SearchDatasets request cannot specify more than "
            f"{MAX_EXPERIMENTS_PER_DATASET_SEARCH} experiment_ids. Received {len(ids)} "
            "experiment_ids."
        )
    return MlflowJSONResponse({"dataset_summaries": _dataset_summaries(store, ids)})


def _dataset_summaries(store, experiment_ids: list[str]) -> list[dict]:
    """Distinct (experiment, name, digest, context) of the datasets runs logged as inputs."""
    import sqlalchemy as sa

    from flightlog.store import dbschema as db
    from flightlog.store.sql_search import DATASET_CONTEXT_TAG

    numeric = [int(e) for e in experiment_ids if e.lstrip("-").isdigit()]
    if not numeric:
        return []
    d, i, t = db.datasets, db.inputs, db.input_tags
    query = (
        sa.select(d.c.experiment_id, d.c.name, d.c.digest, t.c.value)
        .select_from(
            d.join(
                i, sa.and_(i.c.source_id == d.c.dataset_uuid, i.c.destination_type == "RUN")
            ).outerjoin(
                t, sa.and_(t.c.input_uuid == i.c.input_uuid, t.c.name == DATASET_CONTEXT_TAG)
            )
        )
        .where(d.c.experiment_id.in_(numeric))
        .distinct()
        .order_by(d.c.experiment_id, d.c.name, d.c.digest, t.c.value)
        .limit(MAX_DATASET_SUMMARIES)
    )
    with store._read() as conn:
        rows = conn.execute(query).all()
    out = []
    for experiment_id, name, digest, context in rows:
        summary = {"experiment_id": str(experiment_id), "name": name, "digest": digest}
        if context:
            summary["context"] = context
        out.append(summary)
    return out


# --- metric histories of several runs ----------------------------------------------------------
def _run_ids(request: Request, *names: str) -> list[str]:
    ids = [v for name in names for v in request.query_params.getlist(name)]
    if not ids:
        raise InvalidParameterError(
            "GetMetricHistoryBulk request must specify at least one run_id."
        )
    if len(ids) > MAX_RUNS_PER_BULK_REQUEST:
        raise InvalidParameterError(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_PER_BULK_REQUEST} "
            f"run_ids. Received {len(ids)} run_ids."
        )
    return [validate_run_id(r) for r in dict.fromkeys(ids)]


def _with_run(point, run_id: str) -> dict:
    return {**wire.metric(point), "run_id": run_id}


@router.get(f"{API}/metrics/get-history-bulk")
def get_history_bulk(
    request: Request,
    store: StoreDep,
    metric_key: Annotated[str | None, Query()] = None,
    max_results: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    run_ids = _run_ids(request, "run_id")
    key = _required(metric_key, "metric_key")
    limit = min(max_results or MAX_BULK_HISTORY_RESULTS, MAX_BULK_HISTORY_RESULTS)
    out: list[dict] = []
    for run_id in sorted(run_ids):
        points = sorted(
            store.get_metric_history(run_id, key), key=lambda m: (m.timestamp, m.step, m.value)
        )
        out += [_with_run(m, run_id) for m in points[: limit - len(out)]]
        if len(out) >= limit:
            break
    return MlflowJSONResponse({"metrics": out})


@router.get(f"{API}/metrics/get-history-bulk-interval")
def get_history_bulk_interval(
    request: Request,
    store: StoreDep,
    metric_key: Annotated[str | None, Query()] = None,
    start_step: Annotated[int | None, Query()] = None,
    end_step: Annotated[int | None, Query()] = None,
    max_results: Annotated[int | None, Query(ge=1, le=MAX_SAMPLED_STEPS_PER_RUN)] = None,
) -> Response:
    run_ids = _run_ids(request, "run_ids", "run_id")
    key = _required(metric_key, "metric_key")
    if (start_step is None) != (end_step is None):
        raise InvalidParameterError(
            "If either start step or end step are specified, both must be specified."
        )
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidParameterError(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}."
        )
    limit = max_results or MAX_SAMPLED_STEPS_PER_RUN
    histories = {run_id: store.get_metric_history(run_id, key) for run_id in run_ids}
    out: list[dict] = []
    for run_id, points in histories.items():
        steps = sorted({m.step for m in points})
        if not steps:
            continue
        low = start_step if start_step is not None else 0
        high = end_step if end_step is not None else steps[-1]
        keep = sample_steps(steps, low, high, limit)
        chosen = [m for m in points if m.step in keep]
        chosen.sort(key=lambda m: (m.step, m.timestamp, m.value))
        out += [_with_run(m, run_id) for m in chosen]
    return MlflowJSONResponse({"metrics": out})


def sample_steps(steps: list[int], low: int, high: int, limit: int) -> set[int]:
    """At most about `limit` of the sorted `steps` in [low, high], spread evenly, always with the
    first and last step in range (and the run's own first/last step where they fall in it)."""
    start, end = bisect.bisect_left(steps, low), bisect.bisect_right(steps, high)
    in_range = steps[start:end]
    if not in_range:
        return set()
    if len(in_range) <= limit:
        return set(in_range)
    stride = len(in_range) / limit
    chosen = {in_range[int(k * stride)] for k in range(limit)}
    chosen.add(in_range[-1])
    return chosen


# --- the web app's small upload ----------------------------------------------------------------
@router.post(f"{API}/upload-artifact")
async def upload_artifact(request: Request, store: StoreDep) -> Response:
    run_uuid = request.query_params.get("run_uuid") or request.query_params.get("run_id")
    if not run_uuid:
        raise InvalidParameterError("Request must specify run_uuid.")
    path = request.query_params.get("path")
    if not path:
        raise InvalidParameterError("Request must specify path.")
    rel = safe_artifact_path(path)
    data = await request.body()
    if not data:
        raise InvalidParameterError("Request must specify data.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidParameterError("Artifact size is too large. Max size is 10MB.")
    run = await run_in_threadpool(store.get_run, validate_run_id(run_uuid))
    destination, where = locate(request, run.info.artifact_uri, rel)
    await run_in_threadpool(_write, destination, where, data)
    return wire.empty()


def _write(destination, where: str, data: bytes) -> None:
    try:
        temp, final = destination.begin_upload(where)
        try:
            with open(temp, "wb") as f:
                f.write(data)
            destination.finish_upload(temp, final, where)
        except BaseException:
            destination.abort_upload(temp)
            raise
    except OSError as exc:
        raise client_os_error(exc, posixpath.basename(where)) from exc


def _required(value: str | None, name: str) -> str:
    if not value:
        raise InvalidParameterError(f"Missing value for required parameter '{name}'.")
    return value


# --- /ajax-api aliases -------------------------------------------------------------------------
class AjaxAliasMiddleware:
    """Serve `/ajax-api/<v>/...` (MLflow's web-app prefix) as `/api/<v>/...`."""

    PREFIX = "/ajax-api/"

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(self.PREFIX):
            path = "/api/" + scope["path"][len(self.PREFIX) :]
            raw = scope.get("raw_path")
            scope = {**scope, "path": path}
            if raw is not None:
                scope["raw_path"] = b"/api/" + raw[len(self.PREFIX) :]
        await self.app(scope, receive, send)


def setup(app) -> None:
    app.add_middleware(AjaxAliasMiddleware)
    _use_default_artifact_root(app)


def _use_default_artifact_root(app) -> None:
    """--default-artifact-root: new experiments get `<root>/<id>` (the store's default root),
    and the server may read under that root for /get-artifact and artifacts/list, since its
    operator chose it (other non-proxied roots stay the client's to read)."""
    from flightlog.server.artifact_store import ArtifactDestination

    root = getattr(app.state.settings, "default_artifact_root", None)
    if not root:
        app.state.served_roots = {}
        return
    store = app.state.store
    if hasattr(store, "default_artifact_root"):
        store.default_artifact_root = root
    app.state.served_roots = {root: ArtifactDestination(root)}
