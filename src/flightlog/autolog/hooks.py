"""Run a function when a module is imported, or now if it already is (import order never matters).

Built on wrapt's post-import hooks (a `sys.meta_path` finder that calls the hook once the module
has finished executing). wrapt keeps hooks forever, so each (owner, module) pair registers one
hook once; whether it still does anything is decided by the callback at import time.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import ModuleType

import wrapt

_registered: set[tuple[int, str]] = set()
_lock = threading.Lock()


def when_imported(owner: object, module_name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call `callback(module)` now if `module_name` is imported, else right after its import.

    `owner` identifies the caller (an integration) so one caller registers one hook per module;
    the callback must itself check whether it is still wanted.
    """
    module = sys.modules.get(module_name)
    if module is not None and _finished_importing(module):
        callback(module)
        return
    key = (id(owner), module_name)
    with _lock:
        if key in _registered:
            return
        _registered.add(key)
    wrapt.register_post_import_hook(callback, module_name)


def _finished_importing(module: ModuleType) -> bool:
    # A module still executing its own body has `__spec__._initializing` set; patching it then
    # would miss everything defined below the import that led here.
    spec = getattr(module, "__spec__", None)
    return not getattr(spec, "_initializing", False)
