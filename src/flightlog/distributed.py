"""One run per distributed job: which rank this process is, and the job's run id.

A job launched by torchrun, Lightning (ddp, ddp_spawn, fsdp) or any launcher that sets the
usual variables (RANK, LOCAL_RANK, WORLD_SIZE, NODE_RANK/GROUP_RANK) runs the same script in
several processes; each would start its own run. `job_run(...)` is what `start_run()` asks
first in such a process. The run id comes from, in order:

1. `FLIGHTLOG_RUN_ID` in the environment: the user (or a scheduler) named the run;
2. `FLIGHTLOG_JOB_RUN_ID`: the run that was active in the process that launched this one
   (start_run exports it, so Lightning's ddp children and a torchrun started under an active
   run join it);
3. torchrun's agent store (a TCPStore every worker of the job can reach, kept across elastic
   restarts): the first rank to ask claims the key with compare-and-set, creates the run (or,
   after a restart, finds the job's run by its `flightlog.job_id` tag) and publishes its id; the
   others wait for it. A restarted worker finds the id already published and resumes the run.

The Lightning integration also broadcasts its run id through the process group at fit start
(`broadcast_run_id`), which covers ddp_spawn and fsdp, where no agent store exists.

Only the global rank 0 (or the process that created the run) ends the run; other ranks only
flush. Nothing here imports torch unless the environment says a job is running.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

from flightlog.exceptions import StoreUnavailableError

RUN_ID_ENV = "FLIGHTLOG_RUN_ID"
JOB_RUN_ID_ENV = "FLIGHTLOG_JOB_RUN_ID"
PER_RANK_ENV = "FLIGHTLOG_LOG_EVERY_RANK"
TIMEOUT_ENV = "FLIGHTLOG_DISTRIBUTED_TIMEOUT"
JOB_ID_TAG = "flightlog.job_id"
WORLD_SIZE_TAG = "flightlog.world_size"
DEFAULT_TIMEOUT_S = 600.0
_CLAIM_PREFIX = "creating:"

_lock = threading.Lock()
_runs_started = 0  # top-level runs this process started inside the job: the store key's index
_per_rank: bool | None = None


def _torch_group():
    """torch.distributed when it is imported and its default group is up, else None."""
    dist = sys.modules.get("torch.distributed")
    if dist is None:
        return None
    try:
        if dist.is_available() and dist.is_initialized():
            return dist
    except Exception:  # noqa: BLE001 - a half-imported torch
        return None
    return None


def _env_int(*names: str) -> int | None:
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip().lstrip("-").isdigit():
            return int(value)
    return None


def world_size() -> int:
    group = _torch_group()
    if group is not None:
        return int(group.get_world_size())
    return max(_env_int("WORLD_SIZE") or 1, 1)


def rank() -> int:
    """The global rank (0 outside a job). Lightning's ddp children carry only LOCAL_RANK and
    NODE_RANK until the process group is up; then torch answers."""
    group = _torch_group()
    if group is not None:
        return int(group.get_rank())
    found = _env_int("RANK")
    if found is not None:
        return found
    local, node = local_rank(), node_rank()
    per_node = _env_int("LOCAL_WORLD_SIZE")
    if per_node:
        return node * per_node + local
    return local if node == 0 else node * 1_000_000 + local  # non-zero is what matters here


def local_rank() -> int:
    return _env_int("LOCAL_RANK") or 0


def node_rank() -> int:
    return _env_int("GROUP_RANK", "NODE_RANK") or 0


def is_distributed() -> bool:
    return world_size() > 1


def set_log_every_rank(value: bool | None) -> None:
    """Per-rank series (`rank<N>/train_loss`) on or off for the integrations (None: env)."""
    global _per_rank
    _per_rank = value


def log_every_rank() -> bool:
    if _per_rank is not None:
        return _per_rank
    return os.environ.get(PER_RANK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def rank_prefix() -> str:
    return f"rank{rank()}/"


def timeout() -> float:
    value = os.environ.get(TIMEOUT_ENV)
    try:
        return float(value) if value else DEFAULT_TIMEOUT_S
    except ValueError:
        return DEFAULT_TIMEOUT_S


def job_id() -> str | None:
    """The launcher's id for the job, when it gives one that identifies it."""
    value = os.environ.get("TORCHELASTIC_RUN_ID")
    if value and value != "none":
        return value
    return None


