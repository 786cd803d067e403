"""Reversible patches: wrapt wrappers put on classes and modules, and taken off again.

A Patcher records, for each attribute it replaces, the exact object that was there (the raw
entry of the owner's `__dict__`, so staticmethods, classmethods and descriptors such as
scikit-learn's `available_if` survive), and `revert()` puts that object back: afterwards the
attribute *is* the original again. If someone else has replaced our wrapper in the meantime
(another library wrapping it in turn), the original cannot be put back without undoing their
change; our wrapper is then retired instead and passes every call straight through.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import wrapt

_MISSING = object()

# wrapt's wrapper signature: (wrapped, instance, args, kwargs) -> result
WrapperFunction = Callable[[Callable[..., Any], Any, tuple, dict], Any]


class _Switch:
    __slots__ = ("retired",)

    def __init__(self) -> None:
        self.retired = False


class PatchWrapper(wrapt.FunctionWrapper):
    """A wrapt FunctionWrapper that knows it is flightlog's and can be retired.

    Pickling one pickles the original instead: cloudpickle pickles classes defined in `__main__`
    by value, `__dict__` and all, and a model saved while autolog is on must load without it.
    """

    def __init__(self, wrapped: Any, wrapper: WrapperFunction, integration: str):
        switch = _Switch()

        def guarded(wrapped_fn, instance, args, kwargs):
            if switch.retired:
                return wrapped_fn(*args, **kwargs)
            return wrapper(wrapped_fn, instance, args, kwargs)

        super().__init__(wrapped, guarded)
        self._self_integration = integration
        self._self_switch = switch

    @property
    def retired(self) -> bool:
        return self._self_switch.retired

    @retired.setter
    def retired(self, value: bool) -> None:
        self._self_switch.retired = value

    def __reduce_ex__(self, protocol):
        return (copy.copy, (self.__wrapped__,))

    def __reduce__(self):
        return (copy.copy, (self.__wrapped__,))


def is_flightlog_wrapper(value: Any) -> bool:
    return isinstance(value, PatchWrapper)


@dataclass
class Patch:
    owner: Any
    name: str
    original: Any  # _MISSING when the attribute was added rather than replaced
    replacement: Any

    def revert(self) -> None:
        current = vars(self.owner).get(self.name, _MISSING)
        if current is self.replacement:
            if self.original is _MISSING:
                delattr(self.owner, self.name)
            else:
                setattr(self.owner, self.name, self.original)
        elif isinstance(self.replacement, PatchWrapper):
            # Someone wrapped our wrapper; leave theirs in place and make ours a pass-through.
            self.replacement.retired = True


class Patcher:
    """The patches one integration has applied; `revert()` restores every original."""

    def __init__(self, integration: str):
        self.integration = integration
        self._patches: dict[tuple[int, str], Patch] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._patches)

    def is_patched(self, owner: Any, name: str) -> bool:
        patch = self._patches.get((id(owner), name))
        return patch is not None and vars(owner).get(name, _MISSING) is patch.replacement

    def wrap(self, owner: Any, name: str, wrapper: WrapperFunction) -> bool:
        """Wrap `owner.<name>` (defined in the owner's own `__dict__`) with `wrapper`.

        Returns False, changing nothing, when the owner does not define `name` itself or it is
        already patched by this patcher (so enabling twice patches once).
        """
        with self._lock:
            original = vars(owner).get(name, _MISSING)
            if original is _MISSING:
                return False
            if self.is_patched(owner, name):
                return False
            if (
                isinstance(original, PatchWrapper)
                and original._self_integration == self.integration
            ):
                # A wrapper of ours retired by an earlier revert (someone had wrapped over it) is
                # exposed again: put it back to work instead of stacking a second one.
                original.retired = False
                self._patches[(id(owner), name)] = Patch(
                    owner, name, original.__wrapped__, original
                )
                return True
            replacement = PatchWrapper(original, wrapper, self.integration)
            setattr(owner, name, replacement)
            self._patches[(id(owner), name)] = Patch(owner, name, original, replacement)
            return True

    def add(self, owner: Any, name: str, value: Any) -> bool:
        """Define `owner.<name>` = value where the owner does not define it itself (it may
        inherit one); revert() deletes it again."""
        with self._lock:
            if name in vars(owner):
                return False
            setattr(owner, name, value)
            self._patches[(id(owner), name)] = Patch(owner, name, _MISSING, value)
            return True

    def revert(self) -> int:
        """Restore every original (newest patch first); returns how many patches were undone."""
        with self._lock:
            patches = list(self._patches.values())
            self._patches.clear()
        for patch in reversed(patches):
            patch.revert()
        return len(patches)
