"""MLflow REST API 2.0, model registry and logged-model parts.

- registered-models/* and model-versions/* (MLflow's model_registry.proto), under both
  /api/2.0/mlflow and the older /api/2.0/preview/mlflow prefix;
- logged-models/* and runs/outputs (MLflow 3's service.proto), which the official client calls
  when `mlflow.<flavor>.log_model(...)` logs into this server.

GET endpoints take query parameters (and POST bodies where MLflow's client posts); DELETE and
PATCH take JSON bodies, as MLflow's client sends them. Everything goes through the store's
registry methods (flightlog.store.registry_base).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.responses import Response

from flightlog.entities import LoggedModel, ModelVersion, RegisteredModel, RunTag
from flightlog.server import schemas as s
from flightlog.server import wire
from flightlog.server.deps import StoreDep
from flightlog.server.wire import MlflowJSONResponse

PREFIXES = ("/api/2.0/mlflow", "/api/2.0/preview/mlflow")
API = PREFIXES[0]
router = APIRouter(tags=["model registry"])

Version = Annotated[str | int, Field(union_mode="left_to_right")]


def _route(method: str, path: str, **kwargs: Any) -> Callable:
    """Register one handler under every registry prefix (the first one is documented)."""

    def register(fn: Callable) -> Callable:
        for i, prefix in enumerate(PREFIXES):
            router.add_api_route(
                prefix + path, fn, methods=[method], include_in_schema=i == 0, **kwargs
            )
        return fn

    return register


def _tags(items: list[s.KeyValue]) -> list[RunTag]:
    return [RunTag(t.key, t.value) for t in items]


def _mv(mv: ModelVersion) -> Response:
    return MlflowJSONResponse({"model_version": mv.to_dict()})


def _rm(rm: RegisteredModel) -> Response:
    return MlflowJSONResponse({"registered_model": rm.to_dict()})


def _paged(name: str, items: list, token: str | None) -> Response:
    body: dict[str, Any] = {name: items}
    if token:
        body["next_page_token"] = token
    return MlflowJSONResponse(body)


# --- request bodies ----------------------------------------------------------------------------
class NameRef(s._Model):
    name: s.Text


class CreateRegisteredModel(NameRef):
    tags: list[s.KeyValue] = []
    description: s.Text | None = None


class RenameRegisteredModel(NameRef):
    new_name: s.Text


class UpdateDescription(NameRef):
    description: s.Text | None = None


class SearchRequest(s._Model):
    filter: s.Text | None = None
    max_results: Annotated[int, Field(ge=1, le=s.MAX_RESULTS_LIMIT)] | None = None
    order_by: list[s.Text] = []
    page_token: s.Text | None = None


class LatestVersionsRequest(NameRef):
    stages: list[s.Text] = []


class TagRequest(NameRef):
    key: s.Text
    value: s.Text = ""


class TagKeyRequest(NameRef):
    key: s.Text


class AliasRequest(NameRef):
    alias: s.Text
    version: Version


class AliasRef(NameRef):
    alias: s.Text


class CreateModelVersion(NameRef):
    source: s.Text
    run_id: s.Text | None = None
    tags: list[s.KeyValue] = []
    run_link: s.Text | None = None
    description: s.Text | None = None
    model_id: s.Text | None = None


class VersionRef(NameRef):
    version: Version


class UpdateModelVersion(VersionRef):
    description: s.Text | None = None


class TransitionStage(VersionRef):
    stage: s.Text
    archive_existing_versions: bool = False


class VersionTagRequest(VersionRef):
    key: s.Text
    value: s.Text = ""


class VersionTagKey(VersionRef):
    key: s.Text


# --- registered models -------------------------------------------------------------------------
@_route("POST", "/registered-models/create")
def create_registered_model(body: CreateRegisteredModel, store: StoreDep) -> Response:
    return _rm(store.create_registered_model(body.name, _tags(body.tags), body.description))


@_route("GET", "/registered-models/get")
def get_registered_model(ref: Annotated[NameRef, Query()], store: StoreDep) -> Response:
    return _rm(store.get_registered_model(ref.name))


@_route("POST", "/registered-models/rename")
def rename_registered_model(body: RenameRegisteredModel, store: StoreDep) -> Response:
    return _rm(store.rename_registered_model(body.name, body.new_name))


@_route("PATCH", "/registered-models/update")
def update_registered_model(body: UpdateDescription, store: StoreDep) -> Response:
    return _rm(store.update_registered_model(body.name, body.description))


@_route("DELETE", "/registered-models/delete")
def delete_registered_model(body: NameRef, store: StoreDep) -> Response:
    store.delete_registered_model(body.name)
    return wire.empty()


@_route("GET", "/registered-models/search")
def search_registered_models(req: Annotated[SearchRequest, Query()], store: StoreDep) -> Response:
    page = store.search_registered_models(
        req.filter or None, req.max_results or 100, req.order_by or None, req.page_token or None
    )
    return _paged("registered_models", [m.to_dict() for m in page], page.token)


def _latest(req: LatestVersionsRequest, store) -> Response:
    versions = store.get_latest_versions(req.name, req.stages or None)
    return MlflowJSONResponse({"model_versions": [mv.to_dict() for mv in versions]})


@_route("POST", "/registered-models/get-latest-versions")
def get_latest_versions(body: LatestVersionsRequest, store: StoreDep) -> Response:
    return _latest(body, store)


@_route("GET", "/registered-models/get-latest-versions")
def get_latest_versions_get(
    req: Annotated[LatestVersionsRequest, Query()], store: StoreDep
) -> Response:
    return _latest(req, store)


@_route("POST", "/registered-models/set-tag")
def set_registered_model_tag(body: TagRequest, store: StoreDep) -> Response:
    store.set_registered_model_tag(body.name, RunTag(body.key, body.value))
    return wire.empty()


@_route("DELETE", "/registered-models/delete-tag")
def delete_registered_model_tag(body: TagKeyRequest, store: StoreDep) -> Response:
    store.delete_registered_model_tag(body.name, body.key)
    return wire.empty()


@_route("POST", "/registered-models/alias")
def set_registered_model_alias(body: AliasRequest, store: StoreDep) -> Response:
    store.set_registered_model_alias(body.name, body.alias, body.version)
    return wire.empty()


@_route("DELETE", "/registered-models/alias")
def delete_registered_model_alias(body: AliasRef, store: StoreDep) -> Response:
    store.delete_registered_model_alias(body.name, body.alias)
    return wire.empty()


@_route("GET", "/registered-models/alias")
def get_model_version_by_alias(ref: Annotated[AliasRef, Query()], store: StoreDep) -> Response:
    return _mv(store.get_model_version_by_alias(ref.name, ref.alias))


# --- model versions ----------------------------------------------------------------------------
@_route("POST", "/model-versions/create")
def create_model_version(body: CreateModelVersion, store: StoreDep) -> Response:
    from flightlog.server.version_source import check_version_source

    check_version_source(store, body.source, body.run_id or None, body.model_id or None)
    mv = store.create_model_version(
        body.name,
        body.source,
        run_id=body.run_id or None,
        tags=_tags(body.tags),
        run_link=body.run_link or None,
        description=body.description,
        model_id=body.model_id or None,
    )
    if body.model_id:
        _note_version_on_logged_model(store, body.model_id, mv)
    return _mv(mv)


MODEL_VERSIONS_TAG = "mlflow.modelVersions"


def _note_version_on_logged_model(store, model_id: str, mv: ModelVersion) -> None:
    """MLflow's server lists a logged model's registered versions in its `mlflow.modelVersions`
    tag (a JSON list of {"name", "version"}); the web app and MLflow's tests read it."""
    import json

    model = store.get_logged_model(model_id)
    entry = {"name": mv.name, "version": str(mv.version)}
    try:
        listed = json.loads(model.tags.get(MODEL_VERSIONS_TAG) or "[]")
    except ValueError:
        listed = []
    if not isinstance(listed, list):
        listed = []
    if entry not in listed:
        listed.append(entry)
        store.set_logged_model_tags(model_id, [RunTag(MODEL_VERSIONS_TAG, json.dumps(listed))])


