"""The `pytorch` flavor: log_model / load_model, the pyfunc wrapper, and MLflow's loader."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch
from torch_testkit import TinyNet

import flightlog
from flightlog.exceptions import InvalidParameterError


def _model():
    torch.manual_seed(0)
    return TinyNet().eval()


def test_round_trip_pickled_module_program_state_dict_and_pyfunc():
    model = _model()
    x = torch.randn(7, 4)
    with flightlog.start_run():
        info = flightlog.pytorch.log_model(model, "model", input_example=x[:3].numpy())
    expected = model(x).detach()

    loaded = flightlog.pytorch.load_model(info.model_uri)
    assert isinstance(loaded, TinyNet) and not loaded.training
    assert torch.allclose(loaded(x), expected)

    program = flightlog.pytorch.load_model(info.model_uri, prefer="program")
    assert isinstance(program, torch.jit.ScriptModule)
    assert torch.allclose(program(x), expected, atol=1e-6)

    state = flightlog.torch.load_state_dict(info.model_uri)
    assert state.keys() == model.state_dict().keys()

    pyfunc = flightlog.models.load_model(info.model_uri)
    assert pyfunc.get_raw_model().__class__ is TinyNet
    prediction = pyfunc.predict(x.numpy().astype(np.float32))
    assert isinstance(prediction, np.ndarray)
    np.testing.assert_allclose(prediction, expected.numpy(), rtol=1e-6)

    signature = pyfunc.metadata.signature
    assert signature.inputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}
    ]
    assert signature.outputs.to_dict()[0]["tensor-spec"]["shape"] == [-1, 2]


def test_unpicklable_module_is_loaded_from_its_program(tmp_path):
    model = _model()
    model.lock = threading.Lock()  # pickling fails on this attribute
    x = torch.randn(5, 4)
    path = tmp_path / "model"
    flightlog.torch.save_model(model, str(path), input_example=x.numpy())
    files = set(os.listdir(path / "data"))
    assert "model.pth" not in files and {"model.pt", "state_dict.pth"} <= files
    loaded = flightlog.torch.load_model(str(path))
    assert torch.allclose(loaded(x), model(x), atol=1e-6)


def test_export_program_when_asked(tmp_path):
    model = _model()
    x = torch.randn(5, 4)
    path = tmp_path / "model"
    flightlog.torch.save_model(model, str(path), input_example=x.numpy(), program="export")
    assert "model.pt2" in os.listdir(path / "data")
    program = flightlog.torch.load_model(str(path), prefer="program")
    batch = torch.randn(9, 4)  # another batch size than the example's
    assert torch.allclose(program(batch), model(batch), atol=1e-6)


def test_bad_input_is_refused_with_a_clear_error(tmp_path):
    with pytest.raises(InvalidParameterError, match="torch.nn.Module"):
        flightlog.torch.save_model(object(), str(tmp_path / "a"))
    with pytest.raises(InvalidParameterError, match="program must be one of"):
        flightlog.torch.save_model(_model(), str(tmp_path / "b"), program="onnx")
    with pytest.raises(InvalidParameterError, match="prefer"):
        flightlog.torch.load_model(str(tmp_path / "b"), prefer="fastest")


@pytest.mark.interop
def test_mlflow_loads_ours_and_we_load_mlflows(tmp_path):
    import mlflow.pytorch

    model = _model()
    x = torch.randn(6, 4)
    ours = tmp_path / "ours"
    flightlog.torch.save_model(model, str(ours), input_example=x.numpy())
    by_mlflow = mlflow.pytorch.load_model(str(ours))
    assert torch.allclose(by_mlflow(x), model(x))

    theirs = tmp_path / "theirs"
    mlflow.pytorch.save_model(
        model, str(theirs), serialization_format="pt2", input_example=x.numpy()
    )
    assert torch.allclose(flightlog.torch.load_model(str(theirs))(x), model(x), atol=1e-6)
