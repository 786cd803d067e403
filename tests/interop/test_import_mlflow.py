"""`flightlog db import-mlflow` on a store that MLflow itself wrote: the real mlflow 3.17 client
(in a subprocess) fills a SQLite store with 3 experiments, 20 runs (nested ones, a deleted one,
a failed one), metric histories, params, tags, a dataset input, artifacts, and a registered
model with 2 versions and an alias. After the import, flightlog's client reads back the same
things MLflow's client reads from the original."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")

MAKE_STORE = textwrap.dedent(
    """
    import math, os, sys, tempfile
    from pathlib import Path
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.data.pandas_dataset import from_pandas

    root = Path(sys.argv[1])
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri, registry_uri=uri)

    def history(run_id, key, n, scale, start=1_700_000_000_000):
        for step in range(n):
            value = scale / (step + 1)
            if key == "odd" and step == 3:
                value = math.nan
            client.log_metric(run_id, key, value, timestamp=start + 10 * step, step=step)

    made = 0
    plan = {"exp-a": (1, 5, 2), "exp-b": (1, 3, 3), "exp-c": (0, 0, 5)}
    model_runs = []
    for name, (parents, children, plain) in plan.items():
        exp = client.create_experiment(
            name, artifact_location=str(root / "mlartifacts" / name), tags={"team": name[-1]}
        )
        for p in range(parents):
            with mlflow.start_run(experiment_id=exp, run_name=f"{name}-parent") as parent:
                mlflow.log_params({"lr": 0.01 * (p + 1), "optimizer": "adam"})
                mlflow.set_tags({"stage": "search", "owner": "ml"})
                history(parent.info.run_id, "best_loss", 12, 2.0)
                made += 1
                for c in range(children):
                    with mlflow.start_run(run_name=f"{name}-child-{c}", nested=True) as child:
                        mlflow.log_param("fold", c)
                        history(child.info.run_id, "loss", 30 + c, 1.0 + c)
                        history(child.info.run_id, "odd", 6, 1.0)
                        made += 1
        for i in range(plain):
            with mlflow.start_run(experiment_id=exp, run_name=f"{name}-run-{i}") as run:
                mlflow.log_param("i", i)
                history(run.info.run_id, "acc", 8, 0.5)
                if i == 0:
                    with tempfile.TemporaryDirectory() as tmp:
                        Path(tmp, "data").mkdir()
                        Path(tmp, "data", "table.csv").write_text("a,b\\n1,2\\n")
                        Path(tmp, "data", "deep").mkdir()
                        Path(tmp, "data", "deep", "blob.bin").write_bytes(bytes(range(256)))
                        mlflow.log_artifacts(tmp)
                    mlflow.log_text("notes for " + name, "notes.txt")
                    mlflow.log_dict({"k": [1, 2, 3]}, "config/params.json")
                    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
                    mlflow.log_input(from_pandas(frame, name=f"{name}-train"), context="training")
                if name == "exp-b" and i < 2:
                    with tempfile.TemporaryDirectory() as tmp:
                        Path(tmp, "MLmodel").write_text(f"flavors: {{}}\\nrun: {i}\\n")
                        mlflow.log_artifacts(tmp, "model")
                    model_runs.append(run.info)
                made += 1
            if name == "exp-c" and i == 1:
                client.set_terminated(run.info.run_id, "FAILED")
            if name == "exp-c" and i == 2:
                client.delete_run(run.info.run_id)
    assert made == 20, made

    client.create_registered_model("churn", tags={"domain": "retention"}, description="churn model")
    for n, info in enumerate(model_runs):
        client.create_model_version(
            "churn", f"{info.artifact_uri}/model", run_id=info.run_id,
            tags={"n": str(n)}, description=f"version from {info.run_name}",
        )
    client.set_registered_model_alias("churn", "champion", "2")
    client.set_model_version_tag("churn", "1", "validated", "yes")
    print("ok")
    """
)


def _make_mlflow_store(root: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI",)}
    result = subprocess.run(
        [sys.executable, "-c", MAKE_STORE, str(root)],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return f"sqlite:///{root / 'mlflow.db'}"


def _number(value: float) -> float | str:
    return "nan" if math.isnan(value) else value


def describe(client, view_all, run_view_all, scratch: Path) -> dict:
    """What a user reads through an MLflow-style client: the same calls for both libraries."""
    out: dict = {"experiments": {}, "runs": {}, "models": {}}
    experiments = client.search_experiments(view_type=view_all)
    ids = {}
    for e in experiments:
        out["experiments"][e.name] = {"tags": dict(e.tags), "stage": e.lifecycle_stage}
        ids[e.name] = e.experiment_id
    for name, experiment_id in sorted(ids.items()):
        for run in client.search_runs(
            [experiment_id], run_view_type=run_view_all, max_results=1000
        ):
            info, data = run.info, run.data
            histories = {
                key: [
                    (m.step, m.timestamp, _number(m.value))
                    for m in sorted(
                        client.get_metric_history(info.run_id, key),
                        key=lambda m: (m.step, m.timestamp),
                    )
                ]
                for key in data.metrics
            }
            datasets = sorted(
                (
                    d.dataset.name,
                    d.dataset.digest,
                    sorted((t.key, t.value) for t in d.tags),
                )
                for d in run.inputs.dataset_inputs
            )
            out["runs"][info.run_id] = {
                "experiment": name,
                "name": info.run_name,
                "status": info.status,
                "start": info.start_time,
                "end": info.end_time,
                "user": info.user_id,
                "stage": info.lifecycle_stage,
                "params": dict(data.params),
                "tags": dict(data.tags),
                "metrics": {k: _number(v) for k, v in data.metrics.items()},
                "histories": histories,
                "datasets": datasets,
                "artifacts": _artifacts(client, info.run_id, scratch),
            }
    for model in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{model.name}'")
        out["models"][model.name] = {
            "description": model.description or "",
            "tags": dict(model.tags),
            "aliases": {
                alias: client.get_model_version_by_alias(model.name, alias).run_id
                for alias in model.aliases
            },
            "versions": sorted(
                (
                    str(v.version),
                    v.run_id,
                    v.description or "",
                    sorted(v.tags.items()),
                    v.current_stage,
                    _model_file(client, v, scratch),
                )
                for v in versions
            ),
        }
    return out


def _artifacts(client, run_id: str, scratch: Path) -> dict:
    files: dict[str, str] = {}

    def walk(path):
        for f in client.list_artifacts(run_id, path):
            if f.is_dir:
                walk(f.path)
            else:
                local = client.download_artifacts(run_id, f.path, str(scratch))
                files[f.path] = hashlib.sha256(Path(local).read_bytes()).hexdigest()

    walk(None)
    return files


def _model_file(client, version, scratch: Path) -> str:
    """The MLmodel text under the version's source (resolved by the reading library)."""
    name = client.__class__.__module__.split(".")[0]
    if name == "mlflow":
        from mlflow.artifacts import download_artifacts

        local = download_artifacts(
            artifact_uri=f"{version.source}/MLmodel",
            dst_path=str(scratch),
            tracking_uri=client.tracking_uri,
        )
    else:
        from flightlog.artifacts import download_artifacts

        local = download_artifacts(
            artifact_uri=f"{version.source}/MLmodel",
            dst_path=str(scratch),
            tracking_uri=client.tracking_uri,
        )
    return Path(local).read_text()


