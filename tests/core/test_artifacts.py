"""Local artifacts: upload, list, download, and paths that must not escape the run's root."""

import json
from pathlib import Path

import pytest
import yaml

import flightlog
from flightlog.artifacts import get_artifact_repository
from flightlog.artifacts.local import local_path_from_uri
from flightlog.exceptions import ArtifactPathError


def test_log_list_download_files_and_dirs(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("BB")
    single = tmp_path / "single.csv"
    single.write_text("x,y\n1,2\n")
    with flightlog.start_run() as run:
        flightlog.log_artifact(str(single))
        flightlog.log_artifact(str(single), artifact_path="data")
        flightlog.log_artifacts(str(src), artifact_path="bundle")
        flightlog.log_text("hello", "notes/hello.txt")
        flightlog.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        flightlog.log_dict({"a": 1}, "config.yaml")
        flightlog.log_table({"x": [1, 2], "y": ["a", "b"]}, "table.json")
    client = flightlog.MlflowClient()
    rid = run.info.run_id
    root = [(f.path, f.is_dir) for f in client.list_artifacts(rid)]
    assert root == [
        ("bundle", True),
        ("config.json", False),
        ("config.yaml", False),
        ("data", True),
        ("notes", True),
        ("single.csv", False),
        ("table.json", False),
    ]
    bundle = client.list_artifacts(rid, "bundle")
    assert [(f.path, f.file_size) for f in bundle] == [("bundle/a.txt", 1), ("bundle/sub", None)]
    out = client.download_artifacts(rid, "bundle", str(tmp_path / "dl"))
    assert (tmp_path / "dl" / "bundle" / "sub" / "b.txt").read_text() == "BB"
    assert out.endswith("bundle")
    one = client.download_artifacts(rid, "notes/hello.txt", str(tmp_path / "dl2"))
    assert Path(one).read_text() == "hello"

    base = local_path_from_uri(run.info.artifact_uri)
    assert json.loads((base / "config.json").read_text()) == {"a": 1, "b": [1, 2]}
    assert yaml.safe_load((base / "config.yaml").read_text()) == {"a": 1}
    assert json.loads((base / "table.json").read_text()) == {
        "columns": ["x", "y"],
        "data": [[1, "a"], [2, "b"]],
    }


def test_log_figure_saves_png():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with flightlog.start_run() as run:
        flightlog.log_figure(fig, "plots/curve.png")
    plt.close(fig)
    path = local_path_from_uri(run.info.artifact_uri) / "plots" / "curve.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "bad", ["../outside", "a/../../outside", "/etc", "..\\win", "C:\\evil", "ok/\x00nul"]
)
def test_paths_cannot_escape_the_artifact_root(tmp_path, bad):
    f = tmp_path / "f.txt"
    f.write_text("x")
    with flightlog.start_run() as run:
        flightlog.log_text("kept", "kept.txt")
        with pytest.raises(ArtifactPathError):
            flightlog.log_artifact(str(f), artifact_path=bad)
        with pytest.raises(ArtifactPathError):
            flightlog.log_text("x", f"{bad}/x.txt")
    client = flightlog.MlflowClient()
    with pytest.raises(ArtifactPathError):
        client.download_artifacts(run.info.run_id, bad, str(tmp_path / "dl"))
    with pytest.raises(ArtifactPathError):
        client.list_artifacts(run.info.run_id, bad)
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["kept.txt"]
    assert not (tmp_path / "outside").exists()


def test_symlink_out_of_root_is_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "s.txt").write_text("secret")
    with flightlog.start_run() as run:
        flightlog.log_text("x", "x.txt")
    root = local_path_from_uri(run.info.artifact_uri)
    (root / "link").symlink_to(secret)
    repo = get_artifact_repository(run.info.artifact_uri)
    with pytest.raises(ArtifactPathError):
        repo.download_artifacts("link/s.txt", str(tmp_path / "dl"))


def test_artifact_uri_layout():
    exp_id = flightlog.create_experiment("layout")
    with flightlog.start_run(experiment_id=exp_id) as run:
        uri = flightlog.get_artifact_uri()
        assert flightlog.get_artifact_uri("model") == uri + "/model"
    assert uri == run.info.artifact_uri
    assert uri.endswith(f"/{exp_id}/{run.info.run_id}/artifacts")
    assert uri.startswith("file://")
