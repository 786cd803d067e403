"""Where the artifact proxy keeps files: `--artifacts-destination`.

A local folder is served directly (streamed uploads written to a temp file and renamed into place,
downloads streamed from disk); any other destination URI goes through the artifact repository
for its scheme, by way of temporary files. Every path is checked by `safe_artifact_path` first.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import socket
import tempfile
import uuid
from pathlib import Path
from urllib.parse import unquote

from flightlog.artifacts.base import clean_artifact_path
from flightlog.entities import FileInfo
from flightlog.exceptions import ArtifactPathError, InvalidParameterError, ResourceNotFoundError

# OS errors caused by the name or shape of what the client asked for, not by the server.
_CLIENT_ERRNOS = {errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.EINVAL}


def safe_artifact_path(raw: str | None) -> str:
    """A clean relative path, or ArtifactPathError (400) for anything that could escape.

    The server sees paths already percent-decoded once; decoding again catches double-encoded
    tricks like `%252e%252e/` that a storage layer might decode later.
    """
    text = raw or ""
    for _ in range(3):
        clean_artifact_path(text)
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    else:
        raise ArtifactPathError(f"Artifact path {raw!r} is encoded too many times")
    return clean_artifact_path(raw)


def client_os_error(exc: OSError, rel: str) -> Exception:
    if exc.errno in _CLIENT_ERRNOS:
        return InvalidParameterError(f"Cannot use artifact path {rel!r}: {exc.strerror}")
    return exc


# Uploads into a local root stream into a hidden `.<uuid>.<host>-<pid>.upload` beside the final
# file and are renamed into place. A server killed mid-upload leaves that temp file behind:
# `sweep_stale_uploads` (run when a server starts) removes those whose writer on this host is
# gone, and any not written to for STALE_UPLOAD_AGE_S (another host's, or an old-style name).
UPLOAD_SUFFIX = ".upload"
STALE_UPLOAD_AGE_S = 3600.0


def _upload_owner() -> str:
    host = socket.gethostname().replace(".", "_").replace("-", "_") or "host"
    return f"{host}-{os.getpid()}"


def _writer_is_gone(name: str) -> bool:
    """Whether the temp file `name` was written by a process of this host that has exited."""
    parts = name[1 : -len(UPLOAD_SUFFIX)].split(".")
    if len(parts) != 2:
        return False
    host, _, pid_text = parts[1].rpartition("-")
    if host != _upload_owner().rpartition("-")[0] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, someone else's
    return False


def sweep_stale_uploads(root: Path, max_age_s: float = STALE_UPLOAD_AGE_S) -> int:
    """Delete abandoned upload temp files under `root`; return how many went."""
    import time

    removed = 0
    now = time.time()
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not (name.startswith(".") and name.endswith(UPLOAD_SUFFIX)):
                continue
            path = os.path.join(folder, name)
            try:
                stale = _writer_is_gone(name) or now - os.stat(path).st_mtime > max_age_s
                if stale:
                    os.unlink(path)
                    removed += 1
            except OSError:
                continue  # renamed into place or removed meanwhile
    return removed


def is_local_destination(destination: str) -> bool:
    head = destination.split(":", 1)[0].lower() if ":" in destination else ""
    return head in ("", "file") or (len(head) == 1 and head.isalpha())


class ArtifactDestination:
    """The proxy's storage root; `rel` paths are relative to it (e.g. `1/<run>/artifacts/x`)."""

    def __init__(self, destination: str):
        self.destination = destination
        self.local_root: Path | None = None
        self._repo = None
        if is_local_destination(destination):
            from flightlog.artifacts.local import local_path_from_uri

            self.local_root = local_path_from_uri(destination).resolve()
            self.local_root.mkdir(parents=True, exist_ok=True)

    @property
    def repo(self):
        if self._repo is None:
            from flightlog.artifacts import get_artifact_repository

            self._repo = get_artifact_repository(self.destination)
        return self._repo

    def local_path(self, rel: str) -> Path:
        """The file for `rel` under a local root, refusing symlinks that lead outside it."""
        assert self.local_root is not None
        target = (self.local_root / rel).resolve() if rel else self.local_root
        if target != self.local_root and self.local_root not in target.parents:
            raise ArtifactPathError(f"Artifact path {rel!r} escapes the artifact root")
        return target

    # --- uploads -------------------------------------------------------------------------
    def begin_upload(self, rel: str) -> tuple[Path, Path]:
        """(temp file to write, final path); the caller streams into the temp file."""
        if not rel:
            raise ArtifactPathError("An upload must name a file, got an empty artifact path")
        if self.local_root is not None:
            final = self.local_path(rel)
            if final.is_dir():
                raise InvalidParameterError(f"Artifact path {rel!r} is a directory")
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise client_os_error(exc, rel) from exc
            temp = final.parent / f".{uuid.uuid4().hex}.{_upload_owner()}{UPLOAD_SUFFIX}"
            return temp, final
        tmp_dir = Path(tempfile.mkdtemp(prefix="flightlog-upload-"))
        return tmp_dir / posixpath.basename(rel), Path(rel)

    def finish_upload(self, temp: Path, final: Path, rel: str) -> None:
        if self.local_root is not None:
            os.replace(temp, final)
            return
        try:
            head = posixpath.dirname(rel)
            self.repo.log_artifact(str(temp), head or None)
        finally:
            shutil.rmtree(temp.parent, ignore_errors=True)

    def abort_upload(self, temp: Path) -> None:
        try:
            temp.unlink()
        except OSError:
            pass
        if self.local_root is None:
            shutil.rmtree(temp.parent, ignore_errors=True)

    # --- reads ---------------------------------------------------------------------------
    def list(self, rel: str) -> list[FileInfo]:
        """Direct children of `rel`, named by basename (as MLflow's proxy answers)."""
        if self.local_root is None:
            infos = self.repo.list_artifacts(rel or None)
            return [FileInfo(posixpath.basename(i.path), i.is_dir, i.file_size) for i in infos]
        folder = self.local_path(rel)
        if not folder.is_dir():
            return []
        out = []
        for child in sorted(folder.iterdir(), key=lambda p: p.name):
            if child.name.endswith(UPLOAD_SUFFIX) and child.name.startswith("."):
                continue  # an upload still being written
            if child.is_dir():
                out.append(FileInfo(child.name, True, None))
            else:
                out.append(FileInfo(child.name, False, child.stat().st_size))
        return out

    def fetch(self, rel: str) -> tuple[Path, str | None]:
        """(local file to send, temp folder to delete afterwards or None)."""
        if not rel:
            raise InvalidParameterError("Name a file to download, not the artifact root")
        if self.local_root is not None:
            path = self.local_path(rel)
            if path.is_dir():
                raise InvalidParameterError(f"Artifact path {rel!r} is a directory; list it")
            if not path.is_file():
                raise ResourceNotFoundError(f"Artifact {rel!r} does not exist")
            return path, None
        tmp = tempfile.mkdtemp(prefix="flightlog-download-")
        try:
            local = self.repo.download_artifacts(rel, tmp)
        except Exception:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if os.path.isdir(local):
            shutil.rmtree(tmp, ignore_errors=True)
            raise InvalidParameterError(f"Artifact path {rel!r} is a directory; list it")
        return Path(local), tmp

    def delete(self, rel: str) -> None:
        if not rel:
            raise InvalidParameterError("Refusing to delete the whole artifact root")
        if self.local_root is None:
            delete = getattr(self.repo, "delete_artifacts", None)
            if delete is None:
                raise InvalidParameterError(
                    f"Deleting artifacts is not supported for {self.destination!r}"
                )
            delete(rel)
            return
        path = self.local_path(rel)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            raise ResourceNotFoundError(f"Artifact {rel!r} does not exist")