@_route("GET", "/model-versions/get")
def get_model_version(ref: Annotated[VersionRef, Query()], store: StoreDep) -> Response:
    return _mv(store.get_model_version(ref.name, ref.version))


@_route("PATCH", "/model-versions/update")
def update_model_version(body: UpdateModelVersion, store: StoreDep) -> Response:
    return _mv(store.update_model_version(body.name, body.version, body.description))


@_route("POST", "/model-versions/transition-stage")
def transition_stage(body: TransitionStage, store: StoreDep) -> Response:
    mv = store.transition_model_version_stage(
        body.name, body.version, body.stage, body.archive_existing_versions
    )
    return _mv(mv)


@_route("DELETE", "/model-versions/delete")
def delete_model_version(body: VersionRef, store: StoreDep) -> Response:
    store.delete_model_version(body.name, body.version)
    return wire.empty()


@_route("GET", "/model-versions/search")
def search_model_versions(req: Annotated[SearchRequest, Query()], store: StoreDep) -> Response:
    page = store.search_model_versions(
        req.filter or None, req.max_results or 10_000, req.order_by or None, req.page_token or None
    )
    return _paged("model_versions", [mv.to_dict() for mv in page], page.token)


@_route("GET", "/model-versions/get-download-uri")
def get_download_uri(ref: Annotated[VersionRef, Query()], store: StoreDep) -> Response:
    uri = store.get_model_version_download_uri(ref.name, ref.version)
    return MlflowJSONResponse({"artifact_uri": uri})


