"""infer_signature and the schema classes: MLflow's JSON forms, read and written."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from flightlog.exceptions import InvalidParameterError
from flightlog.models import ColSpec, ModelSignature, Schema, TensorSpec, infer_signature
from flightlog.models.schema import DataType


def _inputs(signature: ModelSignature) -> list[dict]:
    return json.loads(signature.to_dict()["inputs"])


def test_dataframe_columns_get_mlflow_type_names():
    df = pd.DataFrame(
        {
            "i64": np.array([1, 2], dtype=np.int64),
            "i32": np.array([1, 2], dtype=np.int32),
            "f32": np.array([1, 2], dtype=np.float32),
            "f64": [1.5, np.nan],
            "flag": [True, False],
            "text": ["a", "b"],
            "cat": pd.Categorical(["x", "y"]),
            "when": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "raw": [b"a", b"b"],
        }
    )
    specs = {d["name"]: (d["type"], d["required"]) for d in _inputs(infer_signature(df))}
    assert specs == {
        "i64": ("long", True),
        "i32": ("integer", True),
        "f32": ("float", True),
        "f64": ("double", False),  # a missing value makes the column optional
        "flag": ("boolean", True),
        "text": ("string", True),
        "cat": ("string", True),
        "when": ("datetime", True),
        "raw": ("binary", True),
    }


def test_tensors_have_a_free_batch_dimension():
    sig = infer_signature(np.zeros((5, 3, 2), dtype=np.float32), np.zeros(5, dtype=np.int64))
    assert _inputs(sig) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, 2]}}
    ]
    assert json.loads(sig.to_dict()["outputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]
    named = infer_signature({"image": np.zeros((4, 8), dtype=np.uint8), "mask": np.ones(4)})
    assert [(d["name"], d["tensor-spec"]["shape"]) for d in _inputs(named)] == [
        ("image", [-1, 8]),
        ("mask", [-1]),
    ]


def test_lists_dicts_and_scalars():
    assert _inputs(infer_signature([1.0, 2.0])) == [{"type": "double", "required": True}]
    assert _inputs(infer_signature(["a", "b"])) == [{"type": "string", "required": True}]
    assert _inputs(infer_signature([{"a": 1, "b": "x"}, {"a": 2}])) == [
        {"type": "long", "name": "a", "required": True},
        {"type": "string", "name": "b", "required": False},
    ]
    assert _inputs(infer_signature({"q": "hi", "k": 3})) == [
        {"type": "string", "name": "q", "required": True},
        {"type": "long", "name": "k", "required": True},
    ]
    assert _inputs(infer_signature(pd.DataFrame({"seq": [[1, 2], [3]]}))) == [
        {"type": "array", "items": {"type": "long"}, "name": "seq", "required": True}
    ]


def test_signature_round_trips_through_mlflow_json():
    sig = infer_signature(
        pd.DataFrame({"a": [1.0], "b": [2]}), np.zeros((1, 3)), params={"temperature": 0.5}
    )
    d = sig.to_dict()
    assert all(isinstance(d[k], str) for k in ("inputs", "outputs", "params"))
    again = ModelSignature.from_dict(d)
    assert again == sig
    assert again.inputs.input_names() == ["a", "b"]
    assert again.outputs.is_tensor_spec()
    assert again.params.defaults() == {"temperature": 0.5}
    # What MLflow writes for types flightlog only passes through must survive unchanged.
    mlflow_form = {
        "inputs": '[{"type": "object", "properties": {"x": {"type": "long", "required": true}}, '
        '"name": "o", "required": true}, {"type": "any", "name": "z", "required": false}]',
        "outputs": None,
        "params": None,
    }
    parsed = ModelSignature.from_dict(mlflow_form)
    assert json.loads(parsed.to_dict()["inputs"]) == json.loads(mlflow_form["inputs"])


def test_schema_objects_like_mlflow():
    schema = Schema([ColSpec("double", "a"), ColSpec(DataType.long, "b", optional=True)])
    assert schema.input_names() == ["a", "b"]
    assert schema.required_input_names() == ["a"]
    assert schema.input_types() == [DataType.double, DataType.long]
    assert schema.inputs[0].type == "double"
    tensor = TensorSpec(np.dtype("float32"), (-1, 4), "x")
    assert tensor.type == np.float32
    assert TensorSpec.from_dict(tensor.to_dict()) == tensor
    with pytest.raises(InvalidParameterError, match="only ColSpec or only TensorSpec"):
        Schema([ColSpec("double", "a"), tensor])
    with pytest.raises(InvalidParameterError, match="Unknown column type"):
        ColSpec("decimal", "a")


def test_bad_inputs_are_named():
    with pytest.raises(InvalidParameterError, match="no columns"):
        infer_signature(pd.DataFrame())
    with pytest.raises(InvalidParameterError, match="Cannot infer a schema"):
        infer_signature(object())
    with pytest.raises(InvalidParameterError, match="every value is missing"):
        infer_signature([None, None])


def test_torch_tensors_are_described_without_importing_torch_for_other_data():
    code = (
        "import sys, numpy as np\n"
        "from flightlog.models import infer_signature\n"
        "infer_signature(np.zeros((2, 3)))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "import flightlog.models, flightlog.sklearn, flightlog.pyfunc\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    torch = pytest.importorskip("torch")
    sig = infer_signature(torch.zeros(8, 3, dtype=torch.float32), torch.zeros(8, dtype=torch.int64))
    assert _inputs(sig) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}
    ]
    assert json.loads(sig.to_dict()["outputs"])[0]["tensor-spec"] == {
        "dtype": "int64",
        "shape": [-1],
    }


@pytest.mark.interop
@pytest.mark.filterwarnings("ignore::UserWarning")  # mlflow's hint about integer columns
def test_same_json_as_mlflow_infer_signature():
    mlflow_models = pytest.importorskip("mlflow.models")
    cases = [
        pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2], "c": ["x", "y"], "d": [True, False]}),
        pd.DataFrame(
            {"f32": np.array([1, 2], dtype=np.float32), "i8": np.array([1, 2], dtype=np.int8)}
        ),
        pd.Series([1, 2], name="s"),
        np.zeros((3, 4), dtype=np.float32),
        np.array(["a", "b"]),
        {"x": np.zeros((2, 2)), "y": np.zeros(2, dtype=np.int32)},
        {"a": [1, 2], "b": ["u", "v"]},
        [{"a": 1, "b": "x"}],
        [1, 2, 3],
        "hello",
    ]
    for case in cases:
        assert infer_signature(case).to_dict() == mlflow_models.infer_signature(case).to_dict(), (
            case
        )
