"""The autolog framework: integrations as plugins, patched safely and reversibly.

- `flightlog.autolog(**config)` enables every installed integration (entry-point group
  `flightlog.integrations`); a framework imported later is patched when it is imported.
- `flightlog.<framework>.autolog(**config)` enables one; `disable=True` reverts completely.
- Patches never change what the user's function receives, returns or raises; faults inside
  flightlog become one warning (an exception under FLIGHTLOG_AUTOLOG_TESTING=1).

Modules: config (options), discovery (entry points), integration (the base class), patching
(reversible wrapt patches), hooks (post-import), calls (the wrappers), session (per-thread
nesting), runs (run management), reporting (warnings, test mode), datasets, background.

Importing this package is cheap; the machinery loads when autolog is first enabled.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "AutologIntegration": "flightlog.autolog.integration",
    "AutologConfig": "flightlog.autolog.config",
    "AutologCall": "flightlog.autolog.calls",
    "TrainingHandler": "flightlog.autolog.calls",
    "ObserverHandler": "flightlog.autolog.calls",
    "FlightlogAutologWarning": "flightlog.autolog.reporting",
    "discover": "flightlog.autolog.discovery",
    "get_integration": "flightlog.autolog.discovery",
    "enabled_integrations": "flightlog.autolog.integration",
    "is_test_mode": "flightlog.autolog.reporting",
    "wait_for_background": "flightlog.autolog.background",
}


def autolog(**config: Any) -> None:
    """Enable autologging for every installed integration (scikit-learn, PyTorch, ...).

    Options (all integrations): log_models, log_input_examples, log_model_signatures,
    log_datasets, disable, exclusive, silent, max_tuning_runs, extra_tags,
    registered_model_name, log_post_training_metrics; an integration may accept more (each
    receives the options it knows). An option no installed integration knows raises
    AutologConfigError. `flightlog.autolog(disable=True)` turns every integration off again.
    """
    from flightlog.autolog import config as autolog_config
    from flightlog.autolog import discovery, reporting
    from flightlog.exceptions import AutologConfigError

    integrations = discovery.discover()
    known = set(autolog_config.COMMON_DEFAULTS)
    accepted: dict[str, set[str]] = {}
    for name, integration in integrations.items():
        names = getattr(integration, "option_names", None)
        accepted[name] = set(names()) if callable(names) else set(autolog_config.COMMON_DEFAULTS)
        known |= accepted[name]
    autolog_config.check_known(config, known, "flightlog.autolog")
    # Check every value before enabling anything, so a bad option changes nothing.
    common = {k: v for k, v in config.items() if k in autolog_config.COMMON_DEFAULTS}
    autolog_config.resolve(common, where="flightlog.autolog")
    for name, integration in integrations.items():
        if hasattr(integration, "extra_options") and hasattr(integration, "check_options"):
            options = {k: v for k, v in config.items() if k in accepted[name]}
            autolog_config.resolve(
                options,
                where=f"{name} autolog",
                extra_defaults=integration.extra_options,
                extra_check=integration.check_options,
            )
    for name, integration in integrations.items():
        options = {k: v for k, v in config.items() if k in accepted[name]}
        try:
            integration.autolog(**options)
        except AutologConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken integration must not stop the rest
            reporting.report(name, "enabling autolog", exc, silent=bool(config.get("silent")))


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flightlog.autolog' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["autolog", *_LAZY]
