"""The registry over REST: flightlog's client against `flightlog server` and `mlflow server`, and
the official mlflow client logging and registering models into `flightlog server`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import numpy as np
import pytest

import flightlog
import flightlog.sklearn
from flightlog.exceptions import (
    ModelVersionNotFoundError,
    RegisteredModelAlreadyExistsError,
    RegisteredModelNotFoundError,
)
from flightlog.models import load_model
from flightlog.server.process import ServerProcess


@pytest.fixture(scope="module")
def flightlog_server(tmp_path_factory) -> Iterator[ServerProcess]:
    proc = ServerProcess.flightlog(tmp_path_factory.mktemp("flightlog-server"))
    proc.start(timeout=60)
    try:
        yield proc
    finally:
        proc.stop()


def _use(server: ServerProcess) -> None:
    flightlog.set_tracking_uri(server.url)


def _register_alias_and_load(model, xy, name: str) -> str:
    x, _ = xy
    with flightlog.start_run() as run:
        info = flightlog.sklearn.log_model(
            model, name="model", input_example=x.head(3), registered_model_name=name
        )
    client = flightlog.MlflowClient()
    client.set_registered_model_alias(name, "champion", info.registered_model_version)
    expected = model.predict(x)
    for uri in (
        info.model_uri,
        f"models:/{name}/{info.registered_model_version}",
        f"models:/{name}@champion",
    ):
        np.testing.assert_array_equal(load_model(uri).predict(x), expected, err_msg=uri)
    by_alias = client.get_model_version_by_alias(name, "champion")
    assert by_alias.version == info.registered_model_version and by_alias.run_id == run.info.run_id
    return run.info.run_id


def test_register_alias_and_load_through_flightlog_server(flightlog_server, model, xy):
    _use(flightlog_server)
    run_id = _register_alias_and_load(model, xy, "churn")
    client = flightlog.MlflowClient()
    second = flightlog.register_model(f"runs:/{run_id}/model", "churn", tags={"stage": "ci"})
    assert second.version == "2" and second.tags == {"stage": "ci"}
    assert [v.version for v in client.search_model_versions("name = 'churn'")] == ["2", "1"]
    assert [v.version for v in client.search_model_versions(f"run_id = '{run_id}'")] == ["2", "1"]
    client.set_model_version_tag("churn", "2", "approved", "yes")
    client.update_model_version("churn", "2", description="ok")
    got = client.get_model_version("churn", "2")
    assert (got.tags["approved"], got.description) == ("yes", "ok")
    assert client.get_registered_model("churn").aliases == {"champion": "1"}
    # The download URI is an mlflow-artifacts:/ location, loaded through the server's proxy.
    download_uri = client.get_model_version_download_uri("churn", "1")
    assert download_uri.startswith("mlflow-artifacts:/")
    x, _ = xy
    np.testing.assert_array_equal(load_model(download_uri).predict(x), model.predict(x))

    with pytest.raises(RegisteredModelAlreadyExistsError):
        client.create_registered_model("churn")
    with pytest.raises(RegisteredModelNotFoundError):
        client.get_registered_model("nobody")
    with pytest.raises(ModelVersionNotFoundError):
        client.get_model_version("churn", "99")

    client.rename_registered_model("churn", "attrition")
    assert load_model("models:/attrition@champion").metadata.run_id == run_id
    client.delete_model_version("attrition", "2")
    client.delete_registered_model("attrition")
    assert [m.name for m in client.search_registered_models()] == []


def _run_mlflow(code: str, tracking_uri: str, cwd) -> str:
    env = dict(os.environ, MLFLOW_TRACKING_URI=tracking_uri)
    env.pop("FLIGHTLOG_TRACKING_URI", None)
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=cwd,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.interop
def test_mlflow_client_logs_and_registers_into_flightlog_server(
    flightlog_server, model, xy, tmp_path
):
    """MLflow 3's log_model uses the logged-models endpoints; each side loads the other's model."""
    _use(flightlog_server)
    x, _ = xy
    ours = _register_alias_and_load(model, xy, "shared")
    x.to_pickle(tmp_path / "x.pkl")
    with open(tmp_path / "model.pkl", "wb") as f:
        import pickle

        pickle.dump(model, f)
    result = json.loads(
        _run_mlflow(
            f"""
            import json, pickle, warnings
            warnings.filterwarnings("ignore")
            import mlflow, pandas as pd
            x = pd.read_pickle({str(tmp_path / "x.pkl")!r})
            model = pickle.load(open({str(tmp_path / "model.pkl")!r}, "rb"))
            theirs_on_ours = mlflow.pyfunc.load_model("runs:/{ours}/model").predict(x).tolist()
            by_alias = mlflow.sklearn.load_model("models:/shared@champion").predict(x).tolist()
            with mlflow.start_run() as run:
                info = mlflow.sklearn.log_model(
                    model, name="mlflow_model", input_example=x.head(2),
                    registered_model_name="shared", pip_requirements=["scikit-learn"],
                )
            print(json.dumps({{
                "run_id": run.info.run_id, "model_uri": info.model_uri,
                "version": str(info.registered_model_version),
                "pyfunc": theirs_on_ours, "alias": by_alias,
            }}))
            """,
            flightlog_server.url,
            tmp_path,
        )
    )
    expected = model.predict(x)
    assert result["pyfunc"] == expected.tolist() and result["alias"] == expected.tolist()
    assert result["model_uri"].startswith("models:/m-") and result["version"] == "2"
    for uri in (f"runs:/{result['run_id']}/mlflow_model", result["model_uri"], "models:/shared/2"):
        np.testing.assert_array_equal(load_model(uri).predict(x), expected, err_msg=uri)
    version = flightlog.MlflowClient().get_model_version("shared", "2")
    assert version.run_id == result["run_id"] and version.model_id == result["model_uri"][8:]


@pytest.mark.interop
@pytest.mark.slow
def test_flightlog_registry_against_mlflow_server(model, xy, tmp_path):
    with ServerProcess.mlflow(tmp_path / "mlflow-server") as server:
        _use(server)
        _register_alias_and_load(model, xy, "from-flightlog")
        client = flightlog.MlflowClient()
        assert [m.name for m in client.search_registered_models()] == ["from-flightlog"]
        latest = client.get_latest_versions("from-flightlog")
        assert [v.version for v in latest] == ["1"]
