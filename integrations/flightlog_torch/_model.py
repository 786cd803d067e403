"""`log_model`, `save_model`, `load_model` for PyTorch modules (the `pytorch` flavor)."""

from __future__ import annotations

from typing import Any

from flightlog.exceptions import InvalidParameterError


def _the_model(pytorch_model: Any, model: Any) -> Any:
    if (pytorch_model is None) == (model is None):
        raise InvalidParameterError("Pass the PyTorch module once (as pytorch_model or model)")
    return pytorch_model if pytorch_model is not None else model


def example_for_program(input_example: Any, signature: Any) -> Any:
    """What to trace/export the module with: the input example, else zeros shaped like the
    signature's tensor input (a batch of 2), else None."""
    if input_example is not None:
        return input_example
    schema = signature.inputs if signature not in (None, False) else None
    if schema is None:
        return None
    import numpy as np

    if schema.is_tensor_spec():
        arrays = {}
        for spec in schema.inputs:
            shape = tuple(2 if d == -1 else d for d in spec.shape)
            arrays[spec.name] = np.zeros(shape, dtype=spec.type)
        if len(arrays) == 1 and None in arrays:
            return arrays[None]
        return arrays if None not in arrays else None
    return np.zeros((2, len(schema.inputs)), dtype=np.float32)


def log_model(
    pytorch_model: Any = None,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    model: Any = None,
    signature: Any = None,
    input_example: Any = None,
    program: str | None = "auto",
    pickle_model: bool = True,
    example_inputs: Any = None,
    **kwargs: Any,
) -> Any:
    """Save a torch.nn.Module under the active run's artifacts at `<name>/` (default "model").

    Writes the state dict, the pickled module and a program (TorchScript, or torch.export when
    TorchScript cannot capture it) so `flightlog.models.load_model` returns a module that works
    even where the model's class cannot be imported. `input_example` (a tensor, numpy array or
    DataFrame) is saved beside the model, gives the signature when none is passed, and is what
    the program is traced with. `program`: "auto", "torchscript", "export" or None.
    Other keywords: registered_model_name, metadata, pip_requirements, extra_pip_requirements,
    run_id, tags.
    """
    from flightlog.models.saving import log_flavor_model
    from flightlog_torch._flavor import FLAVOR

    module = _the_model(pytorch_model, model)
    trace_with = (
        example_inputs
        if example_inputs is not None
        else example_for_program(input_example, signature)
    )
    return log_flavor_model(
        FLAVOR,
        module,
        name,
        artifact_path=artifact_path,
        signature=signature,
        input_example=input_example,
        example_inputs=trace_with,
        program=program,
        pickle_model=pickle_model,
        **kwargs,
    )


def save_model(
    pytorch_model: Any = None,
    path: str | None = None,
    *,
    model: Any = None,
    signature: Any = None,
    input_example: Any = None,
    program: str | None = "auto",
    pickle_model: bool = True,
    example_inputs: Any = None,
    **kwargs: Any,
) -> Any:
    """Save a torch.nn.Module into the new local folder `path` (MLflow's layout)."""
    from flightlog.models.saving import save_flavor_model
    from flightlog_torch._flavor import FLAVOR

    if path is None:
        raise InvalidParameterError("save_model needs a path to save the model into")
    module = _the_model(pytorch_model, model)
    trace_with = (
        example_inputs
        if example_inputs is not None
        else example_for_program(input_example, signature)
    )
    return save_flavor_model(
        FLAVOR,
        module,
        path,
        signature=signature,
        input_example=input_example,
        example_inputs=trace_with,
        program=program,
        pickle_model=pickle_model,
        **kwargs,
    )


def load_model(model_uri: str, dst_path: str | None = None, prefer: str = "pickle") -> Any:
    """The torch.nn.Module saved at `model_uri` (runs:/, models:/, a path), in eval mode.

    `prefer="pickle"` returns the pickled module (your class) when its code is importable, else
    the saved program; `prefer="program"` returns the program (TorchScript or exported module).
    Pickled modules run code from the file while loading: load only models you trust.
    """
    import os

    from flightlog.exceptions import UnsupportedFlavorError
    from flightlog.models.mlmodel import Model
    from flightlog.models.uri import download_model
    from flightlog_torch._flavor import DATA_DIR, FLAVOR_NAME, load_module

    if prefer not in ("pickle", "program"):
        raise InvalidParameterError(f"prefer must be 'pickle' or 'program', got {prefer!r}")
    path = download_model(model_uri, dst_path)
    meta = Model.load(path)
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise UnsupportedFlavorError(
            f"The model at {model_uri!r} has no {FLAVOR_NAME!r} flavor (it has "
            f"{sorted(meta.flavors)}); load it with flightlog.pyfunc.load_model instead"
        )
    return load_module(os.path.join(path, conf.get("model_data") or DATA_DIR), conf, prefer)


def load_state_dict(state_dict_uri: str, dst_path: str | None = None) -> dict[str, Any]:
    """Only the weights of a logged model (loads no pickled code)."""
    import os

    from flightlog.models.mlmodel import Model
    from flightlog.models.uri import download_model
    from flightlog_torch._flavor import DATA_DIR, FLAVOR_NAME
    from flightlog_torch._flavor import load_state_dict as read_state_dict

    path = download_model(state_dict_uri, dst_path)
    conf = Model.load(path).flavors.get(FLAVOR_NAME, {})
    return read_state_dict(os.path.join(path, conf.get("model_data") or DATA_DIR))
