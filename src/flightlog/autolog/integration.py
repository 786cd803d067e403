"""The base class of flightlog's integrations (third parties may use it, or just the protocol).

The protocol an entry point in group `flightlog.integrations` must name an object of:
`name` (str), `module` (the framework module it patches, e.g. "sklearn"), `autolog(**config)`
and `revert()`. AutologIntegration implements it: options are checked, patches are applied when
the framework is imported (or at once if it already is), enabling twice patches once, and
`autolog(disable=True)` / `revert()` put every original back.

A subclass says what to patch per module in `patch_targets()`, with the wrappers from
flightlog.autolog.calls applied through the Patcher it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from flightlog.autolog import config as autolog_config
from flightlog.autolog import hooks, reporting
from flightlog.autolog.config import AutologConfig
from flightlog.autolog.patching import Patcher

# Integrations currently enabled in this process, by name (the framework's view of "on").
_enabled: dict[str, Any] = {}
_enabled_lock = threading.Lock()


def enabled_integrations() -> dict[str, Any]:
    with _enabled_lock:
        return dict(_enabled)


def module_owned_by_other(module_name: str, asking: str) -> bool:
    """Whether another enabled integration patches the framework `module_name` belongs to
    (so a scikit-learn-compatible XGBoost model is left to the XGBoost integration)."""
    top = module_name.split(".", 1)[0]
    with _enabled_lock:
        return any(
            getattr(integ, "module", None) == top and name != asking
            for name, integ in _enabled.items()
        )


class AutologIntegration:
    """An integration: subclass, set `name` and `module`, implement `patch_targets()`."""

    name: str = ""
    module: str = ""
    # Options this integration accepts on top of the common ones, with their defaults.
    extra_options: Mapping[str, Any] = {}

    def __init__(self) -> None:
        if not self.name or not self.module:
            raise TypeError(f"{type(self).__name__} must set `name` and `module`")
        self._config: AutologConfig | None = None
        self._patcher = Patcher(self.name)
        self._patched_modules: set[str] = set()
        self._lock = threading.RLock()

    # --- the protocol ----------------------------------------------------------------------
    @property
    def config(self) -> AutologConfig | None:
        """The options in force, or None while disabled (wrappers read this on every call)."""
        return self._config

    @property
    def enabled(self) -> bool:
        return self._config is not None

    def option_names(self) -> frozenset[str]:
        return frozenset(autolog_config.COMMON_DEFAULTS) | frozenset(self.extra_options)

    def autolog(self, **options: Any) -> None:
        """Enable (or, with disable=True, revert) this integration; bad options raise
        AutologConfigError before anything changes."""
        config = autolog_config.resolve(
            options,
            where=f"{self.name} autolog",
            extra_defaults=self.extra_options,
            extra_check=self.check_options,
        )
        if config.disable:
            self.revert()
            return
        if config.log_system_metrics is not None:
            from flightlog.system_metrics import settings as system_metrics_settings

            system_metrics_settings.set_autolog(config.log_system_metrics)
        with self._lock:
            self._config = config
            with _enabled_lock:
                _enabled[self.name] = self
            targets = self.patch_targets()
        for module_name in targets:
            hooks.when_imported(self, module_name, self._on_import)

    def revert(self) -> None:
        """Take every patch off (the patched attributes are the originals again)."""
        with self._lock:
            self._config = None
            with _enabled_lock:
                if _enabled.get(self.name) is self:
                    del _enabled[self.name]
            self._patcher.revert()
            self._patched_modules.clear()
            try:
                self.on_revert()
            except Exception as exc:  # noqa: BLE001 - reverting must finish
                reporting.report(self.name, "cleaning up after revert", exc)

    # --- for subclasses --------------------------------------------------------------------
    def patch_targets(self) -> Mapping[str, Callable[[ModuleType, Patcher], None]]:
        """{module name: function(module, patcher)} applied when each module is imported."""
        raise NotImplementedError

    def check_options(self, values: dict[str, Any]) -> None:
        """Check integration-specific option values; raise AutologConfigError on bad ones."""

    def on_revert(self) -> None:
        """Drop integration state kept outside patches (registries, hooks)."""

    # --- internals -------------------------------------------------------------------------
    def _on_import(self, module: ModuleType) -> None:
        module_name = module.__name__
        with self._lock:
            if self._config is None or module_name in self._patched_modules:
                return
            apply = self.patch_targets().get(module_name)
            if apply is None:
                return
            self._patched_modules.add(module_name)
            try:
                apply(module, self._patcher)
            except Exception as exc:  # noqa: BLE001 - a framework we cannot patch still trains
                reporting.report(self.name, f"patching {module_name}", exc)

    @property
    def patcher(self) -> Patcher:
        return self._patcher
