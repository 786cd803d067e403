"""Artifact repositories: where a run's files live, chosen by the artifact URI's scheme."""

from __future__ import annotations

from flightlog.artifacts.base import ArtifactRepository
from flightlog.exceptions import UnsupportedUriError


def get_artifact_repository(
    artifact_uri: str, tracking_uri: str | None = None
) -> ArtifactRepository:
    """The repository for a run's (or experiment's) artifact URI. `tracking_uri` (default: the
    current one) resolves `mlflow-artifacts:/...` URIs to the server that holds them."""
    scheme = artifact_uri.split(":", 1)[0].lower() if ":" in artifact_uri else ""
    if scheme in ("", "file") or (len(scheme) == 1 and scheme.isalpha()):  # "" or C: paths
        from flightlog.artifacts.local import LocalArtifactRepository

        return LocalArtifactRepository(artifact_uri)
    if scheme in ("mlflow-artifacts", "http", "https"):
        try:
            from flightlog.artifacts.http import HttpArtifactRepository
        except ImportError as exc:  # pragma: no cover - until the HTTP repository lands
            raise UnsupportedUriError(
                f"Artifact URI {artifact_uri!r} is not supported yet"
            ) from exc
        return HttpArtifactRepository(artifact_uri, tracking_uri)
    if scheme == "s3":
        from flightlog.artifacts.s3 import S3ArtifactRepository

        return S3ArtifactRepository(artifact_uri)
    raise UnsupportedUriError(
        f"Unsupported artifact URI {artifact_uri!r}: flightlog handles local paths, file://, "
        "mlflow-artifacts:/, http(s):// and s3:// artifact locations"
    )


# --- MLflow's `mlflow.artifacts` functions ----------------------------------------------------
def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """A local path to the artifact: give `run_id` (and `artifact_path`), or a full
    `artifact_uri` (runs:/<run_id>/<path> or a storage URI)."""
    import tempfile

    from flightlog.client import TrackingClient
    from flightlog.exceptions import InvalidParameterError

    if (artifact_uri is None) == (run_id is None):
        raise InvalidParameterError("Give exactly one of artifact_uri and run_id")
    if artifact_path is not None and run_id is None:
        raise InvalidParameterError("artifact_path goes with run_id, not with artifact_uri")
    if artifact_uri is not None and artifact_uri.startswith("runs:"):
        from flightlog.models.uri import parse_runs_uri

        run_id, artifact_path = parse_runs_uri(artifact_uri)
    if run_id is not None:
        client = TrackingClient(tracking_uri)
        return client.download_artifacts(run_id, artifact_path or "", dst_path)
    parent, _, leaf = artifact_uri.rstrip("/").rpartition("/")
    repo = get_artifact_repository(parent, tracking_uri)
    return repo.download_artifacts(leaf, dst_path or tempfile.mkdtemp(prefix="flightlog-"))


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list:
    """The files and folders directly under the artifact path (FileInfo entries)."""
    from flightlog.client import TrackingClient

    if artifact_uri is not None and artifact_uri.startswith("runs:"):
        from flightlog.models.uri import parse_runs_uri

        run_id, artifact_path = parse_runs_uri(artifact_uri)
    if run_id is not None:
        return TrackingClient(tracking_uri).list_artifacts(run_id, artifact_path or None)
    return get_artifact_repository(str(artifact_uri), tracking_uri).list_artifacts(
        artifact_path or ""
    )


def load_text(artifact_uri: str) -> str:
    with open(download_artifacts(artifact_uri=artifact_uri), encoding="utf-8") as f:
        return f.read()


def load_dict(artifact_uri: str) -> dict:
    import json

    with open(download_artifacts(artifact_uri=artifact_uri), encoding="utf-8") as f:
        if artifact_uri.endswith((".yaml", ".yml")):
            import yaml

            return yaml.safe_load(f)
        return json.load(f)


__all__ = [
    "ArtifactRepository",
    "download_artifacts",
    "get_artifact_repository",
    "list_artifacts",
    "load_dict",
    "load_text",
]
