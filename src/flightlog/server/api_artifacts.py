"""The artifact proxy (MLflow's `mlflow-artifacts` API) and `artifacts/list` for runs.

- `PUT    /api/2.0/mlflow-artifacts/artifacts/<path>`   upload one file (the raw body);
- `GET    /api/2.0/mlflow-artifacts/artifacts/<path>`   download it;
- `GET    /api/2.0/mlflow-artifacts/artifacts?path=<p>` list a folder's direct children;
- `DELETE /api/2.0/mlflow-artifacts/artifacts/<path>`   delete a file or folder;
- `GET    /api/2.0/mlflow/artifacts/list?run_id=&path=` list a run's artifacts.

Paths are relative to `--artifacts-destination`; a run's files live under
`<experiment_id>/<run_id>/artifacts/`, the path its `mlflow-artifacts:/...` URI names.
"""

from __future__ import annotations

import mimetypes
import posixpath
import shutil
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Query, Request
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from flightlog.exceptions import InvalidParameterError
from flightlog.server import schemas as s
from flightlog.server import wire
from flightlog.server.artifact_store import (
    ArtifactDestination,
    client_os_error,
    safe_artifact_path,
)
from flightlog.server.deps import StoreDep
from flightlog.server.wire import MlflowJSONResponse

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
router = APIRouter(tags=["artifacts"])

# Served as text so a browser never runs an uploaded page or script from this origin.
_ACTIVE_CONTENT = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/javascript",
    "text/javascript",
    "application/xml",
    "text/xml",
}

_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _destination(request: Request) -> ArtifactDestination:
    return request.app.state.artifacts


# Served as text/plain, as MLflow's server does: text formats by extension, and the
# extensionless MLmodel / MLproject files (MLflow's clients and web app read them as text).
_TEXT_EXTENSIONS = frozenset(
    [
        "txt",
        "log",
        "err",
        "cfg",
        "conf",
        "cnf",
        "cf",
        "ini",
        "properties",
        "prop",
        "hocon",
        "toml",
        "yaml",
        "yml",
        "xml",
        "json",
        "js",
        "py",
        "py3",
        "csv",
        "tsv",
        "md",
        "rst",
        "ipynb",
    ]
)
_TEXT_NAMES = frozenset({"MLmodel", "MLproject"})
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def _content_type(name: str) -> str:
    extension = posixpath.splitext(name)[1].lstrip(".")
    if name in _TEXT_NAMES or extension.lower() in _TEXT_EXTENSIONS:
        return "text/plain"
    guessed, _ = mimetypes.guess_type(name)
    if not guessed:
        return "application/octet-stream"
    return "text/plain" if guessed in _ACTIVE_CONTENT else guessed


def content_disposition(filename: str) -> str:
    """`attachment` with the file's name (RFC 6266; RFC 5987 `filename*` for non-ASCII), so a
    browser saves an artifact instead of showing it on this origin."""
    from urllib.parse import quote

    def quoted(text: str) -> str:
        if text and set(text) <= _TOKEN_CHARS:  # a plain token goes unquoted, as MLflow's does
            return text
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        import unicodedata

        fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
        encoded = quote(filename, safe="!#$&+-.^_`|~")
        return f"attachment; filename={quoted(fallback or 'download')}; filename*=UTF-8''{encoded}"
    return f"attachment; filename={quoted(filename)}"


@router.put(f"{ARTIFACTS_API}/{{artifact_path:path}}", openapi_extra=_BINARY_BODY)
async def upload_artifact(artifact_path: str, request: Request) -> Response:
    rel = safe_artifact_path(artifact_path)
    dest = _destination(request)
    try:
        temp, final = await run_in_threadpool(dest.begin_upload, rel)
        f = await run_in_threadpool(open, temp, "wb")
    except OSError as exc:
        raise client_os_error(exc, rel) from exc
    try:
        try:
            async for chunk in request.stream():
                if chunk:
                    await run_in_threadpool(f.write, chunk)
        finally:
            f.close()
        await run_in_threadpool(dest.finish_upload, temp, final, rel)
    except OSError as exc:
        dest.abort_upload(temp)
        raise client_os_error(exc, rel) from exc
    except BaseException:
        dest.abort_upload(temp)
        raise
    return wire.empty()


