"""A Lightning fit on 2 CPU processes (gloo), run as a script by the tests.

Settings from the environment: STRATEGY (ddp, ddp_spawn, fsdp), MODE (autolog, callback,
logger), EPOCHS (3), CKPT_DIR (save checkpoints there), RESUME (a checkpoint to resume from),
PER_RANK (1: per-rank series). Each rank writes $JOB_OUT/lrank<N>-<pid>.json with the run it
saw as active; rank 1 also logs `rank_seen` itself.
"""

from __future__ import annotations

import json
import os

import lightning.pytorch as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import flightlog


class Regressor(pl.LightningModule):
    def __init__(self, hidden: int = 8, lr: float = 0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False, sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.mse_loss(self(x), y), sync_dist=True)

    def on_train_end(self):
        rank = self.trainer.global_rank
        if rank == 1:
            flightlog.log_metric("rank_seen", 1.0)
        active = flightlog.active_run()
        record = {"rank": rank, "active_run_id": active.info.run_id if active else None}
        path = os.path.join(os.environ["JOB_OUT"], f"lrank{rank}-{os.getpid()}.json")
        with open(path, "w") as f:
            json.dump(record, f)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loaders():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    y = x.sum(dim=1, keepdim=True)
    train = DataLoader(TensorDataset(x[:48], y[:48]), batch_size=8)
    val = DataLoader(TensorDataset(x[48:], y[48:]), batch_size=8)
    return train, val


def main() -> None:
    mode = os.environ.get("MODE", "autolog")
    per_rank = os.environ.get("PER_RANK") == "1"
    callbacks, logger = [], False
    if mode == "autolog":
        flightlog.autolog(log_models=False, log_every_rank=per_rank)
    elif mode == "callback":
        callbacks.append(flightlog.lightning.FlightlogCallback(log_models=False))
    elif mode == "logger":
        logger = flightlog.lightning.FlightlogLogger(log_models=False)
    ckpt_dir = os.environ.get("CKPT_DIR")
    if ckpt_dir:
        callbacks.append(pl.callbacks.ModelCheckpoint(dirpath=ckpt_dir, save_last=True))
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=2,
        strategy=os.environ.get("STRATEGY", "ddp"),
        max_epochs=int(os.environ.get("EPOCHS", "3")),
        logger=logger,
        callbacks=callbacks,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=bool(ckpt_dir),
        num_sanity_val_steps=0,
    )
    train, val = loaders()
    torch.manual_seed(0)
    trainer.fit(Regressor(), train, val, ckpt_path=os.environ.get("RESUME") or None)


if __name__ == "__main__":
    main()