@_route("POST", "/model-versions/set-tag")
def set_model_version_tag(body: VersionTagRequest, store: StoreDep) -> Response:
    store.set_model_version_tag(body.name, body.version, RunTag(body.key, body.value))
    return wire.empty()


@_route("DELETE", "/model-versions/delete-tag")
def delete_model_version_tag(body: VersionTagKey, store: StoreDep) -> Response:
    store.delete_model_version_tag(body.name, body.version, body.key)
    return wire.empty()


# --- MLflow 3 logged models --------------------------------------------------------------------
class CreateLoggedModel(s._Model):
    experiment_id: s.Id
    name: s.Text | None = None
    model_type: s.Text | None = None
    source_run_id: s.Text | None = None
    params: list[s.KeyValue] = []
    tags: list[s.KeyValue] = []


class FinalizeLoggedModel(s._Model):
    model_id: s.Text | None = None
    status: s.Text | int


class LoggedModelTags(s._Model):
    tags: list[s.KeyValue] = []


class LoggedModelParams(s._Model):
    params: list[s.KeyValue] = []


class OrderByField(s._Model):
    field_name: s.Text
    ascending: bool = True


class SearchLoggedModels(s._Model):
    experiment_ids: list[s.Id] = []
    filter: s.Text | None = None
    max_results: Annotated[int, Field(ge=1, le=s.MAX_RESULTS_LIMIT)] | None = None
    order_by: list[OrderByField] = []
    page_token: s.Text | None = None


class ModelOutputIn(s._Model):
    model_id: s.Text
    step: int = 0


class LogOutputs(s._Model):
    run_id: s.Text
    models: list[ModelOutputIn] = []


def _lm(model: LoggedModel) -> Response:
    return MlflowJSONResponse({"model": model.to_dict()})


@router.post(f"{API}/logged-models")
def create_logged_model(body: CreateLoggedModel, store: StoreDep) -> Response:
    model = store.create_logged_model(
        str(body.experiment_id),
        name=body.name or None,
        source_run_id=body.source_run_id or None,
        tags=_tags(body.tags),
        params=_tags(body.params),
        model_type=body.model_type or None,
    )
    return _lm(model)


@router.post(f"{API}/logged-models/search")
def search_logged_models(body: SearchLoggedModels, store: StoreDep) -> Response:
    page = store.search_logged_models(
        [str(e) for e in body.experiment_ids],
        body.filter or None,
        body.max_results or 100,
        [o.model_dump() for o in body.order_by] or None,
        body.page_token or None,
    )
    return _paged("models", [m.to_dict() for m in page], page.token)


@router.get(f"{API}/logged-models/{{model_id}}")
def get_logged_model(model_id: str, store: StoreDep) -> Response:
    return _lm(store.get_logged_model(model_id))


@router.patch(f"{API}/logged-models/{{model_id}}")
def finalize_logged_model(model_id: str, body: FinalizeLoggedModel, store: StoreDep) -> Response:
    return _lm(store.finalize_logged_model(model_id, body.status))


@router.delete(f"{API}/logged-models/{{model_id}}")
def delete_logged_model(model_id: str, store: StoreDep) -> Response:
    store.delete_logged_model(model_id)
    return wire.empty()


@router.patch(f"{API}/logged-models/{{model_id}}/tags")
def set_logged_model_tags(model_id: str, body: LoggedModelTags, store: StoreDep) -> Response:
    store.set_logged_model_tags(model_id, _tags(body.tags))
    return _lm(store.get_logged_model(model_id))


@router.delete(f"{API}/logged-models/{{model_id}}/tags/{{tag_key:path}}")
def delete_logged_model_tag(model_id: str, tag_key: str, store: StoreDep) -> Response:
    store.delete_logged_model_tag(model_id, tag_key)
    return wire.empty()


@router.post(f"{API}/logged-models/{{model_id}}/params")
def log_logged_model_params(model_id: str, body: LoggedModelParams, store: StoreDep) -> Response:
    store.log_logged_model_params(model_id, _tags(body.params))
    return wire.empty()


@router.post(f"{API}/runs/outputs")
def log_outputs(body: LogOutputs, store: StoreDep) -> Response:
    store.log_outputs(body.run_id, [(m.model_id, m.step) for m in body.models])
    return wire.empty()