def test_import_an_mlflow_store_reads_back_the_same(tmp_path, monkeypatch):
    from mlflow import MlflowClient
    from mlflow.entities import ViewType as MlflowViewType

    import flightlog
    from flightlog.cli import main
    from flightlog.entities import ViewType

    source_dir = tmp_path / "mlflow-store"
    source_dir.mkdir()
    source = _make_mlflow_store(source_dir)
    db_bytes = (source_dir / "mlflow.db").read_bytes()

    original = describe(
        MlflowClient(source, registry_uri=source),
        MlflowViewType.ALL,
        MlflowViewType.ALL,
        tmp_path / "scratch-mlflow",
    )
    assert len(original["runs"]) == 20
    assert sum(1 for r in original["runs"].values() if "mlflow.parentRunId" in r["tags"]) == 8
    assert {r["stage"] for r in original["runs"].values()} == {"active", "deleted"}

    dest = f"sqlite:///{tmp_path / 'flightlog' / 'flightlog.db'}"
    monkeypatch.chdir(tmp_path)
    assert main(["db", "import-mlflow", f"mlflow://{source}", "--to", dest, "--quiet"]) == 0
    imported = describe(
        flightlog.MlflowClient(tracking_uri=dest),
        ViewType.ALL,
        ViewType.ALL,
        tmp_path / "scratch-flightlog",
    )
    assert imported == original
    # the MLflow store was only read
    assert (source_dir / "mlflow.db").read_bytes() == db_bytes

    # a second import finds everything there and changes nothing
    assert main(["db", "import-mlflow", source, "--to", dest, "--quiet"]) == 0
    again = describe(
        flightlog.MlflowClient(tracking_uri=dest),
        ViewType.ALL,
        ViewType.ALL,
        tmp_path / "scratch-again",
    )
    assert again == original


def test_import_refuses_a_missing_store_and_creates_nothing(tmp_path, capsys):
    from flightlog.cli import main

    missing = tmp_path / "nope.db"
    dest = f"sqlite:///{tmp_path / 'dest.db'}"
    assert main(["db", "import-mlflow", f"sqlite:///{missing}", "--to", dest]) == 1
    assert "No MLflow database" in capsys.readouterr().err
    assert not missing.exists()