@router.get(f"{ARTIFACTS_API}/{{artifact_path:path}}")
def download_artifact(artifact_path: str, request: Request) -> Response:
    return send_artifact(_destination(request), safe_artifact_path(artifact_path))


def send_artifact(destination: ArtifactDestination, rel: str) -> Response:
    """One file as a download: the type MLflow's server gives it (active content as text), and
    `Content-Disposition: attachment` so a browser never renders it on this origin."""
    try:
        path, cleanup_dir = destination.fetch(rel)
    except OSError as exc:
        raise client_os_error(exc, rel) from exc
    task = BackgroundTask(shutil.rmtree, cleanup_dir, True) if cleanup_dir else None
    return FileResponse(
        path,
        media_type=_content_type(path.name),
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": content_disposition(posixpath.basename(rel)),
        },
        background=task,
    )


def locate(request: Request, root_uri: str, rel: str = "") -> tuple[ArtifactDestination, str]:
    """Where the artifact `rel` under an entity's artifact root lives, for this server to read:
    the proxy's destination for `mlflow-artifacts:` roots, the root itself for one under the
    server's --default-artifact-root. Any other root (a client may name any location for its
    experiment) is the client's to read directly: serving it would let a caller read any path
    the server can."""
    rel = safe_artifact_path(rel)
    root = proxied_root(root_uri)
    if root is not None:
        return _destination(request), posixpath.join(root, rel) if rel else root
    served = getattr(request.app.state, "served_roots", {})
    for prefix, destination in served.items():
        if root_uri == prefix or root_uri.startswith(prefix.rstrip("/") + "/"):
            below = safe_artifact_path(root_uri[len(prefix) :].strip("/"))
            joined = posixpath.join(below, rel) if below and rel else below or rel
            return destination, joined
    raise InvalidParameterError(
        f"The artifacts are at {root_uri!r}, which this server does not proxy; "
        "read them from there directly"
    )


def list_under(request: Request, root_uri: str, rel: str) -> list[dict]:
    """The direct children of `rel` under an artifact root, each with its path from the root
    (MLflow's artifacts/list answer)."""
    destination, where = locate(request, root_uri, rel)
    rel = safe_artifact_path(rel)
    try:
        files = destination.list(where)
    except OSError as exc:
        raise client_os_error(exc, rel) from exc
    return [
        {**wire.file_info(f), "path": posixpath.join(rel, f.path) if rel else f.path} for f in files
    ]


@router.get(ARTIFACTS_API)
def list_proxied_artifacts(
    req: Annotated[s.ListProxiedArtifactsRequest, Query()], request: Request
) -> Response:
    rel = safe_artifact_path(req.path)
    try:
        files = _destination(request).list(rel)
    except OSError as exc:
        raise client_os_error(exc, rel) from exc
    return MlflowJSONResponse({"files": [wire.file_info(f) for f in files]})


@router.delete(f"{ARTIFACTS_API}/{{artifact_path:path}}")
def delete_artifact(artifact_path: str, request: Request) -> Response:
    rel = safe_artifact_path(artifact_path)
    try:
        _destination(request).delete(rel)
    except OSError as exc:
        raise client_os_error(exc, rel) from exc
    return wire.empty()


def proxied_root(artifact_uri: str) -> str | None:
    """The destination-relative folder behind a run's proxied artifact URI, else None."""
    parsed = urlparse(artifact_uri)
    if parsed.scheme == "mlflow-artifacts":
        return safe_artifact_path(parsed.path.strip("/"))
    if parsed.scheme in ("http", "https"):
        _head, sep, tail = parsed.path.partition(ARTIFACTS_API)
        if sep:
            return safe_artifact_path(tail.strip("/"))
    return None


@router.get("/api/2.0/mlflow/artifacts/list")
def list_run_artifacts(
    req: Annotated[s.ListArtifactsRequest, Query()], request: Request, store: StoreDep
) -> Response:
    run_id = req.run_id or req.run_uuid
    if not run_id:
        raise InvalidParameterError("Missing value for required parameter 'run_id'.")
    from flightlog.validation import validate_run_id

    run = store.get_run(validate_run_id(run_id))
    root_uri = run.info.artifact_uri
    return MlflowJSONResponse(
        {"root_uri": root_uri, "files": list_under(request, root_uri, req.path)}
    )
