"""Health, version and capability endpoints."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from flightlog.server.errors import redact_uri_passwords
from flightlog.server.wire import MlflowJSONResponse

router = APIRouter(tags=["server"])
log = logging.getLogger("flightlog.server")


@router.get("/health", response_class=PlainTextResponse)
async def health(request: Request) -> Response:
    """Open even when a token is required: for load balancers and start-up probes. "OK" means
    the database answered a query on this flightlog's schema just now; otherwise 503."""
    store = request.app.state.store
    check = getattr(store, "check_health", None)
    if check is not None:
        try:
            await run_in_threadpool(check)
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
            log.warning("health check failed: %s", exc)
            reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            return PlainTextResponse(
                f"UNHEALTHY: {redact_uri_passwords(reason)}"[:2000], status_code=503
            )
    return PlainTextResponse("OK")


@router.get("/version", response_class=PlainTextResponse)
async def version() -> Response:
    from flightlog import __version__

    return PlainTextResponse(__version__)


@router.get("/api/3.0/mlflow/server-info")
async def server_info() -> Response:
    """What MLflow 3 clients probe before choosing an artifact transfer method: plain proxied
    uploads and downloads, no workspaces, no multipart."""
    return MlflowJSONResponse(
        {
            "store_type": "SqlStore",
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "features_enabled": {"gateway": False},
        }
    )
