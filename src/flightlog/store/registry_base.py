"""The model-registry and logged-model half of a store's interface.

SqlStore gets it from `SqlRegistryMixin` (store/sql_registry.py), RestStore from
`RestRegistryMixin` (store/rest_registry.py); the client and the server only call these methods.
Names and arguments are MLflow's (AbstractStore of mlflow.store.model_registry, plus the logged
model calls of MLflow 3's tracking store).

Contract: versions are strings in entities and ints in the database; unknown names raise
RegisteredModelNotFoundError / ModelVersionNotFoundError, duplicate names
RegisteredModelAlreadyExistsError. `create_model_version` numbers versions max + 1 without gaps or
duplicates even when several processes create versions of one model at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from flightlog.entities import (
    LoggedModel,
    Metric,
    ModelVersion,
    PagedList,
    RegisteredModel,
    RunTag,
)


def _unsupported(store: object, what: str) -> NotImplementedError:
    return NotImplementedError(f"{type(store).__name__} does not support {what}")


class RegistryStore:
    """Default implementations refuse clearly; real stores override every method."""

    # --- registered models ---------------------------------------------------------------
    def create_registered_model(
        self, name: str, tags: Sequence[RunTag] = (), description: str | None = None
    ) -> RegisteredModel:
        raise _unsupported(self, "the model registry")

    def get_registered_model(self, name: str) -> RegisteredModel:
        raise _unsupported(self, "the model registry")

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        raise _unsupported(self, "the model registry")

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        raise _unsupported(self, "the model registry")

    def delete_registered_model(self, name: str) -> None:
        raise _unsupported(self, "the model registry")

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        raise _unsupported(self, "the model registry")

    def set_registered_model_tag(self, name: str, tag: RunTag) -> None:
        raise _unsupported(self, "the model registry")

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        raise _unsupported(self, "the model registry")

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        raise _unsupported(self, "the model registry")

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
        raise _unsupported(self, "the model registry")

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        raise _unsupported(self, "the model registry")

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        raise _unsupported(self, "the model registry")

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        raise _unsupported(self, "the model registry")

    def delete_model_version(self, name: str, version: str | int) -> None:
        raise _unsupported(self, "the model registry")

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        raise _unsupported(self, "the model registry")

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        raise _unsupported(self, "the model registry")

    def set_model_version_tag(self, name: str, version: str | int, tag: RunTag) -> None:
        raise _unsupported(self, "the model registry")

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        raise _unsupported(self, "the model registry")

    # --- aliases -------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        raise _unsupported(self, "the model registry")

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        raise _unsupported(self, "the model registry")

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        raise _unsupported(self, "the model registry")

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
        raise _unsupported(self, "logged models")

    def get_logged_model(self, model_id: str) -> LoggedModel:
        raise _unsupported(self, "logged models")

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        raise _unsupported(self, "logged models")

    def delete_logged_model(self, model_id: str) -> None:
        raise _unsupported(self, "logged models")

    def set_logged_model_tags(self, model_id: str, tags: Sequence[RunTag]) -> None:
        raise _unsupported(self, "logged models")

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        raise _unsupported(self, "logged models")

    def log_logged_model_params(self, model_id: str, params: Sequence[RunTag]) -> None:
        raise _unsupported(self, "logged models")

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[dict] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        raise _unsupported(self, "logged models")

    def log_logged_model_metrics(
        self,
        model_id: str,
        metrics: Sequence[Metric],
        run_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
    ) -> None:
        """Store metric points as the model's (`log_metric(..., model_id=...)`); the run's own
        copy is logged separately, through log_batch."""
        raise _unsupported(self, "logged models")

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        """Record that run `run_id` produced these (model_id, step) logged models."""
        raise _unsupported(self, "logged models")
