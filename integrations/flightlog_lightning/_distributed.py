"""One run per Lightning job: rank 0's run id shared with every rank at fit start, and the run
id kept in checkpoints so `fit(ckpt_path=...)` continues the same run.

At the first hook of a fit, every rank calls `share_run` once (a collective: the strategy's
`broadcast`, so ddp, ddp_spawn and fsdp alike). Rank 0 has opened the run by then; the other
ranks receive its id and make it their active run, so `flightlog.active_run()` and a user's own
`flightlog.log_metric(...)` on any rank reach the job's run. They never write params or the
model; with per-rank logging on they write their epoch metrics as `rank<N>/<name>`.
"""

from __future__ import annotations

from typing import Any

CHECKPOINT_KEY = "flightlog"


class RankState:
    """What a recorder on a rank of a multi-process fit holds for that fit."""

    __slots__ = ("pushed", "run_id", "shared")

    def __init__(self) -> None:
        self.shared = False  # share_run ran for this fit (it must run exactly once per rank)
        self.run_id: str | None = None
        self.pushed = False  # we made the run active on this rank, so we pop it at the end


def world_size(trainer: Any) -> int:
    try:
        return int(getattr(trainer, "world_size", 1) or 1)
    except (TypeError, ValueError):
        return 1


def share_run(trainer: Any, state: RankState, run_id: str | None) -> str | None:
    """Rank 0's run id on every rank (once per fit); None on a single process."""
    if state.shared or world_size(trainer) < 2:
        return run_id
    state.shared = True
    received = trainer.strategy.broadcast(run_id, 0)
    state.run_id = received if isinstance(received, str) else None
    return state.run_id


def join(state: RankState) -> None:
    """Make the job's run this rank's active run (unless one is active already)."""
    from flightlog import fluent

    if state.run_id is None or fluent.active_run() is not None:
        return
    fluent.start_run(run_id=state.run_id)
    state.pushed = True


def leave(state: RankState) -> None:
    """End of the fit on a rank: pop the run we pushed (only rank 0 marks it ended)."""
    from flightlog import fluent

    pushed, state.pushed = state.pushed, False
    state.shared = False
    state.run_id = None
    active = fluent.active_run()
    if pushed and active is not None:
        fluent.end_run()


def per_rank(option: bool | None) -> bool:
    from flightlog import distributed

    return distributed.log_every_rank() if option is None else bool(option)


def saved_run_id(checkpoint: Any) -> str | None:
    entry = checkpoint.get(CHECKPOINT_KEY) if isinstance(checkpoint, dict) else None
    run_id = entry.get("run_id") if isinstance(entry, dict) else None
    return run_id if isinstance(run_id, str) and run_id else None


def save_run_id(checkpoint: Any, run_id: str | None) -> None:
    if run_id and isinstance(checkpoint, dict):
        checkpoint[CHECKPOINT_KEY] = {"run_id": run_id}
