"""Saving a model in MLflow's folder layout, and logging it to a run, for any flavor.

    <name>/
      MLmodel                      flavors, signature, input example info, uuid, run id
      model.pkl (flavor files)     whatever Flavor.save wrote
      input_example.json           when an input example was given
      serving_input_example.json
      requirements.txt, python_env.yaml, conda.yaml

log_model stores this folder under the run's artifacts at `<name>/` (MLflow 2's place), so it
loads as `runs:/<run_id>/<name>` in flightlog and in MLflow. It runs no subprocess and imports
nothing the caller has not already imported, so it costs milliseconds for a small model.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

from flightlog.entities import LoggedModelStatus
from flightlog.exceptions import InvalidParameterError, ResourceAlreadyExistsError
from flightlog.models.environment import CONDA_ENV_FILE, PYTHON_ENV_FILE
from flightlog.models.flavor import Flavor
from flightlog.models.mlmodel import PYFUNC_FLAVOR, Model, ModelInfo
from flightlog.models.signature import ModelSignature

_log = logging.getLogger(__name__)

# The run tag MLflow 2 keeps a JSON list of the run's logged models in (read by UIs).
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
_TAG_LIMIT = 8000
_history: dict[tuple[int, str], list[dict[str, Any]]] = {}
_history_lock = threading.Lock()


def save_flavor_model(
    flavor: Flavor,
    model: Any,
    path: str | os.PathLike,
    *,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    metadata: dict[str, Any] | None = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    **options: Any,
) -> Model:
    """Save `model` into the new folder `path`; return its MLmodel description.

    `signature=None` with an `input_example` infers one from the example and the model's
    prediction on it; `signature=False` saves none.
    """
    from flightlog import __version__
    from flightlog.models.environment import requirements_for, write_environment
    from flightlog.models.input_example import save_input_example

    path = os.fspath(path)
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise ResourceAlreadyExistsError(
            f"Cannot save a model into {path}: it exists and is not empty"
        )
    os.makedirs(path, exist_ok=True)
    meta = mlflow_model if mlflow_model is not None else Model()
    example_input = None
    packages = list(flavor.packages)
    if input_example is not None:
        meta.saved_input_example_info, example_input = save_input_example(path, input_example)
        if meta.saved_input_example_info["type"] == "dataframe":
            packages.append("pandas")
    saved = flavor.save(model, path, **options)
    packages.extend(saved.packages)

    if signature is None and example_input is not None:
        signature = _signature_from_example(flavor, model, meta, example_input)
    meta.signature = signature if isinstance(signature, ModelSignature) else None
    if signature not in (None, False) and not isinstance(signature, ModelSignature):
        raise InvalidParameterError(
            f"signature must be a ModelSignature, None or False, got {type(signature).__name__}"
        )
    if metadata is not None:
        meta.metadata = metadata

    if saved.pyfunc is not None and flavor.loader_module:
        meta.add_flavor(
            PYFUNC_FLAVOR,
            loader_module=flavor.loader_module,
            python_version=platform.python_version(),
            env={"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE},
            **saved.pyfunc,
        )
    meta.add_flavor(flavor.name, **saved.conf)
    write_environment(path, requirements_for(packages, pip_requirements, extra_pip_requirements))
    meta.extra["flightlog_version"] = __version__
    meta.model_size_bytes = _folder_size(path)
    meta.save(os.path.join(path, "MLmodel"))
    return meta


def _signature_from_example(flavor: Flavor, model: Any, meta: Model, example: Any):
    """Input schema from the example, output schema from the model's prediction on it. A model
    that cannot predict on its own example still gets logged, with an input-only signature."""
    from flightlog.models.enforcement import enforce_input
    from flightlog.models.signature import infer_output_schema, infer_schema

    try:
        input_schema = infer_schema(example)
    except Exception as exc:  # noqa: BLE001 - an odd example must not stop the model being saved
        _log.warning("Could not infer a signature from the input example: %s", exc)
        return None
    try:
        predict = flavor.predictor(model, meta)
        prediction = predict(enforce_input(example, input_schema), None)
        output_schema = infer_output_schema(input_schema, prediction)
    except Exception as exc:  # noqa: BLE001
        _log.warning("Could not infer the output signature from the model's prediction: %s", exc)
        output_schema = None
    return ModelSignature(input_schema, output_schema)


def _folder_size(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def log_flavor_model(
    flavor: Flavor,
    model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    metadata: dict[str, Any] | None = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    await_registration_for: int | None = None,
    params: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **options: Any,
) -> ModelInfo:
    """Save `model`, store it under the run's artifacts at `<name>/` (default "model") and
    record it as an MLflow 3 logged model (`ModelInfo.model_id`, `models:/<model_id>`).

    Uses `run_id`, else the active run (starting one if none is active, as MLflow does).
    `artifact_path` is MLflow 2's name for `name`. The logged model gets the run's params plus
    `params`, and `tags` plus the run's source tags, as in MLflow; `model_id` names an existing
    (PENDING) logged model to fill instead of creating one. With `registered_model_name` the
    model is also registered and `ModelInfo.registered_model_version` says which version.
    """
    from flightlog import fluent
    from flightlog.artifacts.base import clean_artifact_path

    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidParameterError(
            f"Give either name or artifact_path, not both ({name!r} vs {artifact_path!r})"
        )
    rel = clean_artifact_path(name or artifact_path or "model")
    if not rel:
        raise InvalidParameterError("The model name must be a non-empty relative path")
    run_id = fluent._run_id_or_active(run_id)
    client = fluent._client()
    meta = Model(artifact_path=rel, run_id=run_id)
    logged = _start_logged_model(client, run_id, rel, params, tags, model_type, model_id)
    if logged is not None:
        meta.model_id = logged.model_id
    try:
        with tempfile.TemporaryDirectory(prefix="flightlog-model-") as tmp:
            local = os.path.join(tmp, "model")
            save_flavor_model(
                flavor,
                model,
                local,
                signature=signature,
                input_example=input_example,
                metadata=metadata,
                pip_requirements=pip_requirements,
                extra_pip_requirements=extra_pip_requirements,
                mlflow_model=meta,
                **options,
            )
            client.log_artifacts(run_id, local, rel)
            if logged is not None and logged.artifact_location != _run_location(
                client, run_id, rel
            ):
                # A server chose the model's own location: the files go there too.
                from flightlog.artifacts import get_artifact_repository

                get_artifact_repository(logged.artifact_location).log_artifacts(local, None)
    except BaseException:
        if logged is not None:
            _finalize_quietly(client, logged.model_id, LoggedModelStatus.FAILED)
        raise
    _record_history(client, run_id, meta)
    if tags:
        client.log_batch(run_id, tags=_run_tags(tags))
    model_uri = f"runs:/{run_id}/{rel}"
    if logged is not None:
        from flightlog.models import logged as logged_models

        client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
        client._registry_store.log_outputs(run_id, [(logged.model_id, int(step or 0))])
        logged_models.remember_output(run_id, logged.model_id, int(step or 0))
        model_uri = f"models:/{logged.model_id}"
    version = None
    if registered_model_name:
        from flightlog.models.registry_client import register_model

        version = register_model(model_uri, registered_model_name).version
    return ModelInfo(meta, model_uri, version)


def _run_location(client: Any, run_id: str, rel: str) -> str:
    return f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{rel}"


def _start_logged_model(
    client: Any,
    run_id: str,
    rel: str,
    params: dict[str, Any] | None,
    tags: dict[str, Any] | None,
    model_type: str | None,
    model_id: str | None,
) -> Any:
    """The logged model this log_model fills: `model_id`'s, or a new PENDING one whose files are
    the ones stored under the run (no second copy in a local store). None for a store without
    logged models (the model is then only the run's artifact, as in MLflow 2)."""
    from flightlog.context import system_tags

    store = client._registry_store
    if model_id is not None:
        return client.get_logged_model(model_id)
    run = client.get_run(run_id)
    all_params = {**run.data.params, **{str(k): str(v) for k, v in (params or {}).items()}}
    source = {k: v for k, v in system_tags().items() if k != "mlflow.source.git.commit"}
    all_tags = {**source, **{str(k): str(v) for k, v in (tags or {}).items()}}
    if "mlflow.source.git.commit" in run.data.tags:
        all_tags.setdefault("mlflow.source.git.commit", run.data.tags["mlflow.source.git.commit"])
    try:
        return store.create_logged_model(
            run.info.experiment_id,
            rel,
            run_id,
            _run_tags(all_tags),
            _run_tags(all_params),
            model_type,
            artifact_location=f"{run.info.artifact_uri.rstrip('/')}/{rel}",
        )
    except NotImplementedError:
        return None


def _finalize_quietly(client: Any, model_id: str, status: str) -> None:
    try:
        client.finalize_logged_model(model_id, status)
    except Exception as exc:  # noqa: BLE001 - the original error is the one to report
        _log.warning("Could not mark logged model %s as %s: %s", model_id, status, exc)


def _run_tags(tags: dict[str, Any]):
    from flightlog.entities import RunTag

    return [RunTag(str(k), str(v)) for k, v in tags.items()]


def _record_history(client: Any, run_id: str, meta: Model) -> None:
    """Append this model to the run's `mlflow.log-model.history` tag (queued, not waited on).
    The list is kept per process so two models logged back to back both end up in it."""
    entry = {
        "run_id": run_id,
        "artifact_path": meta.artifact_path,
        "utc_time_created": meta.utc_time_created,
        "model_uuid": meta.model_uuid,
        "flavors": meta.flavors,
    }
    if meta.signature is not None:
        entry["signature"] = meta.signature.to_dict()
    key = (id(client._store), run_id)
    try:
        with _history_lock:
            history = _history.get(key)
            if history is None:
                stored = client._store.get_run(run_id).data.tags.get(LOG_MODEL_HISTORY_TAG)
                history = json.loads(stored) if stored else []
                _history[key] = history
            history = [h for h in history if h.get("artifact_path") != meta.artifact_path]
            history.append(entry)
            text = json.dumps(history)
            while len(text) > _TAG_LIMIT and len(history) > 1:
                history.pop(0)  # keep the newest models when the tag would overflow
                text = json.dumps(history)
            if len(text) > _TAG_LIMIT:
                entry.pop("signature", None)
                text = json.dumps(history)
            _history[key] = history
        if len(text) <= _TAG_LIMIT:
            client.set_tag(run_id, LOG_MODEL_HISTORY_TAG, text)
    except Exception as exc:  # noqa: BLE001 - the model is stored; the index tag is a convenience
        _log.warning(
            "Could not record the model in the run's %s tag: %s", LOG_MODEL_HISTORY_TAG, exc
        )