def _agent_store():
    """A client of torchrun's agent store, or None outside torchrun."""
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return None
    host, port = os.environ.get("MASTER_ADDR"), _env_int("MASTER_PORT")
    if not host or port is None:
        return None
    from datetime import timedelta

    from torch.distributed import TCPStore

    return TCPStore(host, port, is_master=False, timeout=timedelta(seconds=timeout()))


def job_run(
    find: Callable[[str], str | None], create: Callable[[dict[str, str]], str]
) -> tuple[str, bool] | None:
    """The run this process of a distributed job logs into: (run id, created here), or None
    when this is no job (or the job gives no way to agree, so start_run does as usual).

    `find(job_key)` looks a run up by its job tag; `create(tags)` creates one.
    """
    global _runs_started
    if not is_distributed():
        return None
    with _lock:
        index = _runs_started
        _runs_started += 1
    named = os.environ.get(RUN_ID_ENV)
    if named and index == 0:
        return named, False
    inherited = os.environ.get(JOB_RUN_ID_ENV)
    if inherited and index == 0:
        return inherited, False
    store = _agent_store()
    if store is None:
        return None
    return _agree(store, index, find, create)


def _agree(store, index: int, find, create) -> tuple[str, bool]:
    key = f"flightlog/run/{index}"
    claim = f"{_CLAIM_PREFIX}{os.getpid()}@{rank()}"
    value = store.compare_set(key, "", claim)
    value = value.decode() if isinstance(value, bytes) else str(value)
    if value == claim:
        try:
            job = job_id()
            job_key = f"{job}:{index}" if job else None
            run_id = find(job_key) if job_key else None
            created = run_id is None
            if created:
                tags = {WORLD_SIZE_TAG: str(world_size())}
                if job_key:
                    tags[JOB_ID_TAG] = job_key
                run_id = create(tags)
        except BaseException:
            store.delete_key(key)  # let another rank try rather than wait for nothing
            raise
        store.set(key, run_id)
        return run_id, created
    deadline = time.monotonic() + timeout()
    while value.startswith(_CLAIM_PREFIX):
        if time.monotonic() > deadline:
            raise StoreUnavailableError(
                f"Waited {timeout():.0f} s for the job's run id ({value} is creating it); "
                f"set {TIMEOUT_ENV} to wait longer"
            )
        time.sleep(0.05)
        if not store.check([key]):  # the claimer gave up: claim it ourselves
            return _agree(store, index, find, create)
        raw = store.get(key)
        value = raw.decode() if isinstance(raw, bytes) else str(raw)
    return value, False


def publish(run_id: str | None) -> None:
    """Export the active run for processes this one launches (JOB_RUN_ID_ENV)."""
    if run_id is None:
        os.environ.pop(JOB_RUN_ID_ENV, None)
    else:
        os.environ[JOB_RUN_ID_ENV] = run_id


def ends_runs(created_here: bool) -> bool:
    """Whether end_run in this process marks the run ended (rank 0, or its creator)."""
    return created_here or not is_distributed() or rank() == 0


def broadcast_run_id(run_id: str | None, broadcast: Callable[[object, int], object]) -> str | None:
    """Rank 0's run id on every rank, through a framework's broadcast(obj, src)."""
    received = broadcast(run_id, 0)
    return received if isinstance(received, str) else None


def reset() -> None:
    """Forget per-process state (tests, and a forked child)."""
    global _runs_started, _per_rank
    with _lock:
        _runs_started = 0
        _per_rank = None


def start_run_hook(client, experiment_id, tags, run_name) -> tuple[str, bool] | None:
    """`job_run` with the store lookups start_run needs: (run id, created here) or None."""
    from flightlog import fluent
    from flightlog.context import system_tags

    exp_id = fluent._resolve_experiment_id(experiment_id)

    def find(job_key: str) -> str | None:
        page = client.search_runs([exp_id], f"tags.`{JOB_ID_TAG}` = '{job_key}'", 1, 1)
        return page[0].info.run_id if len(page) else None

    def create(extra: dict[str, str]) -> str:
        all_tags = system_tags()
        all_tags.update({k: str(v) for k, v in (tags or {}).items()})
        all_tags.update(extra)
        return client.create_run(exp_id, tags=all_tags, run_name=run_name).info.run_id

    return job_run(find, create)
