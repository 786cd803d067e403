"""Artifacts kept in a local (or mounted) directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from flightlog.artifacts.base import ArtifactRepository, clean_artifact_path
from flightlog.entities import FileInfo
from flightlog.exceptions import ArtifactPathError, ResourceNotFoundError


def local_path_from_uri(uri: str) -> Path:
    """`file:///a/b` or `/a/b` -> Path('/a/b')."""
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        return Path(url2pathname(unquote(parsed.path)))
    return Path(uri)


class LocalArtifactRepository(ArtifactRepository):
    def __init__(self, artifact_uri: str):
        super().__init__(artifact_uri)
        self.root = local_path_from_uri(artifact_uri).resolve()

    def _resolve(self, artifact_path: str | None) -> Path:
        rel = clean_artifact_path(artifact_path)
        target = (self.root / rel).resolve() if rel else self.root
        # Symlinks inside the root could still point out of it.
        if target != self.root and self.root not in target.parents:
            raise ArtifactPathError(f"Artifact path {artifact_path!r} escapes the artifact root")
        return target

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        src = Path(local_file)
        if not src.is_file():
            raise ResourceNotFoundError(f"No such file to log as an artifact: {local_file}")
        dest_dir = self._resolve(artifact_path)
        dest_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest_dir / src.name)

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        src = Path(local_dir)
        if not src.is_dir():
            raise ResourceNotFoundError(f"No such directory to log as artifacts: {local_dir}")
        dest_dir = self._resolve(artifact_path)
        dest_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dest_dir, dirs_exist_ok=True)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = clean_artifact_path(path)
        folder = self._resolve(rel)
        if not folder.is_dir():
            return []
        infos = []
        for child in sorted(folder.iterdir(), key=lambda p: p.name):
            child_rel = f"{rel}/{child.name}" if rel else child.name
            if child.is_dir():
                infos.append(FileInfo(child_rel, True, None))
            else:
                infos.append(FileInfo(child_rel, False, child.stat().st_size))
        return infos

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        src = self._resolve(artifact_path)
        if not src.exists():
            raise ResourceNotFoundError(
                f"Artifact {artifact_path!r} does not exist under {self.artifact_uri}"
            )
        dst_root = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="flightlog-"))
        dst_root.mkdir(parents=True, exist_ok=True)
        dest = dst_root / (src.name if clean_artifact_path(artifact_path) else "")
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest)
        return str(dest.resolve())

    def local_path(self, artifact_path: str | None = None) -> str:
        """Where an artifact lives on disk (no copy): used by loaders that read in place."""
        return os.fspath(self._resolve(artifact_path))
