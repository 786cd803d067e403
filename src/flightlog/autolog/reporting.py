"""How a fault inside autologging reaches the user: one warning, or, in test mode, an exception.

Test mode (`FLIGHTLOG_AUTOLOG_TESTING=1`, set by the project's own test suite) exists so that
integration bugs fail tests instead of hiding behind warnings: faults raise
AutologTestModeError, and the patch wrappers also check that every argument reached the patched
function unchanged and that no run was left open.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from flightlog.exceptions import AutologTestModeError

TEST_MODE_ENV = "FLIGHTLOG_AUTOLOG_TESTING"

_logger = logging.getLogger("flightlog.autolog")


class FlightlogAutologWarning(UserWarning):
    """A fault inside flightlog's autologging; the user's training was not affected."""


def is_test_mode() -> bool:
    from flightlog.config import env_flag

    return env_flag(TEST_MODE_ENV, False)


def report(integration: str, what: str, exc: BaseException, *, silent: bool = False) -> None:
    """Report one fault: raise in test mode, else one warning (none when `silent`)."""
    if is_test_mode():
        raise AutologTestModeError(
            f"autolog ({integration}): {what} failed: {type(exc).__name__}: {exc}"
        ) from exc
    _logger.debug("autolog (%s): %s failed", integration, what, exc_info=exc)
    if silent:
        return
    warnings.warn(
        f"flightlog autolog ({integration}): {what} failed and was skipped; training was not "
        f"affected. {type(exc).__name__}: {exc}",
        FlightlogAutologWarning,
        stacklevel=_user_stacklevel(),
    )


def report_many(
    integration: str, faults: Sequence[tuple[str, BaseException]], silent: bool
) -> None:
    """Several faults from one call become one warning (or one exception in test mode)."""
    if not faults:
        return
    what, exc = faults[0]
    if len(faults) > 1:
        what = f"{what} (and {len(faults) - 1} more step{'s' if len(faults) > 2 else ''})"
        for other_what, other in faults[1:]:
            _logger.debug("autolog (%s): %s failed", integration, other_what, exc_info=other)
    report(integration, what, exc, silent=silent)


def check_args_unchanged(
    integration: str,
    function: str,
    user_args: Sequence[Any],
    user_kwargs: Mapping[str, Any],
    call_args: Sequence[Any],
    call_kwargs: Mapping[str, Any],
) -> None:
    """Test mode: every argument the user passed must reach the original as the same object.

    An integration may add keyword arguments or append to a list/tuple/dict the user passed
    (Keras callbacks); anything else is a bug.
    """
    if len(call_args) < len(user_args):
        _fail(integration, function, f"dropped positional arguments ({len(user_args)} given)")
    for index, value in enumerate(user_args):
        if not _same_or_extended(value, call_args[index]):
            _fail(integration, function, f"positional argument {index} was replaced")
    for key, value in user_kwargs.items():
        if key not in call_kwargs:
            _fail(integration, function, f"keyword argument {key!r} was dropped")
        if not _same_or_extended(value, call_kwargs[key]):
            _fail(integration, function, f"keyword argument {key!r} was replaced")


def _same_or_extended(user_value: Any, call_value: Any) -> bool:
    if call_value is user_value:
        return True
    # Anything else must be a strict extension: the user's items, in order, plus more.
    if isinstance(user_value, list | tuple) and isinstance(call_value, list | tuple):
        return len(call_value) > len(user_value) and all(
            a is b for a, b in zip(user_value, call_value, strict=False)
        )
    if isinstance(user_value, Mapping) and isinstance(call_value, Mapping):
        return len(call_value) > len(user_value) and all(
            k in call_value and call_value[k] is v for k, v in user_value.items()
        )
    return False


def _fail(integration: str, function: str, problem: str) -> None:
    raise AutologTestModeError(f"autolog ({integration}): {function}: {problem}")


def _own_dirs() -> tuple[str, ...]:
    """Folders whose frames are flightlog's own (the core, integration packages, wrapt), so a
    warning can point at the user's line instead. Computed only when a warning is issued."""
    import flightlog

    dirs = [os.path.dirname(flightlog.__file__)]
    for name, module in list(sys.modules.items()):
        if (name == "wrapt" or name.startswith("flightlog_")) and "." not in name:
            path = getattr(module, "__file__", None)
            if path:
                dirs.append(os.path.dirname(path))
    return tuple(dirs)


def _user_stacklevel() -> int:
    """The stacklevel that makes a warning point at the first frame outside flightlog."""
    own = _own_dirs()
    level = 1
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(own):
        frame = frame.f_back
        level += 1
    return level
