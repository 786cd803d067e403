"""Artifacts kept behind a tracking server's artifact proxy (MLflow's `mlflow-artifacts` API).

Artifact URIs look like `mlflow-artifacts:/<experiment_id>/<run_id>/artifacts` (resolved against
the http(s) tracking URI), `mlflow-artifacts://host:port/...`, or the resolved form
`http(s)://host:port/api/2.0/mlflow-artifacts/artifacts/...`. Files go up with PUT, come down
with GET, and folders are listed with `GET .../mlflow-artifacts/artifacts?path=`.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from pathlib import Path
from urllib.parse import quote, urlparse

from flightlog.artifacts.base import ArtifactRepository, clean_artifact_path
from flightlog.entities import FileInfo
from flightlog.exceptions import (
    ArtifactPathError,
    ResourceNotFoundError,
    UnsupportedUriError,
)
from flightlog.rest_client import RestClient, error_from_response

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
_CHUNK = 1 << 20


def resolve_artifact_uri(artifact_uri: str, tracking_uri: str | None = None) -> tuple[str, str]:
    """Split an artifact URI into (server base URL, root path under the artifact API)."""
    parsed = urlparse(artifact_uri)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        head, sep, tail = parsed.path.partition(ARTIFACTS_API)
        if not sep:
            raise UnsupportedUriError(
                f"HTTP artifact URI {artifact_uri!r} does not point into the artifact API "
                f"({ARTIFACTS_API})"
            )
        return f"{scheme}://{parsed.netloc}{head}".rstrip("/"), tail.strip("/")
    if scheme != "mlflow-artifacts":
        raise UnsupportedUriError(f"Not an HTTP artifact URI: {artifact_uri!r}")
    if tracking_uri is None:
        from flightlog.config import get_tracking_uri

        tracking_uri = get_tracking_uri()
    tracking = urlparse(tracking_uri)
    if tracking.scheme not in ("http", "https"):
        raise UnsupportedUriError(
            f"Artifact URI {artifact_uri!r} lives on a tracking server, but the tracking URI "
            f"{tracking_uri!r} is not http(s)://; set it to the server that holds the run"
        )
    netloc = parsed.netloc or tracking.netloc
    base = f"{tracking.scheme}://{netloc}{tracking.path.rstrip('/') if not parsed.netloc else ''}"
    return base.rstrip("/"), parsed.path.strip("/")


class HttpArtifactRepository(ArtifactRepository):
    """A run's artifacts on a tracking server that proxies artifact storage."""

    def __init__(self, artifact_uri: str, tracking_uri: str | None = None):
        super().__init__(artifact_uri)
        self.base_url, self.root = resolve_artifact_uri(artifact_uri, tracking_uri)
        self.client = RestClient(self.base_url)

    # --- paths ---------------------------------------------------------------------------
    def _remote_path(self, rel: str) -> str:
        full = posixpath.join(self.root, rel) if rel else self.root
        return full.strip("/")

    def _file_url(self, rel: str) -> str:
        return f"{ARTIFACTS_API}/{quote(self._remote_path(rel))}"

    # --- writes --------------------------------------------------------------------------
    def _put(self, rel_file: str, data: bytes | Path) -> None:
        response = self.client.request(
            "PUT",
            self._file_url(rel_file),
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if response.status_code != 200:
            raise error_from_response(response, f"Uploading artifact {rel_file!r}")

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        src = Path(local_file)
        if not src.is_file():
            raise ResourceNotFoundError(f"No such file to log as an artifact: {local_file}")
        folder = clean_artifact_path(artifact_path)
        self._put(posixpath.join(folder, src.name) if folder else src.name, src)

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        src = Path(local_dir)
        if not src.is_dir():
            raise ResourceNotFoundError(f"No such directory to log as artifacts: {local_dir}")
        folder = clean_artifact_path(artifact_path)
        for root, _dirs, files in os.walk(src):
            rel_dir = Path(root).relative_to(src).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in sorted(files):
                rel = posixpath.join(folder, rel_dir, name) if (folder or rel_dir) else name
                path = Path(root) / name
                self._put(clean_artifact_path(rel), path)

    def log_bytes(self, data: bytes, artifact_file: str) -> None:
        rel = clean_artifact_path(artifact_file)
        if not rel:
            raise ArtifactPathError("artifact_file must name a file, got an empty path")
        self._put(rel, data)

    # --- reads ---------------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = clean_artifact_path(path)
        response = self.client.request(
            "GET", ARTIFACTS_API, params={"path": self._remote_path(rel)}
        )
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise error_from_response(response, f"Listing artifacts under {rel!r}")
        infos = []
        for f in response.json().get("files", []):
            name = clean_artifact_path(f["path"])  # a server must not hand us '../x'
            size = f.get("file_size")
            infos.append(
                FileInfo(
                    posixpath.join(rel, name) if rel else name,
                    bool(f.get("is_dir", False)),
                    int(size) if size is not None else None,
                )
            )
        # Listing a file's path answers with the file itself: that is not a folder.
        if (
            len(infos) == 1
            and not infos[0].is_dir
            and rel
            and infos[0].path == posixpath.join(rel, posixpath.basename(rel))
        ):
            return []
        return sorted(infos, key=lambda i: i.path)

    def _download_file(self, rel: str, dest: Path) -> None:
        response = self.client.request("GET", self._file_url(rel), stream=True)
        try:
            if response.status_code != 200:
                raise error_from_response(response, f"Downloading artifact {rel!r}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "wb") as f:
                for chunk in response.iter_content(chunk_size=_CHUNK):
                    f.write(chunk)
        finally:
            response.close()

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        rel = clean_artifact_path(artifact_path)
        dst_root = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="flightlog-"))
        dst_root.mkdir(parents=True, exist_ok=True)
        children = self.list_artifacts(rel)
        if not rel or children:
            dest = dst_root / posixpath.basename(rel) if rel else dst_root
            dest.mkdir(parents=True, exist_ok=True)
            self._download_tree(rel, children, dest)
            return str(dest.resolve())
        dest = dst_root / posixpath.basename(rel)
        self._download_file(rel, dest)
        return str(dest.resolve())

    def _download_tree(self, rel: str, children: list[FileInfo], dest: Path) -> None:
        for child in children:
            name = posixpath.basename(child.path)
            if child.is_dir:
                (dest / name).mkdir(parents=True, exist_ok=True)
                self._download_tree(child.path, self.list_artifacts(child.path), dest / name)
            else:
                self._download_file(child.path, dest / name)
