"""Models cross between flightlog and the real mlflow package, both ways.

mlflow runs in a child process with its own tracking store under tmp_path, so its global state
(and its SQLite schema) never meets flightlog's.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import flightlog
import flightlog.sklearn
from flightlog.artifacts.local import local_path_from_uri
from flightlog.models import load_model

pytestmark = pytest.mark.interop


def _run_mlflow(code: str, cwd) -> str:
    env = dict(os.environ)
    for name in ("FLIGHTLOG_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return out.stdout


def test_flightlog_model_loads_in_mlflow(pipeline, frame, tmp_path):
    with flightlog.start_run() as run:
        flightlog.sklearn.log_model(pipeline, name="model", input_example=frame.head(4))
    root = local_path_from_uri(flightlog.get_run(run.info.run_id).info.artifact_uri)
    model_dir = os.path.join(root, "model")
    frame.to_pickle(tmp_path / "frame.pkl")
    stdout = _run_mlflow(
        f"""
        import json, warnings
        warnings.filterwarnings("ignore")
        import mlflow, pandas as pd
        frame = pd.read_pickle({str(tmp_path / "frame.pkl")!r})
        pyfunc = mlflow.pyfunc.load_model({model_dir!r})
        native = mlflow.sklearn.load_model({model_dir!r})
        example = mlflow.models.Model.load({model_dir!r}).load_input_example({model_dir!r})
        print(json.dumps({{
            "pyfunc": pyfunc.predict(frame).tolist(),
            "native": native.predict(frame).tolist(),
            "inputs": pyfunc.metadata.get_input_schema().input_names(),
            "example_rows": len(example),
        }}))
        """,
        tmp_path,
    )
    result = json.loads(stdout.strip().splitlines()[-1])
    expected = pipeline.predict(frame).tolist()
    assert result["pyfunc"] == expected
    assert result["native"] == expected
    assert result["inputs"] == ["age", "income", "plan"]
    assert result["example_rows"] == 4


def test_mlflow_model_loads_in_flightlog(pipeline, frame, tmp_path):
    """Models saved by mlflow.sklearn in both of its formats. (A model *logged* by MLflow 3 into
    a tracking server is covered in tests/registry/test_rest_model_registry.py.)"""
    with open(tmp_path / "pipeline.pkl", "wb") as f:
        pickle.dump(pipeline, f)
    frame.to_pickle(tmp_path / "frame.pkl")
    stdout = _run_mlflow(
        f"""
        import json, pickle, warnings
        warnings.filterwarnings("ignore")
        import mlflow.sklearn, pandas as pd
        pipeline = pickle.load(open({str(tmp_path / "pipeline.pkl")!r}, "rb"))
        frame = pd.read_pickle({str(tmp_path / "frame.pkl")!r})
        paths = {{}}
        for fmt in ("skops", "cloudpickle"):
            paths[fmt] = {str(tmp_path)!r} + "/" + fmt
            mlflow.sklearn.save_model(
                pipeline,
                paths[fmt],
                input_example=frame.head(3),
                serialization_format=fmt,
                pip_requirements=["scikit-learn"],  # skips mlflow's slow requirement probe
            )
        print(json.dumps(paths))
        """,
        tmp_path,
    )
    paths = json.loads(stdout.strip().splitlines()[-1])
    expected = pipeline.predict(frame)
    for fmt, path in paths.items():
        model = load_model(path)
        np.testing.assert_array_equal(model.predict(frame), expected, err_msg=fmt)
        assert model.metadata.signature.inputs.input_names() == ["age", "income", "plan"]
        native = flightlog.sklearn.load_model(path)
        np.testing.assert_array_equal(native.predict_proba(frame), pipeline.predict_proba(frame))
        # MLflow's signature is enforced by flightlog too.
        with pytest.raises(flightlog.exceptions.SignatureMismatchError, match="plan"):
            model.predict(frame.drop(columns=["plan"]))
