"""Artifacts in S3-compatible object storage (`s3://bucket/prefix`): AWS S3, MinIO, Ceph, R2.

Objects are keyed `<prefix>/<artifact path>`; a "folder" is a key prefix, as S3 has no folders.
Large files go up and down through boto3's managed transfers, which split them into multipart
parts of `FLIGHTLOG_S3_MULTIPART_CHUNK_MB` (default 16) and never hold a whole file in memory.

The endpoint comes from `FLIGHTLOG_S3_ENDPOINT_URL`, else `MLFLOW_S3_ENDPOINT_URL` (so an MLflow
deployment's settings carry over), else boto3's own configuration (`AWS_ENDPOINT_URL`, profiles).
Credentials and region are boto3's usual ones (environment, ~/.aws, instance roles).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flightlog.artifacts.base import ArtifactRepository, clean_artifact_path
from flightlog.entities import FileInfo
from flightlog.exceptions import (
    ArtifactPathError,
    InvalidParameterError,
    ResourceNotFoundError,
    StoreUnavailableError,
    UnsupportedUriError,
)

_MIB = 1 << 20


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` -> ("bucket", "a/b"); the prefix has no leading or trailing slash."""
    parsed = urlparse(uri)
    if parsed.scheme.lower() != "s3" or not parsed.netloc:
        raise UnsupportedUriError(f"Not an S3 URI (expected s3://bucket/prefix): {uri!r}")
    prefix = parsed.path.strip("/")
    if prefix:
        # The prefix is ours to trust, but a '..' in it would make keys that tools resolve
        # outside the intended folder.
        clean_artifact_path(prefix)
    return parsed.netloc, prefix


def endpoint_url() -> str | None:
    return (
        os.environ.get("FLIGHTLOG_S3_ENDPOINT_URL")
        or os.environ.get("MLFLOW_S3_ENDPOINT_URL")
        or None
    )


def _transfer_config():
    from boto3.s3.transfer import TransferConfig

    chunk_mb = int(os.environ.get("FLIGHTLOG_S3_MULTIPART_CHUNK_MB", "16"))
    chunk = max(5, chunk_mb) * _MIB  # S3's smallest allowed part is 5 MiB
    return TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk)


def _client() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise UnsupportedUriError(
            "s3:// artifact locations need boto3: pip install 'flightlog[s3]'"
        ) from exc
    verify = os.environ.get("MLFLOW_S3_IGNORE_TLS", "").lower() not in ("1", "true")
    return boto3.client("s3", endpoint_url=endpoint_url(), verify=verify)


