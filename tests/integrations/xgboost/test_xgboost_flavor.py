"""The XGBoost flavor: log/save/load, MLflow's layout (checked with the real mlflow), safety."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xgboost as xgb
import yaml

import flightlog
from flightlog.exceptions import InvalidParameterError

PARAMS = {"objective": "binary:logistic", "max_depth": 3, "nthread": 1}


@pytest.fixture
def booster(dmatrices):
    return xgb.train(PARAMS, dmatrices[0], 5)


@pytest.fixture
def frame(binary_data):
    import pandas as pd

    _, Xv, _, _ = binary_data
    return pd.DataFrame(Xv, columns=[f"f{i}" for i in range(Xv.shape[1])])


def test_log_model_and_load_model(booster, dmatrices, frame):
    with flightlog.start_run():
        info = flightlog.xgboost.log_model(booster, name="booster", input_example=frame.head(3))
    assert info.model_uri == f"models:/{info.model_id}"  # an MLflow 3 logged model
    for uri in (info.model_uri, f"runs:/{info.run_id}/booster"):
        loaded = flightlog.xgboost.load_model(uri)
        np.testing.assert_array_equal(loaded.predict(dmatrices[1]), booster.predict(dmatrices[1]))
    # The signature was inferred from the example and the booster's prediction on it.
    assert info.signature.inputs.input_names() == list(frame.columns)
    assert info.signature.outputs is not None


def test_save_model_layout(booster, tmp_path):
    path = tmp_path / "m"
    flightlog.xgboost.save_model(booster, str(path), model_format="json")
    assert (path / "model.json").is_file()
    with open(path / "MLmodel") as f:
        mlmodel = yaml.safe_load(f)
    assert mlmodel["flavors"]["xgboost"] == {
        "xgb_version": xgb.__version__,
        "data": "model.json",
        "model_class": "xgboost.core.Booster",
        "model_format": "json",
        "code": None,
    }
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.xgboost"
    assert mlmodel["flavors"]["python_function"]["data"] == "model.json"
    assert any(
        line.startswith("xgboost==") for line in (path / "requirements.txt").read_text().split()
    )


def test_bad_inputs_are_refused_with_clear_errors(booster, tmp_path):
    with pytest.raises(InvalidParameterError, match="model_format"):
        flightlog.xgboost.save_model(booster, str(tmp_path / "a"), model_format="pickle")
    with pytest.raises(InvalidParameterError, match="xgboost.Booster"):
        flightlog.xgboost.save_model({"not": "a model"}, str(tmp_path / "b"))


def test_model_class_outside_xgboost_is_refused(booster, tmp_path):
    """An MLmodel file cannot make load_model instantiate an arbitrary class."""
    path = tmp_path / "m"
    flightlog.xgboost.save_model(booster, str(path))
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    mlmodel["flavors"]["xgboost"]["model_class"] = "subprocess.Popen"
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(InvalidParameterError, match="not an XGBoost class"):
        flightlog.xgboost.load_model(str(path))


def test_importing_the_submodules_imports_no_framework():
    code = textwrap.dedent(
        """
        import sys
        import flightlog, flightlog.xgboost, flightlog.keras
        flightlog.xgboost.autolog, flightlog.keras.autolog, flightlog.xgboost.log_model
        heavy = [m for m in ("xgboost", "keras", "torch", "numpy") if m in sys.modules]
        print(",".join(heavy) or "none")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "none"


@pytest.mark.interop
def test_models_cross_between_flightlog_and_mlflow(booster, frame, tmp_path):
    ours = tmp_path / "flightlog-model"
    flightlog.xgboost.save_model(booster, str(ours), input_example=frame.head(3))
    frame.to_pickle(tmp_path / "frame.pkl")
    theirs = tmp_path / "mlflow-model"
    code = f"""
        import json, warnings
        warnings.filterwarnings("ignore")
        import mlflow, pandas as pd, xgboost
        frame = pd.read_pickle({str(tmp_path / "frame.pkl")!r})
        pyfunc = mlflow.pyfunc.load_model({str(ours)!r})
        native = mlflow.xgboost.load_model({str(ours)!r})
        mlflow.xgboost.save_model(native, {str(theirs)!r}, pip_requirements=["xgboost"])
        print(json.dumps({{
            "pyfunc": pyfunc.predict(frame).tolist(),
            "native": native.predict(xgboost.DMatrix(frame)).tolist(),
            "inputs": pyfunc.metadata.get_input_schema().input_names(),
        }}))
        """
    env = {k: v for k, v in os.environ.items() if k not in ("FLIGHTLOG_TRACKING_URI",)}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    expected = booster.predict(xgb.DMatrix(frame))
    np.testing.assert_allclose(result["pyfunc"], expected, rtol=1e-6)
    np.testing.assert_allclose(result["native"], expected, rtol=1e-6)
    assert result["inputs"] == list(frame.columns)
    # And the other way: what mlflow saved loads in flightlog.
    loaded = flightlog.xgboost.load_model(str(theirs))
    np.testing.assert_array_equal(loaded.predict(xgb.DMatrix(frame)), expected)
    np.testing.assert_array_equal(flightlog.models.load_model(str(theirs)).predict(frame), expected)
