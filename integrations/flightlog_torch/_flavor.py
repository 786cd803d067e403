"""The `pytorch` model flavor: a module saved as weights, a pickled module and a program.

    <model>/data/
      state_dict.pth          the weights (always; torch.load(weights_only=True) reads them)
      model.pth               the whole module, pickled with cloudpickle (MLflow's layout:
      pickle_module_info.txt  MLflow's mlflow.pytorch.load_model reads these two files)
      model.pt | model.pt2    a program that runs without the model's Python code: TorchScript
                              (traced from an example input, or scripted) or torch.export

The MLmodel `pytorch` section keeps MLflow's keys (`model_data`, `pytorch_version`, `code`) and
adds `state_dict`, `program` and `program_format`. Loading prefers the pickled module (the
user's own class, with its methods) and falls back to the program when the class cannot be
imported; MLflow-written models (a pickled or scripted `model.pth`, or `model.pt2`) load too.

Programs: TorchScript is tried first because tracing a small model costs milliseconds while the
first torch.export in a process costs about half a second; torch.export is used when
TorchScript cannot capture the model (or when asked for with program="export"). A program is
kept only if it reproduces the module's output on the example.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any

from flightlog.exceptions import InvalidParameterError
from flightlog.models.flavor import Flavor, SavedFlavor

FLAVOR_NAME = "pytorch"
DATA_DIR = "data"
STATE_DICT_FILE = "state_dict.pth"
PICKLED_FILE = "model.pth"
PICKLE_INFO_FILE = "pickle_module_info.txt"
TORCHSCRIPT_FILE = "model.pt"
EXPORT_FILE = "model.pt2"
PROGRAM_CHOICES = ("auto", "torchscript", "export", None)


class ModelSaveError(InvalidParameterError):
    """A module that could be saved in no loadable form (neither pickled nor as a program)."""


@contextlib.contextmanager
def _quiet_torchscript():
    # torch.jit is deprecated in recent torch releases; its warnings say nothing to our users.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            import torch

            warnings.simplefilter("ignore", torch.jit.TracerWarning)
        except (ImportError, AttributeError):
            pass
        yield


@contextlib.contextmanager
def evaluating(model: Any):
    """Eval mode and no autograd for the duration; the module's mode is restored after."""
    import torch

    was_training = getattr(model, "training", False)
    try:
        model.eval()
    except (NotImplementedError, RuntimeError):  # an exported program's module has no eval()
        pass
    try:
        with torch.no_grad():
            yield
    finally:
        if was_training:
            model.train(True)


def model_device(model: Any) -> Any:
    import torch

    for tensor in _tensors_of(model):
        return tensor.device
    return torch.device("cpu")


def model_float_dtype(model: Any) -> Any:
    """The dtype of the module's first floating-point parameter (float32 if none)."""
    import torch

    for tensor in _tensors_of(model):
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def _tensors_of(model: Any):
    for getter in ("parameters", "buffers"):
        fn = getattr(model, getter, None)
        if fn is None:
            continue
        try:
            yield from fn()
        except (RuntimeError, TypeError):
            continue


def as_model_input(data: Any, model: Any) -> Any:
    """numpy arrays, DataFrames, tensors (or a dict/tuple of them) as tensors on the module's
    device; floating-point data takes the module's floating dtype (numpy defaults to float64)."""
    import torch

    device, dtype = model_device(model), model_float_dtype(model)

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, tuple):  # several positional inputs
            return tuple(convert(v) for v in value)
        if isinstance(value, list):
            import numpy as np

            value = np.asarray(value)
        if type(value).__module__.split(".", 1)[0] == "pandas":
            value = value.to_numpy()
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(_writable(value))
        if tensor.is_floating_point():
            tensor = tensor.to(dtype)
        return tensor.to(device)

    return convert(data)


def _writable(value: Any) -> Any:
    # torch.as_tensor warns on read-only numpy arrays (e.g. from a DataFrame); copy those.
    flags = getattr(value, "flags", None)
    if flags is not None and not flags.writeable:
        return value.copy()
    return value


def call_model(model: Any, inputs: Any) -> Any:
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, tuple):
        return model(*inputs)
    return model(inputs)


def to_numpy(output: Any) -> Any:
    """A model's output as numpy: tensors become arrays, tuples/lists/dicts keep their shape."""
    import torch

    if isinstance(output, torch.Tensor):
        out = output.detach().cpu()
        if out.dtype == torch.bfloat16:
            out = out.float()
        return out.numpy()
    if isinstance(output, dict):
        return {k: to_numpy(v) for k, v in output.items()}
    if isinstance(output, list | tuple):
        return type(output)(to_numpy(v) for v in output)
    return output


