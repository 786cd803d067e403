"""The s3:// artifact repository against a real S3 API (moto's server mode over loopback):
uploads (multipart for large files), listing, downloads, deletes, path rules, the fluent API
on an experiment whose artifact location is a bucket, and `flightlog server` proxying to S3."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import flightlog
from flightlog.artifacts import get_artifact_repository
from flightlog.artifacts.s3 import S3ArtifactRepository, parse_s3_uri
from flightlog.exceptions import (
    ArtifactPathError,
    InvalidParameterError,
    ResourceNotFoundError,
    UnsupportedUriError,
)


def _keys(s3, bucket: str) -> list[str]:
    found = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(o["Key"] for o in found)


def _tree(tmp_path):
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.json").write_text('{"b": 1}')
    (src / "sub" / "deeper" / "c.bin").write_bytes(bytes(range(256)))
    return src


def test_uri_parsing_and_refusals():
    assert parse_s3_uri("s3://bkt/a/b/") == ("bkt", "a/b")
    assert parse_s3_uri("s3://bkt") == ("bkt", "")
    with pytest.raises(UnsupportedUriError, match="s3://bucket/prefix"):
        parse_s3_uri("s3:///no-bucket")
    with pytest.raises(ArtifactPathError, match=r"\.\."):
        parse_s3_uri("s3://bkt/a/../../b")
    assert isinstance(get_artifact_repository("s3://bkt/p"), S3ArtifactRepository)


def test_upload_list_download_delete(bucket, s3, tmp_path):
    repo = get_artifact_repository(f"s3://{bucket}/exp/run1/artifacts")
    src = _tree(tmp_path)
    repo.log_artifact(str(src / "a.txt"))
    repo.log_artifacts(str(src / "sub"), "nested")
    repo.log_bytes(b"hello", "notes/readme.md")

    assert _keys(s3, bucket) == [
        "exp/run1/artifacts/a.txt",
        "exp/run1/artifacts/nested/b.json",
        "exp/run1/artifacts/nested/deeper/c.bin",
        "exp/run1/artifacts/notes/readme.md",
    ]
    top = repo.list_artifacts()
    assert [(i.path, i.is_dir, i.file_size) for i in top] == [
        ("a.txt", False, 5),
        ("nested", True, None),
        ("notes", True, None),
    ]
    inner = repo.list_artifacts("nested")
    assert [(i.path, i.is_dir) for i in inner] == [
        ("nested/b.json", False),
        ("nested/deeper", True),
    ]
    assert repo.list_artifacts("missing") == []

    one = repo.download_artifacts("a.txt", str(tmp_path / "dl1"))
    assert Path(one).read_text() == "alpha"
    folder = repo.download_artifacts("nested", str(tmp_path / "dl2"))
    assert Path(folder, "b.json").read_text() == '{"b": 1}'
    assert Path(folder, "deeper", "c.bin").read_bytes() == bytes(range(256))
    whole = repo.download_artifacts("", str(tmp_path / "dl3"))
    assert sorted(os.listdir(whole)) == ["a.txt", "nested", "notes"]
    with pytest.raises(ResourceNotFoundError, match="missing.txt"):
        repo.download_artifacts("missing.txt", str(tmp_path / "dl4"))

    repo.delete_artifacts("nested")
    assert _keys(s3, bucket) == ["exp/run1/artifacts/a.txt", "exp/run1/artifacts/notes/readme.md"]
    repo.delete_artifacts("a.txt")
    assert _keys(s3, bucket) == ["exp/run1/artifacts/notes/readme.md"]
    with pytest.raises(ResourceNotFoundError):
        repo.delete_artifacts("a.txt")
    with pytest.raises(InvalidParameterError, match="whole artifact root"):
        repo.delete_artifacts("")


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/passwd", "a\x00b"])
def test_path_traversal_refused(bucket, s3, tmp_path, bad):
    repo = get_artifact_repository(f"s3://{bucket}/root")
    src = _tree(tmp_path)
    with pytest.raises(ArtifactPathError):
        repo.log_artifact(str(src / "a.txt"), bad)
    with pytest.raises(ArtifactPathError):
        repo.download_artifacts(bad, str(tmp_path / "dl"))
    with pytest.raises(ArtifactPathError):
        repo.list_artifacts(bad)
    assert _keys(s3, bucket) == []


def test_missing_bucket_is_a_clear_error(s3_env, tmp_path):
    src = _tree(tmp_path)
    repo = get_artifact_repository("s3://no-such-bucket-flightlog/x")
    with pytest.raises(ResourceNotFoundError, match="no-such-bucket-flightlog"):
        repo.log_artifact(str(src / "a.txt"))


@pytest.mark.slow
def test_100_mb_upload_is_multipart_and_round_trips(bucket, s3, tmp_path, monkeypatch):
    monkeypatch.setenv("FLIGHTLOG_S3_MULTIPART_CHUNK_MB", "16")
    big = tmp_path / "model.bin"
    digest = hashlib.sha256()
    with open(big, "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(100):
            chunk = block[i:] + block[:i]
            digest.update(chunk)
            f.write(chunk)
    repo = get_artifact_repository(f"s3://{bucket}/big")
    repo.log_artifact(str(big), "model")

    head = s3.head_object(Bucket=bucket, Key="big/model/model.bin")
    assert head["ContentLength"] == 100 << 20
    # A multipart object's ETag is "<md5 of part md5s>-<number of parts>".
    assert head["ETag"].strip('"').endswith("-7"), head["ETag"]

    back = repo.download_artifacts("model/model.bin", str(tmp_path / "dl"))
    check = hashlib.sha256()
    with open(back, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            check.update(chunk)
    assert check.hexdigest() == digest.hexdigest()


def test_fluent_api_on_an_s3_experiment(bucket, s3, tmp_path):
    exp_id = flightlog.create_experiment("s3-exp", artifact_location=f"s3://{bucket}/team")
    with flightlog.start_run(experiment_id=exp_id) as run:
        flightlog.log_dict({"lr": 0.1}, "config/params.json")
        flightlog.log_text("done", "log.txt")
    artifact_uri = flightlog.get_run(run.info.run_id).info.artifact_uri
    assert artifact_uri.startswith(f"s3://{bucket}/team/")
    keys = _keys(s3, bucket)
    assert sorted(k.rsplit("/artifacts/", 1)[1] for k in keys) == ["config/params.json", "log.txt"]
    listed = flightlog.MlflowClient().list_artifacts(run.info.run_id, "config")
    assert [i.path for i in listed] == ["config/params.json"]
    path = flightlog.MlflowClient().download_artifacts(run.info.run_id, "log.txt", str(tmp_path))
    assert Path(path).read_text() == "done"


def test_server_proxies_artifacts_to_s3(bucket, s3, s3_env, tmp_path):
    """`flightlog server --artifacts-destination s3://...`: the official mlflow client uploads
    through the proxy, the objects land in the bucket, and come back byte for byte."""
    mlflow = pytest.importorskip("mlflow")
    from flightlog.server.process import ServerProcess

    env = {**os.environ, **s3_env}
    server = ServerProcess.flightlog(
        tmp_path / "server", artifacts_destination=f"s3://{bucket}/proxied", env=env
    )
    with server.start(timeout=60):
        client = mlflow.MlflowClient(tracking_uri=server.url)
        exp = client.create_experiment("proxied")
        run = client.create_run(exp)
        src = _tree(tmp_path)
        client.log_artifacts(run.info.run_id, str(src), "tree")

        keys = _keys(s3, bucket)
        assert len(keys) == 3
        assert all(k.startswith(f"proxied/{exp}/{run.info.run_id}/artifacts/tree/") for k in keys)
        listed = client.list_artifacts(run.info.run_id, "tree/sub")
        assert sorted(i.path for i in listed) == ["tree/sub/b.json", "tree/sub/deeper"]
        out = client.download_artifacts(run.info.run_id, "tree/sub/deeper/c.bin", str(tmp_path))
        assert Path(out).read_bytes() == bytes(range(256))
