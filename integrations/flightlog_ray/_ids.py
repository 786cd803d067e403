"""Ids the Tune driver and a trial's worker process agree on without talking to each other."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("0f6c2a8e-3d4b-4c1e-9a7f-5e2d1b0c9a84")


def child_run_id(parent_run_id: str, trial_id: str) -> str:
    """The child run of Tune trial `trial_id`: created by whichever side gets there first
    (runs/create with a run id is idempotent), so both log into the same run."""
    return uuid.uuid5(_NAMESPACE, f"{parent_run_id}\x00{trial_id}").hex
