"""flightlog's Optuna integration (a plugin in the `flightlog.integrations` group).

    import flightlog
    flightlog.autolog()            # or flightlog.optuna.autolog()
    study = optuna.create_study(study_name="lr-search", storage="sqlite:///optuna.db",
                                load_if_exists=True)
    study.optimize(objective, n_trials=40, n_jobs=2)

A study is a sweep: one parent run (the study's name is the sweep key, so every process of a
study shared through an RDB storage joins the same parent; study name, sampler, pruner and
direction(s) as params; a live summary), and one child run per trial (trial.params as params,
the value(s) as metrics named "value" / the study's metric names, `trial.report` values as the
metric history `intermediate_value`, distributions as tags, `trial_duration_s`). Pruned trials
end KILLED with tag flightlog.trial.state=PRUNED, failed ones FAILED with the exception.
Anything the objective logs, autologged training included, lands in its trial's child, also
with `n_jobs>1`. `FlightlogCallback` is the explicit form. Details: docs/sweeps.md.

Importing this package does not import optuna; the patch goes on when optuna is imported.
"""

from __future__ import annotations

from typing import Any

from flightlog_optuna._integration import OptunaIntegration

integration = OptunaIntegration()


def autolog(**config: Any) -> None:
    """Enable (or with disable=True revert) tracking every `Study.optimize` as a sweep.

    Options: the common ones (disable, silent, extra_tags: put on each study's parent run).
    """
    integration.autolog(**config)


def __getattr__(name: str) -> Any:
    if name == "FlightlogCallback":
        from flightlog_optuna._callback import FlightlogCallback

        return FlightlogCallback
    raise AttributeError(f"module 'flightlog_optuna' has no attribute {name!r}")


__all__ = ["FlightlogCallback", "OptunaIntegration", "autolog", "integration"]
