"""Tag, metric and environment names a sweep writes (one place, so integrations and the UI agree)."""

from __future__ import annotations

SWEEP_KEY_TAG = "flightlog.sweep.key"
OBJECTIVE_TAG = "flightlog.sweep.objective"
DIRECTION_TAG = "flightlog.sweep.direction"
BEST_RUN_TAG = "flightlog.sweep.best_run_id"
BEST_TRIAL_TAG = "flightlog.sweep.best_trial"
BEST_VALUE_TAG = "flightlog.sweep.best_value"
COUNT_TAG = "flightlog.sweep.n_{}"  # n_complete, n_pruned, n_failed, n_killed, n_trials
MEMBER_TAG_PREFIX = "flightlog.sweep.member."
STATUS_TAG = "flightlog.sweep.status"  # "running" or "finished"

TRIAL_STATE_TAG = "flightlog.trial.state"
TRIAL_NUMBER_TAG = "flightlog.trial.number"
TRIAL_ERROR_TYPE_TAG = "flightlog.trial.error_type"
TRIAL_ERROR_TAG = "flightlog.trial.error"
TRIAL_PARAMS_TAG = "flightlog.trial.param_keys"
TRIAL_OWNER_TAG = "flightlog.trial.owner"  # JSON: host, pid, start
TRIAL_DURATION_METRIC = "trial_duration_s"
BEST_VALUE_METRIC = "best_value"

PARENT_RUN_TAG = "mlflow.parentRunId"
PARENT_RUN_ENV = "FLIGHTLOG_PARENT_RUN_ID"
SWEEP_KEY_ENV = "FLIGHTLOG_SWEEP_KEY"

# Trial states. A trial's run status follows: COMPLETE -> FINISHED, PRUNED -> KILLED,
# FAILED -> FAILED, KILLED (interrupted, or its process died) -> KILLED.
COMPLETE = "COMPLETE"
PRUNED = "PRUNED"
FAILED = "FAILED"
KILLED = "KILLED"
STATES = (COMPLETE, PRUNED, FAILED, KILLED)
RUN_STATUS = {COMPLETE: "FINISHED", PRUNED: "KILLED", FAILED: "FAILED", KILLED: "KILLED"}

DIRECTIONS = ("minimize", "maximize")
