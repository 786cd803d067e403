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


__all__ = ["ArtifactRepository", "get_artifact_repository"]
