"""`flightlog.optuna`: Optuna studies as sweeps.

    flightlog.optuna.autolog()
    study.optimize(objective, n_trials=50, callbacks=[flightlog.optuna.FlightlogCallback()])

Everything comes from the flightlog_optuna integration package, imported on first use;
importing this module imports neither it nor optuna.
"""

from __future__ import annotations

from flightlog._lazy import lazy_exports

_EXPORTS = ("autolog", "FlightlogCallback", "integration")

__getattr__, __dir__ = lazy_exports(__name__, "flightlog_optuna", _EXPORTS)

__all__ = [*_EXPORTS]
