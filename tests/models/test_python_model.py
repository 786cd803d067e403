"""Custom python models: flightlog.pyfunc.PythonModel saved, logged and loaded, both ways with the
real mlflow package (mlflow runs in a child process with its own store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import flightlog
import flightlog.pyfunc
from flightlog.exceptions import InvalidParameterError
from flightlog.models import infer_signature

MODEL_MODULE = """
import flightlog.pyfunc


class AddOffset(flightlog.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["offset"]) as f:
            self.offset = float(f.read())
        self.scale = context.model_config.get("scale", 1.0)

    def predict(self, context, model_input, params=None):
        factor = (params or {}).get("factor", 1.0)
        return (model_input["x"] + self.offset) * self.scale * factor


class NoContext(flightlog.pyfunc.PythonModel):
    def predict(self, model_input):
        return [len(str(v)) for v in model_input["word"]]
"""


@pytest.fixture
def model_module(tmp_path, monkeypatch):
    """The model classes live in an importable module, as in a user's project."""
    (tmp_path / "user_models.py").write_text(MODEL_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("user_models", None)
    import user_models

    yield user_models
    sys.modules.pop("user_models", None)


@pytest.fixture
def offset_file(tmp_path):
    path = tmp_path / "offset.txt"
    path.write_text("10")
    return str(path)


def _mlflow(code: str, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI",)}
    env["PYTHONPATH"] = str(tmp_path) + os.pathsep + env.get("PYTHONPATH", "")
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_log_and_load_resolves_artifacts_and_config(model_module, offset_file):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    with flightlog.start_run() as run:
        info = flightlog.pyfunc.log_model(
            name="adder",
            python_model=model_module.AddOffset(),
            artifacts={"offset": offset_file},
            model_config={"scale": 2.0},
            input_example=frame.head(2),
        )
        with_params = flightlog.pyfunc.log_model(
            name="adder_params",
            python_model=model_module.AddOffset(),
            artifacts={"offset": offset_file},
            signature=infer_signature(frame, frame["x"], params={"factor": 1.0}),
        )
    assert info.model_uri.endswith("adder") or info.model_uri.startswith("models:/")
    loaded = flightlog.pyfunc.load_model(f"runs:/{run.info.run_id}/adder")
    assert loaded.predict(frame).tolist() == [22.0, 24.0, 26.0]
    # params reach predict() only when the signature declares them (as in MLflow)
    assert loaded.predict(frame, params={"factor": 0.5}).tolist() == [22.0, 24.0, 26.0]
    halved = flightlog.pyfunc.load_model(with_params.model_uri)
    assert halved.predict(frame, params={"factor": 0.5}).tolist() == [5.5, 6.0, 6.5]
    context = loaded.get_raw_model().context
    # the artifact is a copy inside the model folder, not the original file
    assert context.artifacts["offset"] != offset_file
    with open(context.artifacts["offset"]) as f:
        assert f.read() == "10"
    assert isinstance(loaded.unwrap_python_model(), model_module.AddOffset)
    # the signature was inferred from the example by running the saved model
    inputs = loaded.metadata.get_input_schema()
    assert [c.name for c in inputs.inputs] == ["x"]
    assert loaded.metadata.get_output_schema() is not None
    # model_config at load time overrides the saved one
    again = flightlog.pyfunc.load_model(info.model_uri, model_config={"scale": 1.0})
    assert again.predict(frame).tolist() == [11.0, 12.0, 13.0]


def test_predict_without_context_argument_and_plain_function(model_module, tmp_path):
    flightlog.pyfunc.save_model(str(tmp_path / "nc"), python_model=model_module.NoContext())
    words = pd.DataFrame({"word": ["a", "abc"]})
    assert flightlog.pyfunc.load_model(str(tmp_path / "nc")).predict(words) == [1, 3]

    flightlog.pyfunc.save_model(str(tmp_path / "fn"), python_model=len)
    assert flightlog.pyfunc.load_model(str(tmp_path / "fn")).predict(words) == 2


def test_code_paths_are_copied_and_importable(tmp_path):
    pkg = tmp_path / "src" / "helper_mod_for_code_paths.py"
    pkg.parent.mkdir()
    pkg.write_text("def double(v):\n    return [2 * x for x in v]\n")
    model_file = tmp_path / "code_model_mod.py"
    model_file.write_text(
        "import flightlog.pyfunc\n"
        "class UsesHelper(flightlog.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        import helper_mod_for_code_paths as h\n"
        "        return h.double(model_input['x'])\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import code_model_mod

        flightlog.pyfunc.save_model(
            str(tmp_path / "m"), python_model=code_model_mod.UsesHelper(), code_paths=[str(pkg)]
        )
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("code_model_mod", None)
    assert (tmp_path / "m" / "code" / "helper_mod_for_code_paths.py").exists()
    # a fresh process without the original folder on its path finds the copied helper
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, flightlog.pyfunc, pandas as pd; sys.path.insert(0, sys.argv[2]);"
            "m = flightlog.pyfunc.load_model(sys.argv[1]);"
            "print(m.predict(pd.DataFrame({'x': [1, 2]})))",
            str(tmp_path / "m"),
            str(tmp_path),  # only for code_model_mod (the pickled class's module)
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path / "src",
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "[2, 4]"


def test_bad_python_model_arguments_fail_clearly(tmp_path):
    with pytest.raises(InvalidParameterError, match="python_model is required"):
        flightlog.pyfunc.save_model(str(tmp_path / "a"))
    with pytest.raises(InvalidParameterError, match="models from code"):
        flightlog.pyfunc.save_model(str(tmp_path / "b"), python_model="model.py")
    with pytest.raises(InvalidParameterError, match="artifacts"):
        flightlog.pyfunc.save_model(
            str(tmp_path / "c"), python_model=len, artifacts=["not", "a", "dict"]
        )


def test_mlflow_loads_a_flightlog_python_model(model_module, offset_file, tmp_path):
    path = tmp_path / "saved"
    flightlog.pyfunc.save_model(
        str(path),
        python_model=model_module.AddOffset(),
        artifacts={"offset": offset_file},
        model_config={"scale": 3.0},
    )
    got = _mlflow(
        f"""
        import json, warnings
        warnings.filterwarnings("ignore")
        import mlflow, pandas as pd
        m = mlflow.pyfunc.load_model({str(path)!r})
        print(json.dumps(m.predict(pd.DataFrame({{"x": [0.0, 1.0]}})).tolist()))
        """,
        tmp_path,
    )
    assert got == [30.0, 33.0]


def test_flightlog_loads_an_mlflow_python_model(tmp_path):
    (tmp_path / "mlflow_models.py").write_text(
        "import mlflow.pyfunc\n"
        "class Upper(mlflow.pyfunc.PythonModel):\n"
        "    def load_context(self, context):\n"
        "        self.suffix = open(context.artifacts['suffix']).read()\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return [w.upper() + self.suffix for w in model_input['word']]\n"
    )
    (tmp_path / "suffix.txt").write_text("!")
    got = _mlflow(
        """
        import json, warnings
        warnings.filterwarnings("ignore")
        import mlflow, pandas as pd
        from mlflow_models import Upper
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(
                name="upper", python_model=Upper(), artifacts={"suffix": "suffix.txt"}
            )
        mlflow.pyfunc.save_model("upper_saved", python_model=Upper(),
                                 artifacts={"suffix": "suffix.txt"})
        print(json.dumps({"uri": info.model_uri}))
        """,
        tmp_path,
    )
    assert got["uri"].startswith("models:/m-")
    sys.path.insert(0, str(tmp_path))
    try:
        loaded = flightlog.pyfunc.load_model(str(tmp_path / "upper_saved"))
        assert loaded.predict(pd.DataFrame({"word": ["ab", "c"]})) == ["AB!", "C!"]
        assert type(loaded.unwrap_python_model()).__name__ == "Upper"
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("mlflow_models", None)
