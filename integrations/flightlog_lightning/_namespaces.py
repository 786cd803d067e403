"""The two spellings of Lightning: `lightning.pytorch` (the unified package) and
`pytorch_lightning` (the standalone one). They are the same code under two names, with distinct
classes: a Trainer from one only accepts callbacks and loggers subclassing its own base classes.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

NAMESPACES = ("lightning.pytorch", "pytorch_lightning")


def installed() -> list[str]:
    """The namespaces importable here, without importing them."""
    found = []
    for namespace in NAMESPACES:
        top = namespace.split(".", 1)[0]
        try:
            if importlib.util.find_spec(top) is not None:
                found.append(namespace)
        except (ImportError, ValueError):
            continue
    return found


def load(namespace: str) -> ModuleType:
    return importlib.import_module(namespace)


def of(obj: Any) -> str:
    """The namespace an object's class (a Trainer, a callback) comes from."""
    for cls in type(obj).__mro__:
        module = cls.__module__ or ""
        if module.startswith("pytorch_lightning"):
            return "pytorch_lightning"
        if module.startswith("lightning.pytorch"):
            return "lightning.pytorch"
    return "lightning.pytorch"


def module_summary(module: Any) -> str:
    """Lightning's model summary table (layers, types, parameter counts) as text."""
    summary_module = importlib.import_module(f"{of(module)}.utilities.model_summary")
    return str(summary_module.ModelSummary(module, max_depth=-1)) + "\n"


def early_stopping_class(namespace: str) -> type:
    return load(namespace).callbacks.EarlyStopping


def model_checkpoint_class(namespace: str) -> type:
    return load(namespace).callbacks.ModelCheckpoint