# --- programs ----------------------------------------------------------------------------------
def _same_output(a: Any, b: Any) -> bool:
    import torch

    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-5)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same_output(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_output(a[k], b[k]) for k in a)
    return False


def _trace(model: Any, example: Any) -> Any:
    import torch

    with _quiet_torchscript():
        if isinstance(example, dict):
            return torch.jit.trace(model, example_kwarg_inputs=example, check_trace=False)
        args = example if isinstance(example, tuple) else (example,)
        return torch.jit.trace(model, args, check_trace=False)


def _script(model: Any, example: Any) -> Any:
    import torch

    with _quiet_torchscript():
        return torch.jit.script(model)


def _export(model: Any, example: Any) -> Any:
    import torch

    if isinstance(example, dict):
        args, kwargs = (), example
    else:
        args, kwargs = (example if isinstance(example, tuple) else (example,)), {}
    # The batch dimension may vary at predict time.
    dynamic = torch.export.Dim.AUTO
    shapes_args = tuple({0: dynamic} if getattr(a, "dim", lambda: 0)() > 0 else None for a in args)
    shapes_kwargs = {k: ({0: dynamic} if v.dim() > 0 else None) for k, v in kwargs.items()}
    dynamic_shapes = shapes_kwargs if kwargs else shapes_args
    return torch.export.export(model, args, kwargs, dynamic_shapes=dynamic_shapes)


def save_program(
    model: Any, folder: str, example: Any, choice: str | None
) -> tuple[str, str] | None:
    """Save the first program that reproduces the module on `example`: (file, format) or None."""
    import torch

    if choice is None:
        return None
    attempts: list[tuple[str, Any]] = []
    if choice in ("auto", "torchscript"):
        if example is not None:
            attempts.append(("torchscript", _trace))
        attempts.append(("torchscript", _script))
    if choice in ("auto", "export") and example is not None:
        attempts.append(("torch.export", _export))
    errors: list[str] = []
    with evaluating(model):
        expected = call_model(model, example) if example is not None else None
        for fmt, build in attempts:
            try:
                program = build(model, example)
                if example is not None:
                    runnable = program.module() if fmt == "torch.export" else program
                    with _quiet_torchscript():
                        if not _same_output(expected, call_model(runnable, example)):
                            errors.append(f"{build.__name__[1:]}: output differs from the module")
                            continue
                if fmt == "torch.export":
                    torch.export.save(program, os.path.join(folder, EXPORT_FILE))
                    return EXPORT_FILE, fmt
                with _quiet_torchscript():
                    program.save(os.path.join(folder, TORCHSCRIPT_FILE))
                return TORCHSCRIPT_FILE, fmt
            except Exception as exc:  # noqa: BLE001 - try the next way of capturing the model
                errors.append(f"{build.__name__[1:]}: {type(exc).__name__}: {str(exc)[:200]}")
    if choice != "auto":
        raise ModelSaveError(
            f"Could not save a {choice} program of {type(model).__name__}: " + "; ".join(errors)
        )
    return None


# --- the flavor --------------------------------------------------------------------------------
class TorchFlavor(Flavor):
    name = FLAVOR_NAME
    loader_module = "mlflow.pytorch"
    packages = ("torch", "cloudpickle")

    def save(
        self,
        model: Any,
        path: str,
        *,
        example_inputs: Any = None,
        program: str | None = "auto",
        pickle_model: bool = True,
        **unknown: Any,
    ) -> SavedFlavor:
        import torch

        if unknown:
            raise InvalidParameterError(
                f"Unknown option(s) for a PyTorch model: {sorted(unknown)}; known: "
                "example_inputs, program, pickle_model"
            )
        if not isinstance(model, torch.nn.Module):
            raise InvalidParameterError(
                f"flightlog.torch.log_model needs a torch.nn.Module, got {type(model).__name__}"
            )
        if program not in PROGRAM_CHOICES:
            raise InvalidParameterError(
                f"program must be one of {PROGRAM_CHOICES}, got {program!r}"
            )
        data = os.path.join(path, DATA_DIR)
        os.makedirs(data, exist_ok=True)
        torch.save(model.state_dict(), os.path.join(data, STATE_DICT_FILE))
        conf: dict[str, Any] = {
            "model_data": DATA_DIR,
            "pytorch_version": str(torch.__version__),
            "code": None,
            "state_dict": STATE_DICT_FILE,
        }
        pyfunc: dict[str, Any] = {"data": DATA_DIR, "model_config": {"device": None}}
        pickle_error = None
        if pickle_model:
            pickle_error = _save_pickled(model, data)
            if pickle_error is None:
                pyfunc["pickle_module_name"] = "pickle"
        if example_inputs is not None:
            example_inputs = as_model_input(example_inputs, model)
        saved_program = save_program(model, data, example_inputs, program)
        if saved_program is not None:
            conf["program"], conf["program_format"] = saved_program
        if saved_program is None and (not pickle_model or pickle_error is not None):
            why = f" (pickling failed: {pickle_error})" if pickle_error else ""
            raise ModelSaveError(
                f"{type(model).__name__} could not be saved in a loadable form{why}: TorchScript "
                "and torch.export both failed. Pass input_example= so the model can be traced "
                "or exported, or make the module picklable"
            )
        return SavedFlavor(conf=conf, pyfunc=pyfunc)

    def load(self, path: str, conf: dict[str, Any]) -> Any:
        return load_module(os.path.join(path, conf.get("model_data") or DATA_DIR), conf)

    def predictor(self, model: Any, meta: Any) -> Any:
        def predict(data: Any, params: dict[str, Any] | None = None) -> Any:
            frame_columns = None
            if type(data).__module__.split(".", 1)[0] == "pandas" and hasattr(data, "columns"):
                frame_columns = True
            with evaluating(model):
                output = to_numpy(call_model(model, as_model_input(data, model)))
            if frame_columns and getattr(output, "ndim", 0) in (1, 2):
                import pandas as pd

                return pd.DataFrame(output)
            return output

        return predict


