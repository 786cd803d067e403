"""A plain torch.distributed training job (gloo, CPU), run by torchrun in the tests.

Every rank: autolog on, a tiny DDP model, 3 epochs over a DataLoader with a DistributedSampler,
a validation pass, and its own `log_metric("rank_seen", rank)` (rank 1's lands in the job's
run). Each rank writes what it saw to $JOB_OUT/rank<N>-attempt<K>.json. With CRASH_RANK set, that
rank exits hard after CRASH_AFTER_EPOCHS epochs on the first attempt (an elastic restart
follows).
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

import flightlog


def init_group(attempt: int) -> None:
    """gloo over torchrun's agent store, one key prefix per attempt: this torch reuses the store
    across elastic restarts without a prefix, so a restarted gloo group would read the dead
    attempt's addresses (connection refused)."""
    from datetime import timedelta

    store = dist.TCPStore(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]),
        is_master=False,
        timeout=timedelta(seconds=300),
    )
    dist.init_process_group(
        "gloo",
        store=dist.PrefixStore(f"/job_attempt_{attempt}", store),
        rank=int(os.environ["RANK"]),
        world_size=int(os.environ["WORLD_SIZE"]),
    )


def wait_for_samples(n: int) -> None:
    import time

    from flightlog.system_metrics import sampler_stats

    deadline = time.monotonic() + 120
    while sampler_stats().get("samples_taken", 0) < n and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    out = os.environ["JOB_OUT"]
    epochs = int(os.environ.get("EPOCHS", "3"))
    attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    init_group(attempt)
    rank = dist.get_rank()
    system = os.environ.get("SYSTEM_METRICS") == "1"
    if system:
        flightlog.set_system_metrics_sampling_interval(1)
    flightlog.autolog(log_every_rank=os.environ.get("PER_RANK") == "1", log_system_metrics=system)

    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = x.sum(dim=1, keepdim=True)
    train = TensorDataset(x[:48], y[:48])
    val = TensorDataset(x[48:], y[48:])
    model = nn.parallel.DistributedDataParallel(nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    loss_fn = nn.MSELoss()
    sampler = DistributedSampler(train, shuffle=False)
    loader = DataLoader(train, batch_size=8, sampler=sampler)
    val_loader = DataLoader(val, batch_size=8)
    crash_rank = os.environ.get("CRASH_RANK")
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        with torch.no_grad():
            for xb, yb in val_loader:
                loss_fn(model(xb), yb)
        if (
            crash_rank is not None
            and attempt == 0
            and rank == int(crash_rank)
            and epoch + 1 == int(os.environ.get("CRASH_AFTER_EPOCHS", "1"))
        ):
            flightlog.flush()
            os._exit(3)  # a hard crash: torchrun restarts the whole worker group
        dist.barrier()
    flightlog.log_metric("rank_seen", float(rank), step=rank)
    if system and os.environ.get("LOCAL_RANK") == "0":
        wait_for_samples(2)
    active = flightlog.active_run()
    flightlog.flush()
    dist.barrier()
    record = {
        "rank": rank,
        "attempt": attempt,
        "active_run_id": active.info.run_id if active else None,
        "world_size": dist.get_world_size(),
        "node": os.environ.get("GROUP_RANK"),
    }
    with open(os.path.join(out, f"rank{rank}-attempt{attempt}.json"), "w") as f:
        json.dump(record, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
    sys.exit(0)
