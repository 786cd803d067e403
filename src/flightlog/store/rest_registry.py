"""The model registry and logged models over MLflow's REST API (a mixin RestStore inherits).

Works against `flightlog server` and `mlflow server` alike: the endpoints and JSON are MLflow's
(registered-models/*, model-versions/*, logged-models/*, runs/outputs).

Creating a model version or a logged model is not idempotent, so those requests are not resent
when a connection drops after sending: the error says the outcome is unknown instead of risking
a second version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flightlog.entities import (
    LoggedModel,
    LoggedModelStatus,
    ModelVersion,
    PagedList,
    RegisteredModel,
    RunTag,
)
from flightlog.exceptions import (
    InvalidParameterError,
    LoggedModelNotFoundError,
    ModelVersionNotFoundError,
    RegisteredModelAlreadyExistsError,
    RegisteredModelNotFoundError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
)
from flightlog.store.registry_base import RegistryStore
from flightlog.store.registry_validation import validate_model_name

API = "/api/2.0/mlflow"


def _pairs(tags: Sequence[RunTag]) -> list[dict[str, str]]:
    return [{"key": t.key, "value": str(t.value)} for t in tags or ()]


class RestRegistryMixin(RegistryStore):
    """Needs `self.client` (flightlog.rest_client.RestClient)."""

    client: Any

    def _call(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        not_found: type = ResourceNotFoundError,
        retry_ambiguous: bool = True,
    ) -> dict[str, Any]:
        try:
            return self.client.call(
                method, API + endpoint, body, params=params, retry_ambiguous=retry_ambiguous
            )
        except ResourceNotFoundError as exc:
            if isinstance(exc, not_found):
                raise
            raise not_found(exc.message) from None

    # --- registered models ---------------------------------------------------------------
    def create_registered_model(
        self, name: str, tags: Sequence[RunTag] = (), description: str | None = None
    ) -> RegisteredModel:
        validate_model_name(name)
        body: dict[str, Any] = {"name": name, "tags": _pairs(tags)}
        if description is not None:
            body["description"] = description
        try:
            reply = self._call("POST", "/registered-models/create", body)
        except ResourceAlreadyExistsError as exc:
            raise RegisteredModelAlreadyExistsError(exc.message) from None
        return RegisteredModel.from_dict(reply["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        reply = self._call(
            "GET",
            "/registered-models/get",
            params={"name": name},
            not_found=RegisteredModelNotFoundError,
        )
        return RegisteredModel.from_dict(reply["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        validate_model_name(new_name)
        reply = self._call(
            "POST",
            "/registered-models/rename",
            {"name": name, "new_name": new_name},
            not_found=RegisteredModelNotFoundError,
        )
        return RegisteredModel.from_dict(reply["registered_model"])

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        reply = self._call(
            "PATCH",
            "/registered-models/update",
            {"name": name, "description": description or ""},
            not_found=RegisteredModelNotFoundError,
        )
        return RegisteredModel.from_dict(reply["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        self._call(
            "DELETE",
            "/registered-models/delete",
            {"name": name},
            not_found=RegisteredModelNotFoundError,
        )

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        params = _search_params(filter_string, max_results, order_by, page_token)
        reply = self._call("GET", "/registered-models/search", params=params)
        models = [RegisteredModel.from_dict(d) for d in reply.get("registered_models", [])]
        return PagedList(models, reply.get("next_page_token") or None)

    def set_registered_model_tag(self, name: str, tag: RunTag) -> None:
        self._call(
            "POST",
            "/registered-models/set-tag",
            {"name": name, "key": tag.key, "value": str(tag.value)},
            not_found=RegisteredModelNotFoundError,
        )

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call(
            "DELETE",
            "/registered-models/delete-tag",
            {"name": name, "key": key},
            not_found=RegisteredModelNotFoundError,
        )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        reply = self._call(
            "POST",
            "/registered-models/get-latest-versions",
            {"name": name, "stages": list(stages or [])},
            not_found=RegisteredModelNotFoundError,
        )
        return [ModelVersion.from_dict(d) for d in reply.get("model_versions", [])]

    # --- model versions ------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[RunTag] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        user_id: str | None = None,
    ) -> ModelVersion:
        body: dict[str, Any] = {"name": name, "source": source, "tags": _pairs(tags)}
        for key, value in (
            ("run_id", run_id),
            ("run_link", run_link),
            ("description", description),
            ("model_id", model_id),
        ):
            if value:
                body[key] = value
        reply = self._call(
            "POST",
            "/model-versions/create",
            body,
            not_found=RegisteredModelNotFoundError,
            retry_ambiguous=False,
        )
        return ModelVersion.from_dict(reply["model_version"])

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        reply = self._call(
            "GET",
            "/model-versions/get",
            params={"name": name, "version": str(version)},
            not_found=ModelVersionNotFoundError,
        )
        return ModelVersion.from_dict(reply["model_version"])

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        reply = self._call(
            "PATCH",
            "/model-versions/update",
            {"name": name, "version": str(version), "description": description or ""},
            not_found=ModelVersionNotFoundError,
        )
        return ModelVersion.from_dict(reply["model_version"])

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        reply = self._call(
            "POST",
            "/model-versions/transition-stage",
            {
                "name": name,
                "version": str(version),
                "stage": stage,
                "archive_existing_versions": bool(archive_existing_versions),
            },
            not_found=ModelVersionNotFoundError,
        )
        return ModelVersion.from_dict(reply["model_version"])

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._call(
            "DELETE",
            "/model-versions/delete",
            {"name": name, "version": str(version)},
            not_found=ModelVersionNotFoundError,
        )

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        params = _search_params(filter_string, max_results, order_by, page_token)
        reply = self._call("GET", "/model-versions/search", params=params)
        versions = [ModelVersion.from_dict(d) for d in reply.get("model_versions", [])]
        return PagedList(versions, reply.get("next_page_token") or None)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        reply = self._call(
            "GET",
            "/model-versions/get-download-uri",
            params={"name": name, "version": str(version)},
            not_found=ModelVersionNotFoundError,
        )
        return reply["artifact_uri"]

    def set_model_version_tag(self, name: str, version: str | int, tag: RunTag) -> None:
        self._call(
            "POST",
            "/model-versions/set-tag",
            {"name": name, "version": str(version), "key": tag.key, "value": str(tag.value)},
            not_found=ModelVersionNotFoundError,
        )

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._call(
            "DELETE",
            "/model-versions/delete-tag",
            {"name": name, "version": str(version), "key": key},
            not_found=ModelVersionNotFoundError,
        )

    # --- aliases -------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._call(
            "POST",
            "/registered-models/alias",
            {"name": name, "alias": alias, "version": str(version)},
            not_found=ModelVersionNotFoundError,
        )

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._call(
            "DELETE",
            "/registered-models/alias",
            {"name": name, "alias": alias},
            not_found=RegisteredModelNotFoundError,
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        reply = self._call("GET", "/registered-models/alias", params={"name": name, "alias": alias})
        return ModelVersion.from_dict(reply["model_version"])

    # --- MLflow 3 logged models ----------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[RunTag] = (),
        params: Sequence[RunTag] = (),
        model_type: str | None = None,
        artifact_location: str | None = None,
    ) -> LoggedModel:
        # The server chooses the artifact location (MLflow's API has no field for it).
        body: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "tags": _pairs(tags),
            "params": _pairs(params),
        }
        for key, value in (
            ("name", name),
            ("source_run_id", source_run_id),
            ("model_type", model_type),
        ):
            if value:
                body[key] = value
        reply = self._call("POST", "/logged-models", body, retry_ambiguous=False)
        return LoggedModel.from_dict(reply["model"])

    def log_logged_model_metrics(
        self,
        model_id: str,
        metrics: Sequence[Any],
        run_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
    ) -> None:
        """MLflow's wire: runs/log-batch with `model_id` on each metric. The server stores the
        points for the run too; identical points are one point, so the run's copy (sent by the
        queue) is not doubled."""
        if not run_id:
            raise InvalidParameterError("Logging a model's metrics to a server needs a run id")
        for start in range(0, len(metrics), 1000):
            body = {
                "run_id": run_id,
                "metrics": [
                    _model_metric(m, model_id, dataset_name, dataset_digest)
                    for m in metrics[start : start + 1000]
                ],
            }
            self._call("POST", "/runs/log-batch", body, not_found=LoggedModelNotFoundError)

    def get_logged_model(self, model_id: str) -> LoggedModel:
        reply = self._call("GET", f"/logged-models/{model_id}", not_found=LoggedModelNotFoundError)
        return LoggedModel.from_dict(reply["model"])

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        reply = self._call(
            "PATCH",
            f"/logged-models/{model_id}",
            {
                "model_id": model_id,
                "status": LoggedModelStatus.to_wire(LoggedModelStatus.from_wire(status)),
            },
            not_found=LoggedModelNotFoundError,
        )
        return LoggedModel.from_dict(reply["model"])

    def delete_logged_model(self, model_id: str) -> None:
        self._call("DELETE", f"/logged-models/{model_id}", not_found=LoggedModelNotFoundError)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[RunTag]) -> None:
        self._call(
            "PATCH",
            f"/logged-models/{model_id}/tags",
            {"tags": _pairs(tags)},
            not_found=LoggedModelNotFoundError,
        )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._call(
            "DELETE", f"/logged-models/{model_id}/tags/{key}", not_found=LoggedModelNotFoundError
        )

    def log_logged_model_params(self, model_id: str, params: Sequence[RunTag]) -> None:
        self._call(
            "POST",
            f"/logged-models/{model_id}/params",
            {"model_id": model_id, "params": _pairs(params)},
            not_found=LoggedModelNotFoundError,
        )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int | None = 100,
        order_by: Sequence[dict] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        body: dict[str, Any] = {"experiment_ids": [str(e) for e in experiment_ids]}
        if filter_string:
            body["filter"] = filter_string
        if max_results:
            body["max_results"] = max_results
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        reply = self._call("POST", "/logged-models/search", body)
        models = [LoggedModel.from_dict(d) for d in reply.get("models", [])]
        return PagedList(models, reply.get("next_page_token") or None)

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        self._call(
            "POST",
            "/runs/outputs",
            {"run_id": run_id, "models": [{"model_id": m, "step": int(s)} for m, s in models]},
        )


def _search_params(
    filter_string: str | None,
    max_results: int | None,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if filter_string:
        params["filter"] = filter_string
    if max_results:
        params["max_results"] = max_results
    if order_by:
        params["order_by"] = list(order_by)
    if page_token:
        params["page_token"] = page_token
    return params


def _model_metric(
    m: Any, model_id: str, dataset_name: str | None, dataset_digest: str | None
) -> dict[str, Any]:
    import math

    value = float(m.value)
    d: dict[str, Any] = {
        "key": m.key,
        "value": "NaN" if math.isnan(value) else value,
        "timestamp": int(m.timestamp),
        "step": int(m.step or 0),
        "model_id": model_id,
    }
    name = getattr(m, "dataset_name", None) or dataset_name
    digest = getattr(m, "dataset_digest", None) or dataset_digest
    if name:
        d["dataset_name"] = name
    if digest:
        d["dataset_digest"] = digest
    return d
