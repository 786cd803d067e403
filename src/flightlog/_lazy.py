"""Lazy re-exports from a plugin package, for the `flightlog.<framework>` modules.

`flightlog.keras`, `flightlog.xgboost`, ... name what an integration package (flightlog_keras,
...) provides, but must not import it (nor its framework) until a name is used: `import
flightlog.keras` stays cheap, and a missing integration only fails where it is needed.
This module imports nothing but the standard library, for the same reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any


def lazy_exports(
    module: str, package: str, names: Iterable[str], *, own: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's `__getattr__` and `__dir__` that take `names` from `package` on first use.

    `module` is the re-exporting module's name (for error messages); `own` lists the names the
    module defines itself, so `dir()` shows them too. A missing or broken `package` is reported
    as an AttributeError naming the integration and why it could not be imported.
    """
    exported = tuple(names)
    listed = sorted([*exported, *own])

    def __getattr__(name: str) -> Any:
        if name not in exported:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        try:
            plugin = importlib.import_module(package)
        except ImportError as exc:
            raise AttributeError(
                f"{module}.{name} needs the {package} integration, which could not be imported "
                f"({exc})"
            ) from None
        return getattr(plugin, name)

    def __dir__() -> list[str]:
        return list(listed)

    return __getattr__, __dir__