class S3ArtifactRepository(ArtifactRepository):
    """A run's (or the server's) artifact root in a bucket."""

    def __init__(self, artifact_uri: str):
        super().__init__(artifact_uri)
        self.bucket, self.prefix = parse_s3_uri(artifact_uri)
        self._s3 = None

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = _client()
        return self._s3

    # --- keys --------------------------------------------------------------------------------
    def _key(self, artifact_path: str | None) -> str:
        rel = clean_artifact_path(artifact_path)
        return posixpath.join(self.prefix, rel) if self.prefix and rel else (self.prefix or rel)

    def _relative(self, key: str) -> str:
        if not self.prefix:
            return key
        return key[len(self.prefix) + 1 :] if key.startswith(self.prefix + "/") else key

    def _call(self, what: str, fn, *args, **kwargs):
        """Run one S3 call, turning botocore's errors into flightlog's."""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            try:
                return fn(*args, **kwargs)
            except S3UploadFailedError as wrapped:
                # Managed uploads wrap the ClientError that says what went wrong.
                cause = wrapped.__context__ or wrapped.__cause__
                if isinstance(cause, ClientError):
                    raise cause from wrapped
                raise InvalidParameterError(f"{what}: {wrapped}") from wrapped
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise ResourceNotFoundError(f"{what}: not found in s3://{self.bucket}") from exc
            if code == "NoSuchBucket":
                raise ResourceNotFoundError(
                    f"{what}: bucket {self.bucket!r} does not exist"
                ) from exc
            if code in ("SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"):
                raise StoreUnavailableError(f"{what}: S3 answered {code}") from exc
            raise InvalidParameterError(f"{what}: S3 refused the request ({code})") from exc
        except BotoCoreError as exc:  # connection refused, timeouts, bad endpoint
            raise StoreUnavailableError(f"{what}: S3 endpoint unreachable ({exc})") from exc

    # --- writes ------------------------------------------------------------------------------
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        src = Path(local_file)
        if not src.is_file():
            raise ResourceNotFoundError(f"No such file to log as an artifact: {local_file}")
        key = self._key(posixpath.join(clean_artifact_path(artifact_path), src.name))
        self._call(
            f"Uploading {src.name}",
            self.s3.upload_file,
            str(src),
            self.bucket,
            key,
            Config=_transfer_config(),
        )

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        src = Path(local_dir)
        if not src.is_dir():
            raise ResourceNotFoundError(f"No such directory to log as artifacts: {local_dir}")
        base = clean_artifact_path(artifact_path)
        for root, _dirs, files in os.walk(src):
            rel_dir = Path(root).relative_to(src).as_posix()
            dest = posixpath.join(base, rel_dir) if rel_dir != "." else base
            for name in sorted(files):
                self.log_artifact(os.path.join(root, name), dest or None)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete one object, or every object under a folder; the root cannot be deleted."""
        rel = clean_artifact_path(artifact_path)
        if not rel:
            raise InvalidParameterError("Refusing to delete the whole artifact root")
        key = self._key(rel)
        keys = [key] if self._exists(key) else [o["Key"] for o in self._objects(key + "/")]
        if not keys:
            raise ResourceNotFoundError(
                f"Artifact {rel!r} does not exist under {self.artifact_uri}"
            )
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self._call(
                f"Deleting {rel}",
                self.s3.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )

    # --- reads -------------------------------------------------------------------------------
    def _exists(self, key: str) -> bool:
        if not key:
            return False
        try:
            self._call(key, self.s3.head_object, Bucket=self.bucket, Key=key)
        except ResourceNotFoundError:
            return False
        return True

    def _objects(self, key_prefix: str):
        paginator = self.s3.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=key_prefix)
        for page in self._call(f"Listing {key_prefix}", lambda: list(pages)):
            yield from page.get("Contents", [])

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = clean_artifact_path(path)
        folder_key = self._key(rel)
        key_prefix = f"{folder_key}/" if folder_key else ""
        paginator = self.s3.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=key_prefix, Delimiter="/")
        infos: list[FileInfo] = []
        for page in self._call(f"Listing {rel or '/'}", lambda: list(pages)):
            for common in page.get("CommonPrefixes", []):
                infos.append(FileInfo(self._relative(common["Prefix"].rstrip("/")), True, None))
            for obj in page.get("Contents", []):
                if obj["Key"] == key_prefix:  # a zero-byte "folder marker" some tools write
                    continue
                infos.append(FileInfo(self._relative(obj["Key"]), False, int(obj["Size"])))
        return sorted(infos, key=lambda i: i.path)

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        rel = clean_artifact_path(artifact_path)
        dst_root = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="flightlog-"))
        dst_root.mkdir(parents=True, exist_ok=True)
        key = self._key(rel)
        if rel and self._exists(key):
            dest = dst_root / posixpath.basename(rel)
            self._download(key, dest)
            return str(dest.resolve())
        objects = list(self._objects(f"{key}/" if key else ""))
        if not objects:
            raise ResourceNotFoundError(
                f"Artifact {artifact_path!r} does not exist under {self.artifact_uri}"
            )
        dest = dst_root / posixpath.basename(rel) if rel else dst_root
        for obj in objects:
            inner = obj["Key"][len(key) + 1 :] if key else obj["Key"]
            if not inner or inner.endswith("/"):
                continue
            target = (dest / inner).resolve()
            if dest.resolve() not in target.parents:
                raise ArtifactPathError(f"Object key {obj['Key']!r} escapes the download folder")
            self._download(obj["Key"], target)
        return str(dest.resolve())

    def _download(self, key: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._call(
            f"Downloading {key}",
            self.s3.download_file,
            self.bucket,
            key,
            str(dest),
            Config=_transfer_config(),
        )
