"""Health, version and capability endpoints."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import PlainTextResponse, Response

from flightlog.server.wire import MlflowJSONResponse

router = APIRouter(tags=["server"])


@router.get("/health", response_class=PlainTextResponse)
async def health() -> Response:
    """Open even when a token is required: for load balancers and start-up probes."""
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
