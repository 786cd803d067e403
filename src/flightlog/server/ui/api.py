"""JSON endpoints the UI needs beyond MLflow's REST API, under /ui-api/.

- GET  /ui-api/runs              a page of an experiment's runs as compact table rows;
- GET  /ui-api/metric-series     a metric history downsampled to a chart's width;
- GET  /ui-api/artifacts/list    a folder of a run's artifacts (direct or proxied locations);
- GET  /ui-api/artifacts/file    one artifact file, served inert (never as active content);
- GET  /ui-api/artifacts/model   a logged model's flavors, signature and input example;
- POST /ui-api/register-model    register a logged model (new name or new version).

A model is a folder of a run's artifacts (`run_id` + `path`: what flightlog's and MLflow 2's
`log_model` write) or an MLflow 3 logged model (`model_id`: what MLflow 3's client writes when
it logs into this server).

Kept out of the OpenAPI schema: they serve the UI and may change with it. Errors use the same
`{"error_code", "message"}` JSON as the rest of the server.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from flightlog.exceptions import (
    InvalidParameterError,
    RegisteredModelAlreadyExistsError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
)
from flightlog.server.deps import StoreDep
from flightlog.server.ui import artifacts, downsample, summaries
from flightlog.server.wire import MlflowJSONResponse
from flightlog.validation import validate_run_id

UI_API = "/ui-api"
router = APIRouter(include_in_schema=False)

MAX_PAGE = 1000
Text = Annotated[str, Field(max_length=10_000)]

# Served as text: a browser must never run an uploaded page or script from this origin.
_ACTIVE_CONTENT = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/javascript",
    "text/javascript",
    "application/xml",
    "text/xml",
}
_INERT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "no-store",
}


def _run(store, run_id: str):
    return store.get_run(validate_run_id(run_id))


@router.get(f"{UI_API}/runs")
def runs(
    store: StoreDep,
    experiment_id: Annotated[str, Query(max_length=64)],
    filter: Annotated[str, Query(max_length=10_000)] = "",
    order_by: Annotated[str, Query(max_length=1000)] = "",
    page_token: Annotated[str, Query(max_length=1000)] = "",
    max_results: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    view: Annotated[str, Query(pattern="^(active|deleted|all)$")] = "active",
) -> Response:
    store.get_experiment(experiment_id)
    page = summaries.runs_page(
        store, experiment_id, filter, order_by or None, page_token or None, max_results, view
    )
    return MlflowJSONResponse(page)


@router.get(f"{UI_API}/metric-series")
def metric_series(
    store: StoreDep,
    run_id: Annotated[str, Query(max_length=64)],
    key: Annotated[str, Query(max_length=250)],
    x: Annotated[str, Query(max_length=16)] = "step",
    width: Annotated[int, Query(ge=downsample.MIN_WIDTH, le=downsample.MAX_WIDTH)] = 800,
) -> Response:
    series = downsample.metric_series(store, validate_run_id(run_id), key, x, width)
    return MlflowJSONResponse(series.to_json())


def _run_root(request: Request, store, run_id: str) -> tuple[Any, str, Any]:
    """(the artifact destination, the run's folder in it, the run)."""
    run = _run(store, run_id)
    destination = request.app.state.artifacts
    return destination, artifacts.artifact_root(destination, run.info.artifact_uri), run


@router.get(f"{UI_API}/artifacts/list")
def list_artifacts(
    request: Request,
    store: StoreDep,
    run_id: Annotated[str, Query(max_length=64)],
    path: Annotated[str, Query(max_length=4000)] = "",
) -> Response:
    destination, root, _run_obj = _run_root(request, store, run_id)
    try:
        files = artifacts.list_files(destination, root, path)
    except OSError as exc:
        raise InvalidParameterError(f"Cannot list {path or 'the artifact root'!r}: {exc}") from exc
    return MlflowJSONResponse({"path": path, "files": files})


def _content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    if not guessed:
        return "application/octet-stream"
    if guessed in _ACTIVE_CONTENT:
        return "text/plain; charset=utf-8"
    if guessed.startswith("text/"):
        return f"{guessed}; charset=utf-8"
    return guessed


@router.get(f"{UI_API}/artifacts/file")
async def artifact_file(
    request: Request,
    store: StoreDep,
    run_id: Annotated[str, Query(max_length=64)],
    path: Annotated[str, Query(max_length=4000)],
    limit: Annotated[int, Query(ge=1, le=artifacts.PREVIEW_LIMIT_BYTES)] = (
        artifacts.PREVIEW_LIMIT_BYTES
    ),
) -> Response:
    """The first `limit` bytes of one file (previews never need more); the header
    `X-Flightlog-Truncated: 1` says when the file is longer."""

    def read() -> tuple[bytes, bool]:
        destination, root, _run_obj = _run_root(request, store, run_id)
        try:
            return artifacts.read_bytes(destination, root, path, limit)
        except IsADirectoryError as exc:
            raise InvalidParameterError(f"{path!r} is a folder") from exc
        except FileNotFoundError as exc:
            raise ResourceNotFoundError(f"Artifact {path!r} does not exist") from exc

    data, truncated = await run_in_threadpool(read)
    headers = dict(_INERT_HEADERS)
    headers["X-Flightlog-Truncated"] = "1" if truncated else "0"
    return Response(data, media_type=_content_type(path), headers=headers)


@router.get(f"{UI_API}/artifacts/download")
def download_artifact(
    request: Request,
    store: StoreDep,
    run_id: Annotated[str, Query(max_length=64)],
    path: Annotated[str, Query(max_length=4000)],
) -> Response:
    """The whole file, as an attachment."""
    import posixpath
    import shutil

    from starlette.background import BackgroundTask
    from starlette.responses import FileResponse

    from flightlog.server.artifact_store import safe_artifact_path

    destination, root, _run_obj = _run_root(request, store, run_id)
    rel = safe_artifact_path(path)
    if not rel:
        raise InvalidParameterError("Name a file to download, not the artifact root")
    local, cleanup = destination.fetch(posixpath.join(root, rel) if root else rel)
    task = BackgroundTask(shutil.rmtree, cleanup, True) if cleanup else None
    return FileResponse(
        local,
        media_type=_content_type(rel),
        filename=posixpath.basename(rel),
        headers=_INERT_HEADERS,
        background=task,
    )


@dataclass
class _ModelLocation:
    """A model the UI can show and register: a folder of a run's artifacts (flightlog's and
    MLflow 2's `log_model`), or an MLflow 3 logged model (its own artifact location)."""

    destination: Any
    root: str
    path: str
    source: str
    run_id: str | None
    model_id: str | None = None

    def matches(self, version: Any) -> bool:
        if self.model_id is not None:
            return version.model_id == self.model_id
        return (version.source or "").rstrip("/") == self.source


def _model_location(
    request: Request, store, run_id: str | None, path: str, model_id: str | None
) -> _ModelLocation:
    from flightlog.server.artifact_store import safe_artifact_path

    destination = request.app.state.artifacts
    if model_id:
        logged = store.get_logged_model(model_id)
        root = artifacts.artifact_root(destination, logged.artifact_location)
        return _ModelLocation(
            destination, root, "", f"models:/{logged.model_id}", logged.source_run_id, model_id
        )
    if not run_id:
        raise InvalidParameterError("Name the model: a run_id and path, or a model_id")
    destination, root, run = _run_root(request, store, run_id)
    rel = safe_artifact_path(path)
    return _ModelLocation(
        destination, root, rel, _model_source(run.info.artifact_uri, rel), run.info.run_id
    )


@router.get(f"{UI_API}/artifacts/model")
def artifact_model(
    request: Request,
    store: StoreDep,
    run_id: Annotated[str, Query(max_length=64)] = "",
    path: Annotated[str, Query(max_length=4000)] = "",
    model_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    where = _model_location(request, store, run_id, path, model_id or None)
    info = artifacts.model_info(where.destination, where.root, where.path)
    info["model_id"] = where.model_id
    info["registered"] = []
    if where.run_id:
        try:
            versions = store.search_model_versions(f"run_id = '{where.run_id}'", max_results=1000)
            info["registered"] = [
                {"name": mv.name, "version": mv.version} for mv in versions if where.matches(mv)
            ]
        except (NotImplementedError, InvalidParameterError):
            pass
    return MlflowJSONResponse(info)


def _model_source(artifact_uri: str, rel: str) -> str:
    root = artifact_uri.rstrip("/")
    return f"{root}/{rel}" if rel else root


class RegisterModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The model: a folder of a run's artifacts (run_id + path), or an MLflow 3 logged model.
    run_id: Text | None = None
    path: Text = ""
    model_id: Annotated[str, Field(max_length=64)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=1000)]
    # True: create `name` (it must not exist yet); False: a new version of existing `name`.
    create: bool = True
    description: Text | None = None


@router.post(f"{UI_API}/register-model")
def register_model(request: Request, body: RegisterModelRequest, store: StoreDep) -> Response:
    where = _model_location(request, store, body.run_id, body.path, body.model_id)
    artifacts.model_info(where.destination, where.root, where.path)  # a model must be there
    name = body.name.strip()
    if not name:
        raise InvalidParameterError("The registered model name must not be blank")
    if body.create:
        try:
            store.create_registered_model(name)
        except (RegisteredModelAlreadyExistsError, ResourceAlreadyExistsError) as exc:
            raise RegisteredModelAlreadyExistsError(
                f"A registered model named {name!r} already exists; register this model as a "
                "new version of it instead"
            ) from exc
    else:
        store.get_registered_model(name)  # 404 with a clear message when it does not exist
    version = store.create_model_version(
        name,
        where.source,
        run_id=where.run_id,
        description=body.description or None,
        model_id=where.model_id,
    )
    return MlflowJSONResponse({"name": version.name, "version": str(version.version)})
