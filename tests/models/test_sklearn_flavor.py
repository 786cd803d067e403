"""flightlog.sklearn: log, register and load a pipeline by every kind of URI; the files written."""

from __future__ import annotations

import json
import os
from importlib import metadata

import numpy as np
import pytest
import yaml

import flightlog
import flightlog.pyfunc
import flightlog.sklearn
from flightlog.exceptions import (
    InvalidParameterError,
    ModelNotFoundError,
    RegisteredModelNotFoundError,
    ResourceNotFoundError,
)
from flightlog.models import Model, infer_signature, load_model


def _artifact_dir(run_id: str, name: str) -> str:
    from flightlog.artifacts.local import local_path_from_uri

    return os.path.join(local_path_from_uri(flightlog.get_run(run_id).info.artifact_uri), name)


def test_round_trip_by_run_version_and_alias(pipeline, frame):
    with flightlog.start_run() as run:
        info = flightlog.sklearn.log_model(
            pipeline, name="model", input_example=frame.head(5), registered_model_name="churn"
        )
    # MLflow 3: the URI of the logged model; runs:/<run>/model still loads it (below)
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.registered_model_version == "1"
    client = flightlog.MlflowClient()
    client.set_registered_model_alias("churn", "champion", "1")

    expected = pipeline.predict(frame)
    for uri in (
        info.model_uri,
        f"runs:/{run.info.run_id}/model",
        "models:/churn/1",
        "models:/churn@champion",
        "models:/churn/latest",
    ):
        model = load_model(uri)
        np.testing.assert_array_equal(model.predict(frame), expected, err_msg=uri)
        assert model.metadata.run_id == run.info.run_id
    native = flightlog.sklearn.load_model("models:/churn@champion")
    assert type(native) is type(pipeline)
    np.testing.assert_array_equal(native.predict_proba(frame), pipeline.predict_proba(frame))

    # The signature was inferred from the example and the pipeline's prediction on it.
    sig = load_model(info.model_uri).metadata.signature
    assert [s.name for s in sig.inputs.inputs] == ["age", "income", "plan"]
    assert json.loads(sig.to_dict()["outputs"]) == [{"type": "long", "required": True}]
    assert info.signature == sig


def test_files_follow_mlflows_layout(pipeline, frame):
    with flightlog.start_run() as run:
        flightlog.sklearn.log_model(pipeline, "model", input_example=frame.head(3))
    folder = _artifact_dir(run.info.run_id, "model")
    assert sorted(os.listdir(folder)) == [
        "MLmodel",
        "conda.yaml",
        "input_example.json",
        "model.pkl",
        "python_env.yaml",
        "requirements.txt",
        "serving_input_example.json",
    ]
    with open(os.path.join(folder, "MLmodel")) as f:
        mlmodel = yaml.safe_load(f)
    assert mlmodel["artifact_path"] == "model" and mlmodel["run_id"] == run.info.run_id
    assert len(mlmodel["model_uuid"]) == 32 and mlmodel["utc_time_created"]
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert mlmodel["flavors"]["python_function"]["model_path"] == "model.pkl"
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    assert mlmodel["flavors"]["sklearn"]["sklearn_version"] == metadata.version("scikit-learn")
    assert mlmodel["saved_input_example_info"] == {
        "artifact_path": "input_example.json",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
        "type": "dataframe",
    }
    assert set(mlmodel["signature"]) == {"inputs", "outputs", "params"}
    with open(os.path.join(folder, "requirements.txt")) as f:
        requirements = f.read().splitlines()
    for dist in ("scikit-learn", "cloudpickle", "numpy", "pandas"):
        assert f"{dist}=={metadata.version(dist)}" in requirements
    with open(os.path.join(folder, "serving_input_example.json")) as f:
        serving = json.load(f)
    assert serving["dataframe_split"]["columns"] == ["age", "income", "plan"]
    example = Model.load(folder).load_input_example(folder)
    assert example.shape == (3, 3) and list(example.columns) == ["age", "income", "plan"]
    with open(os.path.join(folder, "conda.yaml")) as f:
        conda = yaml.safe_load(f)
    assert {"pip": requirements} in conda["dependencies"]
    history = json.loads(flightlog.get_run(run.info.run_id).data.tags["mlflow.log-model.history"])
    assert [h["artifact_path"] for h in history] == ["model"]


