"""How a fault inside this integration is reported: one warning, never an exception in training.

Under `FLIGHTLOG_AUTOLOG_TESTING=1` (the test suite) the fault is raised instead, so integration
bugs fail tests rather than hiding behind warnings.
"""

from __future__ import annotations

import os
import warnings


def testing() -> bool:
    return os.environ.get("FLIGHTLOG_AUTOLOG_TESTING", "").strip().lower() in ("1", "true", "yes")


def report_fault(integration: str, what: str, exc: BaseException) -> None:
    if testing():
        raise exc
    warnings.warn(
        f"flightlog {integration}: {what} failed and was skipped; training goes on "
        f"({type(exc).__name__}: {exc})",
        RuntimeWarning,
        stacklevel=3,
    )
