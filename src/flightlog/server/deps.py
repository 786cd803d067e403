"""What route handlers get from the app: the tracking store and the settings.

Routers added by other modules (model registry, web UI) use these same dependencies:

    from flightlog.server.deps import StoreDep

    @router.get("/api/2.0/mlflow/registered-models/get")
    def get_registered_model(store: StoreDep, ...): ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from flightlog.server.settings import ServerSettings
from flightlog.store.base import AbstractStore


# Async on purpose: FastAPI runs plain-def dependencies in its thread pool, an extra hop per
# request for what is an attribute read.
async def get_tracking_store(request: Request) -> AbstractStore:
    return request.app.state.store


async def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


StoreDep = Annotated[AbstractStore, Depends(get_tracking_store)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
