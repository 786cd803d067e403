"""Finding integrations: every entry point in the group `flightlog.integrations`.

flightlog's own integrations are registered in its pyproject.toml exactly as a third party
registers one in theirs:

    [project.entry-points."flightlog.integrations"]
    myframework = "my_package.flightlog_plugin:integration"

The entry point names an object with `name`, `module`, `autolog(**config)` and `revert()` (an
AutologIntegration instance, or a class that builds one with no arguments).
"""

from __future__ import annotations

import threading
from typing import Any

from flightlog.autolog import reporting

GROUP = "flightlog.integrations"
_REQUIRED = ("name", "module", "autolog", "revert")

# Loaded integration objects by entry-point value ("pkg.mod:attr"), so each loads once.
_loaded: dict[str, Any] = {}
_lock = threading.Lock()


def discover() -> dict[str, Any]:
    """{name: integration} for every installed integration (rescanned on each call, so a
    distribution installed while the process runs is found)."""
    from importlib.metadata import entry_points

    found: dict[str, Any] = {}
    seen_values: set[str] = set()
    for entry_point in entry_points(group=GROUP):
        # An editable install can list the same distribution twice.
        if entry_point.value in seen_values:
            continue
        seen_values.add(entry_point.value)
        integration = _load(entry_point)
        if integration is None:
            continue
        name = str(integration.name)
        if name in found and found[name] is not integration:
            reporting.report(
                "discovery",
                f"loading integration {entry_point.value!r}",
                ValueError(f"another integration named {name!r} is installed; keeping the first"),
            )
            continue
        found[name] = integration
    return found


def get_integration(name: str) -> Any:
    """The installed integration called `name` (e.g. "sklearn")."""
    from flightlog.exceptions import AutologConfigError

    found = discover()
    try:
        return found[name]
    except KeyError:
        raise AutologConfigError(
            f"No flightlog integration named {name!r} is installed; installed: "
            f"{', '.join(sorted(found)) or 'none'}"
        ) from None


def _load(entry_point: Any) -> Any:
    with _lock:
        if entry_point.value in _loaded:
            return _loaded[entry_point.value]
    try:
        target = entry_point.load()
        integration = target() if isinstance(target, type) else target
        missing = [attr for attr in _REQUIRED if not hasattr(integration, attr)]
        if missing:
            raise TypeError(
                f"{entry_point.value} is not a flightlog integration: it has no "
                f"{', '.join(missing)}"
            )
    except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the others
        reporting.report("discovery", f"loading integration {entry_point.value!r}", exc)
        return None
    with _lock:
        _loaded.setdefault(entry_point.value, integration)
        return _loaded[entry_point.value]
