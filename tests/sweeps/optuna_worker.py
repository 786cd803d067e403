"""One process of a multi-process Optuna study (run by test_optuna.py as a subprocess).

    python optuna_worker.py STORAGE_URL STUDY_NAME N_TRIALS [HANG_AT_TRIAL MARKER_FILE]

Tracking goes wherever FLIGHTLOG_TRACKING_URI points. With HANG_AT_TRIAL, the process writes
MARKER_FILE once it is inside that many-th trial of its own and then waits to be killed.
"""

from __future__ import annotations

import sys
import time

import optuna

import flightlog


def main() -> None:
    storage_url, study_name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    hang_at = int(sys.argv[4]) if len(sys.argv) > 4 else None
    marker = sys.argv[5] if len(sys.argv) > 5 else None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    flightlog.autolog()
    storage = optuna.storages.RDBStorage(
        storage_url, engine_kwargs={"connect_args": {"timeout": 120}}
    )
    study = optuna.load_study(study_name=study_name, storage=storage)
    mine = {"n": 0}

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        y = trial.suggest_int("y", 0, 5)
        mine["n"] += 1
        flightlog.log_metric("inside", x)  # lands in this trial's child run
        if hang_at is not None and mine["n"] == hang_at:
            with open(marker, "w") as f:
                f.write(str(trial.number))
            time.sleep(3600)  # killed here
        return (x - 2) ** 2 + y

    study.optimize(objective, n_trials=n_trials)


if __name__ == "__main__":
    main()
