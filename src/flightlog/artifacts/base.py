"""The artifact repository interface and the path rules every implementation shares."""

from __future__ import annotations

import os
import posixpath
from abc import ABC, abstractmethod

from flightlog.entities import FileInfo
from flightlog.exceptions import ArtifactPathError


def clean_artifact_path(path: str | None) -> str:
    """Normalise a relative artifact path ("" is the root); refuse anything that could escape.

    Used for both the destination folder of an upload and a path being listed or downloaded,
    so a crafted name can never reach outside the run's artifact root.
    """
    if path is None or path in ("", ".", "/"):
        return ""
    if not isinstance(path, str):
        raise ArtifactPathError(f"Artifact path must be a string, got {type(path).__name__}")
    if "\x00" in path:
        raise ArtifactPathError(f"Artifact path {path!r} contains a NUL byte")
    unified = path.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise ArtifactPathError(
            f"Artifact path {path!r} must be relative to the run's artifact root"
        )
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArtifactPathError(f"Artifact path {path!r} must not contain '..'")
    return posixpath.join(*parts) if parts else ""


class ArtifactRepository(ABC):
    """Files under one artifact root (a run's `artifact_uri`)."""

    def __init__(self, artifact_uri: str):
        self.artifact_uri = artifact_uri

    @abstractmethod
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Copy one local file into `artifact_path` (a folder, "" for the root)."""

    @abstractmethod
    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy a local folder's contents, recursively, into `artifact_path`."""

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of `path`, sorted by path; [] when it does not exist."""

    @abstractmethod
    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        """Copy a file or folder to `dst_path` (a new temp folder by default); return its path."""

    def log_bytes(self, data: bytes, artifact_file: str) -> None:
        """Store `data` as the file `artifact_file` (a relative path with the file name)."""
        import tempfile

        artifact_file = clean_artifact_path(artifact_file)
        if not artifact_file:
            raise ArtifactPathError("artifact_file must name a file, got an empty path")
        folder, name = posixpath.split(artifact_file)
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, name)
            with open(local, "wb") as f:
                f.write(data)
            self.log_artifact(local, folder)