def _save_pickled(model: Any, folder: str) -> str | None:
    """Pickle the whole module (MLflow's model.pth); the error text when it cannot be."""
    import cloudpickle
    import torch

    target = os.path.join(folder, PICKLED_FILE)
    try:
        torch.save(model, target, pickle_module=cloudpickle)
    except Exception as exc:  # noqa: BLE001 - an unpicklable attribute; the program may still do
        if os.path.exists(target):
            os.remove(target)
        return f"{type(exc).__name__}: {exc}"
    # cloudpickle writes standard pickles (they import cloudpickle themselves when they need it),
    # and the pickle module named here must have an Unpickler: MLflow imports it by this name.
    with open(os.path.join(folder, PICKLE_INFO_FILE), "w") as f:
        f.write("pickle")
    return None


def load_module(data: str, conf: dict[str, Any] | None = None, prefer: str = "pickle") -> Any:
    """The module saved in the `data` folder, in eval mode.

    `prefer="pickle"` loads the pickled module (the user's class) and falls back to the program
    when the class cannot be imported; `prefer="program"` loads the program first.
    """
    import torch

    conf = conf or {}
    map_location = None if torch.cuda.is_available() else "cpu"
    pickled = os.path.join(data, PICKLED_FILE)
    program_file = conf.get("program")
    if program_file is None and os.path.exists(os.path.join(data, EXPORT_FILE)):
        program_file = EXPORT_FILE  # written by MLflow with serialization_format="pt2"
    loaders = []
    if os.path.exists(pickled):
        loaders.append(lambda: _load_pickled(data, map_location))
    if program_file is not None:
        loaders.append(lambda: _load_program(os.path.join(data, program_file), map_location))
    if prefer == "program":
        loaders.reverse()
    if not loaders:
        raise InvalidParameterError(
            f"No loadable PyTorch model in {data}: expected {PICKLED_FILE}, {TORCHSCRIPT_FILE} "
            f"or {EXPORT_FILE}"
        )
    errors: list[str] = []
    for load in loaders:
        try:
            module = load()
        except (ImportError, AttributeError, ModuleNotFoundError) as exc:
            # The model's class is not importable here; the program needs no Python code.
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        try:
            module.eval()
        except (NotImplementedError, RuntimeError):
            pass
        return module
    raise InvalidParameterError(f"Could not load the PyTorch model in {data}: " + "; ".join(errors))


def _load_pickled(data: str, map_location: Any) -> Any:
    import pickle

    import torch

    # Whatever pickle_module_info.txt names (cloudpickle, MLflow's mlflow.pytorch.pickle_module,
    # pickle), the file is a standard pickle: the standard unpickler reads it without importing
    # MLflow.
    with _quiet_torchscript():
        # MLflow may have stored a TorchScript archive as model.pth; torch.load hands it to
        # torch.jit.load by itself.
        return torch.load(
            os.path.join(data, PICKLED_FILE),
            map_location=map_location,
            pickle_module=pickle,
            weights_only=False,
        )


def _load_program(file: str, map_location: Any) -> Any:
    import torch

    if file.endswith(".pt2"):
        return torch.export.load(file).module()
    with _quiet_torchscript():
        return torch.jit.load(file, map_location=map_location)


def load_state_dict(data: str) -> dict[str, Any]:
    """Only the weights (safe to load from untrusted sources: no pickled code runs)."""
    import torch

    return torch.load(os.path.join(data, STATE_DICT_FILE), map_location="cpu", weights_only=True)


FLAVOR = TorchFlavor()
