"""MLflow compatibility both ways, with the real `mlflow` package (3.17.2) as the peer.

1. The official mlflow client logs into `flightlog server` and reads everything back; flightlog's
   client reads the same values.
2. flightlog's client logs the same into a real `mlflow server`; mlflow's client reads identical
   values back.
"""

from __future__ import annotations

import interop_data as d
from conftest import run_mlflow_peer

import flightlog
from flightlog.client import TrackingClient

EXPECTED_ARTIFACTS = {"config/params.json", "notes.txt", "data/a.csv", "data/sub/b.bin"}


def _check_against_logged(described: dict) -> None:
    # Both servers keep +/-inf as +/-float max (MLflow's SQL store rule, which flightlog follows).
    assert d.strip_timestamps(described) == d.expected(inf_as_float_max=True)
    runs = described["runs"]
    parent = runs[d.PARENT]
    assert parent["status"] == "FINISHED"
    assert parent["run_name"] == parent["run_name_tag"] == d.PARENT
    assert set(parent["artifacts"]) == EXPECTED_ARTIFACTS
    assert all(runs[c]["artifacts"] == {} for c in d.CHILDREN)
    assert parent["latest"]["loss"] == 1.0 / d.STEPS and parent["latest"]["odd"] == 0.0
    assert parent["artifact_uri"].startswith("mlflow-artifacts:/")


def test_mlflow_client_logs_into_flightlog_server(flightlog_server, tmp_path):
    out = run_mlflow_peer("log", flightlog_server.url, tmp_path=tmp_path)
    by_mlflow = out["read"]
    _check_against_logged(by_mlflow)

    # flightlog's client reads the very same values, timestamps included.
    scratch = tmp_path / "flightlog-read"
    by_flightlog = d.describe(TrackingClient(flightlog_server.url), out["run_ids"], str(scratch))
    assert by_flightlog == by_mlflow
    # And the files the mlflow client uploaded are byte-identical to the originals.
    source = tmp_path / "source"
    d.artifact_files(str(source))
    parent = by_flightlog["runs"][d.PARENT]["artifacts"]
    assert parent["data/sub/b.bin"] == d.digest(str(source / "sub" / "b.bin"))


def _log_with_flightlog(tmp_path) -> dict[str, str]:
    flightlog.set_experiment(d.EXPERIMENT)
    run_ids = {}
    with flightlog.start_run(run_name=d.PARENT) as parent:
        run_ids[d.PARENT] = parent.info.run_id
        flightlog.log_params(d.PARAMS)
        flightlog.set_tags(d.TAGS)
        for key, points in d.parent_metrics().items():
            for step, value in points:
                flightlog.log_metric(key, value, step=step)
        for i, name in enumerate(d.CHILDREN):
            with flightlog.start_run(run_name=name, nested=True) as child:
                run_ids[name] = child.info.run_id
                flightlog.log_param("fold", i)
                for key, points in d.child_metrics(i).items():
                    for step, value in points:
                        flightlog.log_metric(key, value, step=step)
        source = tmp_path / "source"
        d.artifact_files(str(source))
        flightlog.log_artifacts(str(source), "data")
        flightlog.log_dict(d.DICT_ARTIFACT, "config/params.json")
        flightlog.log_text(d.TEXT_ARTIFACT, "notes.txt")
    assert flightlog.flush(timeout=60)
    return run_ids


def test_flightlog_client_logs_into_mlflow_server(mlflow_server, tmp_path, monkeypatch):
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", mlflow_server.url)
    run_ids = _log_with_flightlog(tmp_path)

    by_mlflow = run_mlflow_peer("read", mlflow_server.url, _json(run_ids), tmp_path=tmp_path)[
        "read"
    ]
    _check_against_logged(by_mlflow)
    by_flightlog = d.describe(TrackingClient(mlflow_server.url), run_ids, str(tmp_path / "fl"))
    assert by_flightlog == by_mlflow


def test_flightlog_client_logs_into_flightlog_server_like_mlflow(
    flightlog_server, tmp_path, monkeypatch
):
    """The same run logged by flightlog into its own server reads back the same through mlflow."""
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", flightlog_server.url)
    monkeypatch.setenv("FLIGHTLOG_EXPERIMENT_NAME", "")
    run_ids = _log_with_flightlog(tmp_path)
    by_mlflow = run_mlflow_peer("read", flightlog_server.url, _json(run_ids), tmp_path=tmp_path)[
        "read"
    ]
    _check_against_logged(by_mlflow)


def _json(value) -> str:
    import json

    return json.dumps(value)
