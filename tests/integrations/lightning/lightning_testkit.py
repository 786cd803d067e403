"""A tiny Lightning classifier and Trainer settings the Lightning integration tests share.

`namespace` picks the package: "lightning.pytorch" (default) or "pytorch_lightning".
"""

from __future__ import annotations

import importlib

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def loaders(seed: int = 0, n: int = 96, batch_size: int = 16):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    y = (x[:, 0] - 0.5 * x[:, 2] > 0).long()
    split = n * 2 // 3
    train = DataLoader(TensorDataset(x[:split], y[:split]), batch_size=batch_size)
    val = DataLoader(TensorDataset(x[split:], y[split:]), batch_size=batch_size)
    return train, val


def precision(logits, y):
    predicted = logits.argmax(dim=1)
    true_positive = ((predicted == 1) & (y == 1)).sum().float()
    return true_positive / (predicted == 1).sum().clamp(min=1).float()


def classifier_class(namespace: str = "lightning.pytorch"):
    pl = importlib.import_module(namespace)

    class TinyClassifier(pl.LightningModule):
        def __init__(self, hidden: int = 8, lr: float = 0.05, schedule=None):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 2))
            self.loss = nn.CrossEntropyLoss()

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = self.loss(self(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            logits = self(x)
            self.log("val_loss", self.loss(logits, y))
            self.log("val_precision", precision(logits, y))
            if self.hparams.schedule is not None:
                self.log("val_score", float(self.hparams.schedule[self.current_epoch]))

        def test_step(self, batch, batch_idx):
            x, y = batch
            self.log("test_loss", self.loss(self(x), y))

        def configure_optimizers(self):
            optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
            return {"optimizer": optimizer, "lr_scheduler": scheduler}

    TinyClassifier.__qualname__ = TinyClassifier.__name__
    return TinyClassifier


TinyClassifier = classifier_class()


def trainer(tmp_path, namespace: str = "lightning.pytorch", **kwargs):
    pl = importlib.import_module(namespace)
    settings = dict(
        max_epochs=3,
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        default_root_dir=str(tmp_path / "lightning"),
        num_sanity_val_steps=0,
    )
    settings.update(kwargs)
    return pl.Trainer(**settings)


class_cache: dict[str, type] = {}


def spy_class(namespace: str = "lightning.pytorch"):
    """A callback that keeps what `trainer.callback_metrics` held at each epoch end."""
    if namespace in class_cache:
        return class_cache[namespace]
    pl = importlib.import_module(namespace)

    class MetricsSpy(pl.Callback):
        def __init__(self):
            self.held = {}

        def on_train_epoch_end(self, trainer, pl_module):
            self.held[trainer.current_epoch] = {
                k: float(v) for k, v in trainer.callback_metrics.items()
            }

    class_cache[namespace] = MetricsSpy
    return MetricsSpy


def history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]
