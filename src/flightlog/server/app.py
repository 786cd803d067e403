"""The server's ASGI app.

`create_app(settings)` builds it; `create_app_from_env()` is the factory uvicorn workers import.
Routes come from ROUTER_MODULES: each module has a `router` (a FastAPI APIRouter) and may have a
`setup(app)` function (for mounting static files and the like), run after its router is
included. Adding an area of the API is one line here; the web UI, which serves "/", goes last.
"""

from __future__ import annotations

import gc
import importlib
from contextlib import asynccontextmanager

from fastapi import FastAPI

from flightlog.server.settings import PROXIED_ARTIFACT_ROOT, ServerSettings
from flightlog.store.base import AbstractStore

ROUTER_MODULES: list[str] = [
    "flightlog.server.api_meta",
    "flightlog.server.api_tracking",
    "flightlog.server.api_artifacts",
    "flightlog.server.api_registry",
    "flightlog.server.api_extras",
    # The web UI goes last: it mounts "/" and its static files.
    "flightlog.server.ui",
]


def build_store(settings: ServerSettings) -> AbstractStore:
    """The tracking store; new experiments get proxied (`mlflow-artifacts:/<id>`) locations.
    Statements of server requests on PostgreSQL/MySQL are cut off at the statement timeout."""
    from flightlog.store.sql import SqlStore

    return SqlStore(
        settings.backend_store_uri,
        default_artifact_root=PROXIED_ARTIFACT_ROOT,
        statement_timeout_s=settings.statement_timeout_s,
    )


def create_app(settings: ServerSettings, store: AbstractStore | None = None) -> FastAPI:
    from flightlog import __version__
    from flightlog.server.artifact_store import ArtifactDestination
    from flightlog.server.auth import SessionStore, TokenAuthMiddleware
    from flightlog.server.errors import UnhandledErrorMiddleware, install_error_handlers
    from flightlog.server.guard import RequestGuardMiddleware, default_allowed_hosts
    from flightlog.server.limits import BodySizeLimitMiddleware

    tracking_store = store if store is not None else build_store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Everything alive now (modules, the app, the store) lives as long as the process: keep
        # it out of the garbage collector's full scans, which otherwise cost milliseconds per
        # log-batch request (each one allocates thousands of short-lived objects).
        gc.collect()
        gc.freeze()
        _start_upload_sweep(_app.state.artifacts)
        yield
        tracking_store.close()

    app = FastAPI(
        title="flightlog",
        version=__version__,
        description="MLflow REST API 2.0 compatible tracking server.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = tracking_store
    app.state.artifacts = ArtifactDestination(settings.artifacts_destination)
    app.state.sessions = SessionStore(settings.session_dir)

    install_error_handlers(app)
    documented = []
    for module_name in ROUTER_MODULES:
        module = importlib.import_module(module_name)
        app.include_router(module.router)
        documented += getattr(module, "OPENAPI_MODELS", [])
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app)
    _document_models(app, documented)

    # Added first = innermost: an error no handler claims still leaves a reusable connection.
    app.add_middleware(UnhandledErrorMiddleware)
    # Added last = runs first: authentication before anything reads the body.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_json_bytes=settings.max_json_bytes,
        max_artifact_bytes=settings.max_artifact_bytes,
    )
    if settings.auth_token:
        app.add_middleware(
            TokenAuthMiddleware, token=settings.auth_token, sessions=app.state.sessions
        )
    # Outermost: a request for another site's name, or a cross-origin write, is refused before
    # authentication or any handler sees it (flightlog.server.guard).
    app.add_middleware(
        RequestGuardMiddleware,
        allowed_hosts=default_allowed_hosts(settings.bind_host) + settings.allowed_hosts,
        cors_allowed_origins=settings.cors_allowed_origins,
    )
    return app


def _start_upload_sweep(destination) -> None:
    """Remove upload temp files a killed server left in the local artifact root, in the
    background (a large tree takes a while to walk; requests are served meanwhile)."""
    if destination.local_root is None:
        return
    import logging
    import threading

    from flightlog.server.artifact_store import sweep_stale_uploads

    def sweep() -> None:
        try:
            removed = sweep_stale_uploads(destination.local_root)
        except OSError as exc:
            logging.getLogger("flightlog.server").warning("upload temp sweep failed: %s", exc)
            return
        if removed:
            logging.getLogger("flightlog.server").info(
                "removed %d abandoned upload temp file(s) under %s", removed, destination.local_root
            )

    threading.Thread(target=sweep, name="flightlog-upload-sweep", daemon=True).start()


def _document_models(app: FastAPI, models: list) -> None:
    """Add request models that handlers parse themselves (no FastAPI body parameter) to the
    OpenAPI components, where their routes' `openapi_extra` points."""
    if not models:
        return
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(model_schema.pop("$defs", {}))
            components[model.__name__] = model_schema
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def create_app_from_env() -> FastAPI:
    """The factory each uvicorn worker calls (settings travel in FLIGHTLOG_SERVER_* variables)."""
    return create_app(ServerSettings.from_env())
