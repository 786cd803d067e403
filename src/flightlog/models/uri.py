"""Model URIs -> a local folder holding the model.

    runs:/<run_id>/<path>         a model stored under a run's artifacts (also an MLflow 3 logged
                                  model of that run with that name, found when the path is absent)
    models:/<name>/<version>      a registered model version (also /latest, /Production, ...)
    models:/<name>@<alias>        the version an alias points to
    models:/m-<id>                an MLflow 3 logged model
    /local/path, file:///...      a model folder on disk (used in place, nothing is copied)
    mlflow-artifacts:/..., http(s)://...   downloaded through flightlog.artifacts

Local stores are read in place; remote ones are downloaded to `dst_path` (a temp folder by
default).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from typing import Any

from flightlog.exceptions import InvalidParameterError, ModelNotFoundError, ResourceNotFoundError

_MAX_HOPS = 8  # a model version's source may itself be a models:/ or runs:/ URI


def parse_runs_uri(uri: str) -> tuple[str, str]:
    rest = uri[len("runs:") :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidParameterError(f"Invalid runs URI {uri!r}: use runs:/<run_id>/<path>")
    return run_id, path.strip("/")


def parse_models_uri(uri: str) -> dict[str, str]:
    """{'model_id'} for models:/m-<id>, {'name', 'alias'} or {'name', 'version'} otherwise
    ('version' may also be 'latest' or a stage name)."""
    rest = uri[len("models:") :].lstrip("/").rstrip("/")
    if not rest:
        raise InvalidParameterError(
            f"Invalid models URI {uri!r}: use models:/<name>/<version>, models:/<name>@<alias> "
            "or models:/<model_id>"
        )
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        if not name or not alias:
            raise InvalidParameterError(f"Invalid models URI {uri!r}: use models:/<name>@<alias>")
        return {"name": name, "alias": alias}
    if "/" in rest:
        name, _, version = rest.rpartition("/")
        return {"name": name, "version": version}
    return {"model_id": rest}


def resolve_source(model_uri: str, client: Any) -> str:
    """Replace registry URIs with the artifact location they stand for (runs:/ and local paths
    are returned as they are)."""
    uri = model_uri
    for _ in range(_MAX_HOPS):
        if not uri.startswith("models:"):
            return uri
        parts = parse_models_uri(uri)
        if "model_id" in parts:
            uri = client.get_logged_model(parts["model_id"]).artifact_location
            continue
        name = parts["name"]
        if "alias" in parts:
            version = client.get_model_version_by_alias(name, parts["alias"]).version
        else:
            version = _version_for(client, name, parts["version"])
        uri = client.get_model_version_download_uri(name, version)
    raise InvalidParameterError(f"Model URI {model_uri!r} refers to itself through its sources")


def _version_for(client: Any, name: str, version: str) -> str:
    if version.isdigit():
        return version
    from flightlog.entities import ModelVersionStage

    stages = None
    if version.lower() != "latest":
        stage = ModelVersionStage.canonical(version)
        if stage is None:
            raise InvalidParameterError(
                f"Invalid version {version!r} in models:/{name}/{version}: use a number, "
                f"'latest', or a stage {list(ModelVersionStage.ALL)}"
            )
        stages = [stage]
    latest = client.get_latest_versions(name, stages)
    if not latest:
        what = f"in stage {stages[0]!r}" if stages else "at all"
        raise ResourceNotFoundError(f"Registered model {name!r} has no versions {what}")
    return str(max(int(mv.version) for mv in latest))


def download_model(
    model_uri: str, dst_path: str | None = None, tracking_uri: str | None = None
) -> str:
    """A local folder holding the model at `model_uri` (see the module docstring)."""
    model_uri = os.fspath(model_uri)
    if _is_local(model_uri):
        return _local_folder(model_uri)
    from flightlog.client import TrackingClient

    client = TrackingClient(tracking_uri)
    uri = resolve_source(model_uri, client)
    if uri.startswith("runs:"):
        return _download_run_path(client, *parse_runs_uri(uri), dst_path)
    if _is_local(uri):
        return _local_folder(uri)
    return _download_artifact_uri(uri, dst_path)


def _is_local(uri: str) -> bool:
    if uri.startswith("file:"):
        return True
    scheme = uri.split(":", 1)[0] if ":" in uri else ""
    return scheme == "" or (len(scheme) == 1 and scheme.isalpha())  # C:\ paths on Windows


def _local_folder(uri: str) -> str:
    from flightlog.artifacts.local import local_path_from_uri

    path = os.path.abspath(os.path.expanduser(str(local_path_from_uri(uri))))
    if not os.path.exists(path):
        raise ModelNotFoundError(f"No model at {uri!r}: the path does not exist")
    return path


def _download_artifact_uri(uri: str, dst_path: str | None) -> str:
    from flightlog.artifacts import get_artifact_repository

    parent, _, leaf = uri.rstrip("/").rpartition("/")
    repo = get_artifact_repository(parent)
    local = getattr(repo, "local_path", None)
    if local is not None:
        return local(leaf)
    return repo.download_artifacts(leaf, dst_path or tempfile.mkdtemp(prefix="flightlog-model-"))


def _download_run_path(client: Any, run_id: str, path: str, dst_path: str | None) -> str:
    from flightlog.artifacts import get_artifact_repository

    run = client.get_run(run_id)
    repo = get_artifact_repository(run.info.artifact_uri)
    head, _, rest = path.partition("/")
    if _run_has(repo, path):
        local = getattr(repo, "local_path", None)
        if local is not None:
            return local(path)
        return repo.download_artifacts(
            path, dst_path or tempfile.mkdtemp(prefix="flightlog-model-")
        )
    # MLflow 3 keeps a model logged from a run in its own "logged model" location.
    logged = _logged_model_of_run(client, run, head) if head else None
    if logged is not None:
        target = logged.artifact_location.rstrip("/")
        target = f"{target}/{rest}" if rest else target
        if _is_local(target):
            return _local_folder(target)
        if not rest:
            return _download_whole(target, dst_path)
        return _download_artifact_uri(target, dst_path)
    raise ModelNotFoundError(
        f"No model at runs:/{run_id}/{path}: run {run_id} has no artifact {path!r}"
    )


def _download_whole(root_uri: str, dst_path: str | None) -> str:
    from flightlog.artifacts import get_artifact_repository

    repo = get_artifact_repository(root_uri)
    dst = dst_path or tempfile.mkdtemp(prefix="flightlog-model-")
    for info in repo.list_artifacts(""):
        repo.download_artifacts(info.path, dst)
    return dst


def _run_has(repo: Any, path: str) -> bool:
    if not path:
        return True
    parent = posixpath.dirname(path)
    try:
        return any(info.path.rstrip("/") == path for info in repo.list_artifacts(parent))
    except (ResourceNotFoundError, FileNotFoundError):
        return False


def _logged_model_of_run(client: Any, run: Any, name: str) -> Any:
    search = getattr(client, "search_logged_models", None)
    if search is None:
        return None
    try:
        models = search(experiment_ids=[run.info.experiment_id], filter_string=f"name = '{name}'")
    except (NotImplementedError, ResourceNotFoundError):
        return None
    for model in models:
        if model.source_run_id == run.info.run_id:
            return model
    return None