def test_mlflow_spellings_and_options(pipeline, frame, tmp_path):
    with flightlog.start_run():
        info = flightlog.sklearn.log_model(
            sk_model=pipeline,
            artifact_path="clf",
            signature=infer_signature(frame, pipeline.predict(frame)),
            pyfunc_predict_fn="predict_proba",
        )
        with pytest.raises(InvalidParameterError, match="either name or artifact_path"):
            flightlog.sklearn.log_model(pipeline, name="a", artifact_path="b")
        with pytest.raises(InvalidParameterError, match="serialization_format"):
            flightlog.sklearn.log_model(pipeline, "x", serialization_format="joblib")
    model = load_model(info.model_uri)
    np.testing.assert_array_equal(model.predict(frame), pipeline.predict_proba(frame))
    assert model.metadata.saved_input_example_info is None

    with pytest.raises(Exception, match="not empty"):
        os.makedirs(tmp_path / "busy")
        (tmp_path / "busy" / "f").write_text("x")
        flightlog.sklearn.save_model(pipeline, str(tmp_path / "busy"))


@pytest.mark.parametrize("fmt, file", [("skops", "model.skops"), ("pickle", "model.pkl")])
def test_serialization_formats(pipeline, frame, tmp_path, fmt, file):
    path = tmp_path / fmt
    meta = flightlog.sklearn.save_model(pipeline, str(path), serialization_format=fmt)
    assert (path / file).is_file()
    assert meta.flavors["sklearn"]["serialization_format"] == fmt
    np.testing.assert_array_equal(
        flightlog.sklearn.load_model(str(path)).predict(frame), pipeline.predict(frame)
    )
    requirements = (path / "requirements.txt").read_text()
    assert ("skops==" in requirements) == (fmt == "skops")


def test_log_model_without_a_run_starts_one(pipeline):
    info = flightlog.sklearn.log_model(pipeline, "model", signature=False)
    assert flightlog.active_run().info.run_id == info.run_id
    flightlog.end_run()
    assert load_model(info.model_uri).metadata.signature is None


def test_unknown_uris_fail_clearly(pipeline, tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_model(str(tmp_path / "nothing-here"))
    with flightlog.start_run() as run:
        flightlog.log_text("x", "notes.txt")
    with pytest.raises(ModelNotFoundError, match="no artifact 'model'"):
        load_model(f"runs:/{run.info.run_id}/model")
    with pytest.raises(ModelNotFoundError, match="No MLmodel"):
        load_model(f"runs:/{run.info.run_id}/notes.txt")
    with pytest.raises(RegisteredModelNotFoundError):
        load_model("models:/never-registered/1")
    flightlog.sklearn.log_model(pipeline, "m", registered_model_name="known")
    flightlog.end_run()
    with pytest.raises(ResourceNotFoundError, match="alias nope not found"):
        load_model("models:/known@nope")
    with pytest.raises(InvalidParameterError, match="Invalid version"):
        load_model("models:/known/first")


def test_sklearn_module_is_light_and_autolog_comes_from_the_plugin():
    import importlib.util

    assert {"log_model", "save_model", "load_model"} <= set(flightlog.sklearn.__all__)
    if importlib.util.find_spec("flightlog_sklearn") is None:
        with pytest.raises(AttributeError, match="flightlog_sklearn"):
            flightlog.sklearn.autolog  # noqa: B018
    else:
        import flightlog_sklearn

        assert flightlog.sklearn.autolog is flightlog_sklearn.autolog
