"""Autolog options: the common ones every integration accepts, their defaults and checks.

An integration may accept more (`extra_options` on the integration, with defaults); anything
else is a typo or a misunderstanding and is refused with a message naming the closest option.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flightlog.exceptions import AutologConfigError

# MLflow's autolog options, with MLflow's defaults.
COMMON_DEFAULTS: dict[str, Any] = {
    "log_models": True,
    "log_input_examples": False,
    "log_model_signatures": True,
    "log_datasets": True,
    "disable": False,
    "exclusive": False,
    "silent": False,
    "max_tuning_runs": 5,
    "extra_tags": None,
    "registered_model_name": None,
    "log_post_training_metrics": True,
    # Accepted so MLflow code runs unchanged; flightlog patches whatever version is installed.
    "disable_for_unsupported_versions": False,
    # None: the runs autolog starts follow enable_system_metrics_logging() / the environment.
    "log_system_metrics": None,
    # flightlog's: a held-out (X, y) evaluated after fit with flightlog.evaluate (sklearn and
    # xgboost estimators; "eval_set" = xgboost's last eval_set pair). Off by default.
    "evaluate_on": None,
}

_BOOL_OPTIONS = frozenset(
    {
        "log_models",
        "log_input_examples",
        "log_model_signatures",
        "log_datasets",
        "disable",
        "exclusive",
        "silent",
        "log_post_training_metrics",
        "disable_for_unsupported_versions",
    }
)


class AutologConfig(Mapping[str, Any]):
    """The options one integration runs with; read as attributes (`config.log_models`)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"No autolog option {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AutologConfig is read-only; call autolog() again to change it")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"AutologConfig({self._values!r})"


def check_known(options: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    """Refuse option names not in `known`, suggesting the closest one."""
    known = sorted(set(known))
    unknown = [key for key in options if key not in known]
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise AutologConfigError(
        f"Unknown autolog option{'s' if len(unknown) > 1 else ''} for {where}: "
        f"{', '.join(hints)}. Known options: {', '.join(known)}"
    )


def resolve(
    options: Mapping[str, Any],
    *,
    where: str,
    extra_defaults: Mapping[str, Any] | None = None,
    extra_check: Callable[[dict[str, Any]], None] | None = None,
) -> AutologConfig:
    """Defaults overlaid with `options`, every value checked; raises AutologConfigError."""
    defaults = {**COMMON_DEFAULTS, **(extra_defaults or {})}
    check_known(options, defaults, where)
    values = {**defaults, **options}
    for key in _BOOL_OPTIONS:
        if not isinstance(values[key], bool):
            raise AutologConfigError(
                f"Autolog option {key!r} must be True or False, got {values[key]!r}"
            )
    if values["log_system_metrics"] is not None and not isinstance(
        values["log_system_metrics"], bool
    ):
        raise AutologConfigError(
            "Autolog option 'log_system_metrics' must be True, False or None, got "
            f"{values['log_system_metrics']!r}"
        )
    values["max_tuning_runs"] = _check_max_tuning_runs(values["max_tuning_runs"])
    values["extra_tags"] = _check_extra_tags(values["extra_tags"])
    _check_evaluate_on(values["evaluate_on"])
    name = values["registered_model_name"]
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise AutologConfigError(
            f"Autolog option 'registered_model_name' must be a non-empty string or None, got {name!r}"
        )
    if extra_check is not None:
        extra_check(values)
    return AutologConfig(values)


def _check_max_tuning_runs(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AutologConfigError(
            f"Autolog option 'max_tuning_runs' must be a non-negative integer or None (all "
            f"candidates), got {value!r}"
        )
    return int(value)


def _check_evaluate_on(value: Any) -> None:
    if value is None or (isinstance(value, str) and value == "eval_set"):
        return
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise AutologConfigError(
            "Autolog option 'evaluate_on' must be None, 'eval_set' or a pair (X_val, y_val), "
            f"got {type(value).__name__}"
        )


def _check_extra_tags(value: Any) -> dict[str, str]:
    from flightlog import validation

    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AutologConfigError(
            f"Autolog option 'extra_tags' must be a dict of tag names to values, got "
            f"{type(value).__name__}"
        )
    tags = {}
    for key, tag_value in value.items():
        try:
            validation.validate_key(key, "Tag")
            tags[key] = validation.validate_tag_value(key, tag_value)
        except Exception as exc:  # noqa: BLE001 - re-raised as a config error naming the option
            raise AutologConfigError(f"Autolog option 'extra_tags': {exc}") from None
    return tags
