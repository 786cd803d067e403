"""predict() input checked against the signature: clear errors for mismatches, safe conversions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import flightlog.pyfunc
import flightlog.sklearn
from flightlog.exceptions import SignatureMismatchError
from flightlog.models import Schema, TensorSpec, infer_signature, validate_schema
from flightlog.models.enforcement import enforce_input


@pytest.fixture
def loaded(tmp_path, pipeline, frame):
    path = tmp_path / "m"
    flightlog.sklearn.save_model(pipeline, str(path), input_example=frame.head(5))
    return flightlog.pyfunc.load_model(str(path))


def test_matching_input_predicts_like_the_model(loaded, pipeline, frame):
    np.testing.assert_array_equal(loaded.predict(frame), pipeline.predict(frame))
    # Columns in another order, plus one the model does not know: reordered and dropped.
    shuffled = frame[["plan", "income", "age"]].assign(extra=1)
    np.testing.assert_array_equal(loaded.predict(shuffled), pipeline.predict(frame))


def test_wrong_column_name_names_the_column(loaded, frame):
    with pytest.raises(SignatureMismatchError, match=r"missing required column\(s\) \['income'\]"):
        loaded.predict(frame.rename(columns={"income": "salary"}))


def test_wrong_dtype_names_the_column(loaded, frame):
    with pytest.raises(SignatureMismatchError, match="column 'age'.*expects long, got float64"):
        loaded.predict(frame.assign(age=frame["age"] + 0.5))
    with pytest.raises(SignatureMismatchError, match="column 'income'.*expects double"):
        loaded.predict(frame.assign(income="lots"))
    with pytest.raises(SignatureMismatchError, match="column 'plan'.*expects string"):
        loaded.predict(frame.assign(plan=pd.Series([1] * len(frame), dtype=object)))


def test_safe_conversions_pass(loaded, pipeline, frame):
    # int32 -> long, int -> double: lossless, converted before the model sees them.
    compatible = frame.assign(
        age=frame["age"].astype("int32"), income=frame["income"].round().astype(int)
    )
    expected = pipeline.predict(compatible.astype({"age": "int64", "income": "float64"}))
    np.testing.assert_array_equal(loaded.predict(compatible), expected)
    # A list of row dicts and a dict of columns are read as tables too.
    rows = frame.head(3).to_dict(orient="records")
    np.testing.assert_array_equal(loaded.predict(rows), pipeline.predict(frame.head(3)))


def test_tensor_shape_and_dtype():
    schema = infer_signature(np.zeros((4, 3, 2), dtype=np.float32)).inputs
    ok = enforce_input(np.ones((7, 3, 2), dtype=np.float32), schema)  # any batch size
    assert ok.shape == (7, 3, 2)
    with pytest.raises(
        SignatureMismatchError, match=r"Shape of the input tensor \[7, 2, 3\].*\[-1, 3, 2\]"
    ):
        enforce_input(np.ones((7, 2, 3), dtype=np.float32), schema)
    with pytest.raises(
        SignatureMismatchError, match="dtype float64, but the model expects float32"
    ):
        enforce_input(np.ones((7, 3, 2)), schema)
    converted = enforce_input(np.ones((2, 3, 2), dtype=np.int16), schema)  # int -> float is safe
    assert converted.dtype == np.float32


def test_named_tensors():
    schema = Schema([TensorSpec("float64", (-1, 2), "x"), TensorSpec("int64", (-1,), "ids")])
    out = enforce_input(
        {"x": np.zeros((3, 2)), "ids": np.arange(3, dtype=np.int32), "extra": 1}, schema
    )
    assert set(out) == {"x", "ids"} and out["ids"].dtype == np.int64
    with pytest.raises(SignatureMismatchError, match="missing tensor 'ids'"):
        enforce_input({"x": np.zeros((3, 2))}, schema)
    with pytest.raises(SignatureMismatchError, match="named tensors"):
        validate_schema(np.zeros((3, 2)), schema)


def test_torch_tensor_checked_without_conversion_to_numpy():
    torch = pytest.importorskip("torch")
    schema = infer_signature(np.zeros((4, 3), dtype=np.float32)).inputs
    t = torch.ones(5, 3)
    assert enforce_input(t, schema) is t
    assert enforce_input(torch.ones(5, 3, dtype=torch.int32), schema).dtype == torch.float32
    with pytest.raises(SignatureMismatchError, match="Shape"):
        enforce_input(torch.ones(5, 4), schema)
