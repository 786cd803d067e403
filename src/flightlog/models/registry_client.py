"""The model registry on TrackingClient (MlflowClient's method names), and fluent register_model.

TrackingClient inherits RegistryClientMixin; the registry lives in the store at the client's
registry URI (the tracking URI unless given): the SQL store's registry tables, or a server's
registry REST endpoints (`flightlog server` or `mlflow server`) through the REST store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from flightlog.entities import (
    LoggedModel,
    ModelVersion,
    PagedList,
    RegisteredModel,
    RunTag,
)
from flightlog.exceptions import (
    InvalidParameterError,
    ModelNotFoundError,
    RegisteredModelAlreadyExistsError,
    ResourceAlreadyExistsError,
)
from flightlog.models.logged import LoggedModelsClientMixin

MLMODEL_FILE = "MLmodel"


def _tags(tags: Mapping[str, Any] | None) -> list[RunTag]:
    return [RunTag(str(k), "" if v is None else str(v)) for k, v in (tags or {}).items()]


class RegistryClientMixin(LoggedModelsClientMixin):
    """Registry methods for TrackingClient. Needs `self._registry_uri`."""

    _registry_uri: str
    _registry_store_obj: Any = None

    @property
    def _registry_store(self) -> Any:
        if self._registry_store_obj is None:
            from flightlog.store import get_store

            self._registry_store_obj = get_store(self._registry_uri)
        return self._registry_store_obj

    # --- registered models ---------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        return self._registry_store.create_registered_model(name, _tags(tags), description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._registry_store.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._registry_store.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        return self._registry_store.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        self._registry_store.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        return self._registry_store.search_registered_models(
            filter_string, max_results, order_by, page_token
        )

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._registry_store.set_registered_model_tag(name, RunTag(key, str(value)))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._registry_store.delete_registered_model_tag(name, key)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        return self._registry_store.get_latest_versions(name, stages)

    # --- model versions ------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        from flightlog.context import current_user

        return self._registry_store.create_model_version(
            name,
            source,
            run_id=run_id,
            tags=_tags(tags),
            run_link=run_link,
            description=description,
            model_id=model_id,
            user_id=current_user(),
        )

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self._registry_store.get_model_version(name, version)

    def update_model_version(
        self, name: str, version: str | int, description: str | None = None
    ) -> ModelVersion:
        return self._registry_store.update_model_version(name, version, description)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        return self._registry_store.transition_model_version_stage(
            name, version, stage, archive_existing_versions
        )

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._registry_store.delete_model_version(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        return self._registry_store.search_model_versions(
            filter_string, max_results, order_by, page_token
        )

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        return self._registry_store.get_model_version_download_uri(name, version)

    def set_model_version_tag(
        self,
        name: str,
        version: str | int | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        version = self._version_or_stage(name, version, stage)
        if key is None:
            raise InvalidParameterError("set_model_version_tag needs a key")
        self._registry_store.set_model_version_tag(name, version, RunTag(key, str(value)))

    def delete_model_version_tag(
        self,
        name: str,
        version: str | int | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        version = self._version_or_stage(name, version, stage)
        if key is None:
            raise InvalidParameterError("delete_model_version_tag needs a key")
        self._registry_store.delete_model_version_tag(name, version, key)

    def _version_or_stage(self, name: str, version: Any, stage: str | None) -> Any:
        if (version is None) == (stage is None):
            raise InvalidParameterError("Give exactly one of version or stage")
        if version is not None:
            return version
        latest = self.get_latest_versions(name, [stage])  # type: ignore[list-item]
        if not latest:
            raise ModelNotFoundError(f"Registered model {name!r} has no version in stage {stage!r}")
        return latest[0].version

    # --- aliases -------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._registry_store.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._registry_store.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._registry_store.get_model_version_by_alias(name, alias)

    # --- MLflow 3 logged models (read side, for models:/m-<id> URIs) ---------------------
    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self._registry_store.get_logged_model(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[dict] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        return self._registry_store.search_logged_models(
            [str(e) for e in experiment_ids], filter_string, max_results, order_by, page_token
        )

    # --- registering a logged model ------------------------------------------------------
    def register_model(
        self, model_uri: str, name: str, tags: Mapping[str, Any] | None = None
    ) -> ModelVersion:
        """Create `name` if needed, then a new version of it pointing at the model `model_uri`."""
        try:
            self.create_registered_model(name)
        except (RegisteredModelAlreadyExistsError, ResourceAlreadyExistsError):
            pass  # registering a new version of an existing model
        source, run_id, model_id = self._registration_source(os.fspath(model_uri))
        return self.create_model_version(name, source, run_id=run_id, tags=tags, model_id=model_id)

    def _registration_source(self, model_uri: str) -> tuple[str, str | None, str | None]:
        """(source, run_id, model_id) for a model URI, MLflow's way: a runs:/ URI becomes the
        run's concrete artifact location, or the run's MLflow 3 logged model of that name."""
        from flightlog.models.uri import (
            _is_local,
            _logged_model_of_run,
            parse_models_uri,
            parse_runs_uri,
        )

        if model_uri.startswith("runs:"):
            from flightlog.artifacts import get_artifact_repository

            run_id, path = parse_runs_uri(model_uri)
            run = self.get_run(run_id)  # type: ignore[attr-defined]
            root = run.info.artifact_uri.rstrip("/")
            repo = get_artifact_repository(root)
            if any(f.path.rsplit("/", 1)[-1] == MLMODEL_FILE for f in repo.list_artifacts(path)):
                return (f"{root}/{path}" if path else root), run_id, None
            logged = _logged_model_of_run(self, run, path.split("/", 1)[0])
            if logged is None:
                raise ModelNotFoundError(
                    f"No model at {model_uri}: run {run_id} has no MLmodel under {path!r} and no "
                    f"logged model named {path!r}"
                )
            return f"models:/{logged.model_id}", run_id, logged.model_id
        if model_uri.startswith("models:"):
            parts = parse_models_uri(model_uri)
            if "model_id" in parts:
                return (
                    model_uri,
                    self.get_logged_model(parts["model_id"]).source_run_id,
                    parts["model_id"],
                )
            return model_uri, None, None
        if _is_local(model_uri) and not model_uri.startswith("file:"):
            return os.path.abspath(model_uri), None, None
        return model_uri, None, None


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int | None = None,
    *,
    tags: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register the model at `model_uri` as a new version of `name` (created if needed)."""
    from flightlog import fluent

    return fluent._client().register_model(model_uri, name, tags)
